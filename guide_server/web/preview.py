"""Preview tokens: what lets an editor's browser see one tour, hint or checklist (drafts included)
on the customer's real page, whatever its targeting, for an hour.

The desk signs one (``/admin/preview``) for one item, one site and the desk account that asked,
with the app's SECRET_KEY (itsdangerous, HMAC-SHA256, salt ``guide-preview``); the widget sends it
back to ``GET /api/v1/preview/<id>``. The link the desk redirects to carries
``guide_preview=<id>.<token>``: the token itself is ``<payload>.<signature>`` (a payload that
itsdangerous compressed starts with one more ``.``), so the id is what comes before it.
"""

from __future__ import annotations

import hashlib
import re
import time

from itsdangerous import BadSignature, URLSafeSerializer

from .errors import ApiError

TTL = 3600  # seconds a preview link works
SALT = "guide-preview"
PARAM = "guide_preview"  # the query parameter of the page's URL (docs/tours.md)
MAX_TOKEN = 2000
# <id>.<token>: the token is the last two dot-free pieces, the first possibly led by a '.'
LINK_VALUE = re.compile(r"^(.+?)\.(\.?[\w-]+\.[\w-]+)$")


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def sign(secret: str, item: str, site: str, user: str, ttl: int = TTL, now: float | None = None) -> str:
    """A token for previewing ``item`` on ``site``, asked by the desk account ``user``, valid ``ttl`` s."""
    exp = int((time.time() if now is None else now) + ttl)
    return _serializer(secret).dumps({"tour": item, "site": site, "user": user, "exp": exp})


def check(secret: str, token: str | None, item: str, site: str, now: float | None = None) -> dict:
    """The token's claims when it is genuine, unexpired and names ``item`` on ``site``; else an
    ApiError: 401 when it is missing, not ours (tampered) or expired, 403 when it is for another item or site."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise ApiError("'token' is required: a preview token from the review desk (/admin/tours)", 401,
                       "missing_preview_token")
    try:
        claims = _serializer(secret).loads(token)
    except BadSignature:
        raise ApiError("the preview token is not valid: open the preview again from the review desk", 401,
                       "invalid_preview_token") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise ApiError("the preview token is not valid", 401, "invalid_preview_token")
    if claims["exp"] < (time.time() if now is None else now):
        raise ApiError("the preview token has expired (it works for an hour): open the preview again from the "
                       "review desk", 401, "preview_expired")
    if claims.get("tour") != item or claims.get("site") != site:
        raise ApiError("this preview token is for another tour or site", 403, "preview_mismatch")
    return claims


def link_value(item: str, token: str) -> str:
    """What ``guide_preview=`` carries."""
    return f"{item}.{token}"


def parse_link_value(value: str) -> tuple[str, str] | None:
    """``(item, token)`` from a ``guide_preview=`` value, or None."""
    m = LINK_VALUE.match(value or "")
    return (m.group(1), m.group(2)) if m else None
