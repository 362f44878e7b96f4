"""Shared plumbing of the hook: settings, errors, HTTP edges, logs and the app object."""
