"""Running the service in production: gunicorn's worker and settings, health, logs and metrics."""
