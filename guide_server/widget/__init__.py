"""The widget customers embed: its script (``script``: sources in ``js/``, joined and minified) and
the routes that serve it and the /demo app (``routes``)."""
