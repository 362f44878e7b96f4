"""Tools deploy.sh runs with the project's Python; never uploaded with the function."""
