"""guide: in-product guidance and a help chatbot, as one Flask service.

``create_app`` assembles the service from its parts; docs/architecture.md maps the folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: defaults, then instance/guide.toml, then GUIDE_* variables; ``test_config``,
    when given, takes the place of the file and the variables."""
    from flask import Flask  # here, not at the top: `index_builder.py` and the CLI start without Flask

    from . import desk
    from .chat import help, routes, ws
    from .config import instance_path, load_config, models_of, weights_of
    from .db.engine import connect
    from .events import routes as event_routes
    from .guidance import routes as guidance_routes
    from .guidance.library import SurveyLibrary, TourLibrary
    from .ops import health, logs, requests
    from .ops import metrics as metrics_page
    from .privacy import pseudonym_key
    from .search.engine import parse_weights
    from .search.live import LiveIndex
    from .web import errors, headers, limits, openapi, sites
    from .web.context import Services
    from .widget import routes as widget_routes
    from .widget.script import WidgetScript

    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True, static_folder=None)
    app.config.update(load_config(app.instance_path, test_config))
    cfg = app.config
    if cfg["LOG_FORMAT"]:
        logs.configure(cfg["LOG_FORMAT"])
    if cfg["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = cfg["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    errors.register(app)
    headers.register(app)  # nosniff, Referrer-Policy, HSTS; CSP and no framing on /admin and /help
    sites.register(app)
    requests.register(app)
    limits.register(app)  # after the request log's hook: a 429 is logged and counted too
    for bp in (routes.bp, help.bp, guidance_routes.bp, event_routes.bp, widget_routes.bp, health.bp, metrics_page.bp, ws.bp):
        app.register_blueprint(bp)
    desk.init_app(app)  # /admin and /api/v1/admin/
    openapi.register(app)  # /api/v1/openapi.json; unknown body fields refused, as the document says
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": 25, "max_message_size": 4 * cfg["MAX_WS_MESSAGE_BYTES"]})
    ws.sock.init_app(app)
    ws.register_metrics()

    content = Path(cfg["CONTENT_DIR"])
    engine = connect(cfg["DATABASE_URL"], timeout=cfg["DATABASE_TIMEOUT"])
    services = Services(
        db=engine,
        index=LiveIndex(Path(cfg["INDEX_DIR"]), models_of(cfg),
                        {loc: parse_weights(w) for loc, w in weights_of(cfg).items()},
                        cfg["DEFAULT_LOCALE"], cfg["RELOAD_INTERVAL"], fitted=cfg["CALIBRATION"] == "auto"),
        tours=TourLibrary(content / "tours", engine),
        surveys=SurveyLibrary(content / "surveys"),
        widget=WidgetScript(),
        pseudonym_key=pseudonym_key(cfg),
    )
    services.install(app)
    _index_metrics(services.index)
    # Read now, not on the first request: content errors show at start-up, and each gunicorn
    # worker has its index loaded before it accepts a connection.
    services.tours.current()  # also checks and records the tour versions (guidance.versions)
    services.surveys.current()
    services.index.load()
    engine.dispose()  # the connection start-up used is not kept open in a process that may never query again
    return app


def _index_metrics(live) -> None:
    """The live index's counts as figures of /metrics."""
    from . import metrics

    metrics.gauge("guide_index_reloads_total", lambda: live.status()["reloads"])
    metrics.gauge("guide_index_load_failures_total", lambda: live.status()["failed_loads"])
    metrics.gauge("guide_index_build_info", lambda: {(("build", live.build_name),): 1.0} if live.build_name else {})
