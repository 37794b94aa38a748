"""The outside world: the HTTP API, the management CLI, settings and the composition root."""
