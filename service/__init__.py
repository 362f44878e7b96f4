"""The service as built once per instance: settings, the app, the HTTP edge and the audit line."""
