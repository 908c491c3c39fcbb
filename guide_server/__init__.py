"""guide: in-product guidance and a help chatbot, as one Flask service."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import settings

if TYPE_CHECKING:
    from flask import Flask

REPO_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: defaults, then instance/guide.toml, then GUIDE_* variables; ``test_config``,
    when given, takes the place of the file and the variables."""
    from flask import Flask  # here, not at the top: `index_builder.py` and the CLI start without Flask

    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True)
    app.config.update(load_config(app.instance_path, test_config))

    from . import api, embed, errors, sites, tours_api, ws
    from .live import LiveIndex
    from .search import parse_weights
    from .store import connect

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    errors.register(app)
    sites.register(app)
    _server_timing(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(embed.bp)  # /embed.js and the /demo app
    tours_api.init_app(app)  # before connect(): its tables join store.metadata on import
    from . import admin
    admin.init_app(app)  # the review desk (/admin, /api/v1/admin/); its tables too, before connect()
    from . import events
    events.init_app(app)  # POST /api/v1/events and content/surveys; its tables too, before connect()
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": 25, "max_message_size": 4 * app.config["MAX_WS_MESSAGE_BYTES"]})
    ws.sock.init_app(app)

    app.extensions["guide.db"] = connect(app.config["DATABASE_URL"])
    app.extensions["guide.index"] = LiveIndex(
        Path(app.config["INDEX_DIR"]), models_of(app.config),
        {loc: parse_weights(app.config[f"FUSION_{loc.upper()}"]) for loc in ("ja", "en")},
        app.config["DEFAULT_LOCALE"], app.config["RELOAD_INTERVAL"])
    # Load now, not on the first request: each gunicorn worker is ready before it accepts.
    app.extensions["guide.index"].load()
    return app


def _server_timing(app: Flask) -> None:
    """Every response says how long the app spent on it (``Server-Timing: app;dur=ms``)."""
    from flask import g

    @app.before_request
    def _start():
        g.guide_started = time.perf_counter()

    @app.after_request
    def _stop(response):
        started = g.get("guide_started")
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response


def instance_path() -> str:
    """The instance folder: ``GUIDE_INSTANCE_PATH``, else ``instance/`` in a checkout of the
    repository, else ``<prefix>/var/guide_server-instance`` for an installed package (where
    Flask would put it)."""
    if os.environ.get("GUIDE_INSTANCE_PATH"):
        return os.path.abspath(os.environ["GUIDE_INSTANCE_PATH"])
    if (REPO_ROOT / "pyproject.toml").is_file():
        return str(REPO_ROOT / "instance")
    return os.path.join(sys.prefix, "var", f"{__name__}-instance")


def load_config(folder: str, test_config: dict | None = None) -> dict:
    """Settings as the server sees them: defaults, then ``guide.toml`` in the instance folder,
    then ``GUIDE_*`` variables (or ``test_config`` instead of those two); checked, with the
    defaults that depend on the folder filled in. The command line reads them here too,
    without starting Flask."""
    cfg = settings.defaults()
    if test_config is None:
        cfg.update(settings.from_file(os.path.join(folder, settings.CONFIG_FILE)))
        cfg.update(settings.from_env())
    else:
        cfg.update(test_config)
    configure(cfg, folder)
    return cfg


def configure(cfg, folder: str) -> None:
    """Fill in defaults that depend on the instance folder and check the values."""
    os.makedirs(folder, exist_ok=True)
    cfg["CONTENT_DIR"] = cfg["CONTENT_DIR"] or str(REPO_ROOT / "content")
    cfg["INDEX_DIR"] = cfg["INDEX_DIR"] or os.path.join(folder, "index")
    cfg["DATABASE_URL"] = cfg["DATABASE_URL"] or "sqlite:///" + os.path.join(folder, "guide.db")
    cfg["SITES"] = settings.validate_sites(cfg["SITES"])
    for s in settings.SETTINGS:
        if isinstance(s.default, (int, float)) and not isinstance(s.default, bool):
            cfg[s.name] = type(s.default)(cfg[s.name])
    for name in ("SUGGEST_THRESHOLD", "ANSWER_THRESHOLD"):
        if not 0 <= cfg[name] <= 1:
            raise ValueError(f"{name} must be between 0 and 1")
    if cfg["TRUSTED_PROXIES"] < 0:
        raise ValueError("TRUSTED_PROXIES must be 0 or more")


def models_of(config) -> dict[str, str]:
    return {"ja": config["MODEL_JA"], "en": config["MODEL_EN"]}
