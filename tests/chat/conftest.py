"""The chat's HTTP API and WebSocket against the sample help center (``app``, ``client`` and
``live_server`` in the root conftest)."""
