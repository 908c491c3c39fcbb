"""The web layer's tests: input rules across every endpoint, the error shape, sites and CORS.
They use the root fixtures (``app``, ``client``, ``live_server``)."""
