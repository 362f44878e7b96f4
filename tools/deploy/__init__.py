"""The deploy: `./deploy.sh` runs `python -m tools.deploy`, which checks, deploys and reports."""
