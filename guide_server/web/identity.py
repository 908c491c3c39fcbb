"""Who a widget request is about, as each site's identity mode allows.

A request may name a signed-in user of the host app (``user``). Each site says how far that name
is believed (``identity`` in its SITES entry; docs/embed.md, "Identity verification"):

- ``verified`` (the default for a site with ``identity_secrets``): a request naming a user carries a
  token the host app's server signed, a JWT with HS256 (``sub``: the user id; optional ``exp``,
  ``nbf``, ``aud``: the site key, and ``traits``: the traits targeting may trust). Without a valid
  token the request is refused (401). Traits the browser sends unsigned are not stored: only the
  token's traits target tours.
- ``anonymous`` (the default for a site without secrets): no user ids at all (403); the widget
  uses its random browser id, and nothing is remembered on the server for it.
- ``open``: user ids are believed as sent, traits too. Anyone who can read embed.js can then act
  as any user: for a trusted network or a trial, never a public app. The server warns at start-up.

Two secrets may be valid at once, so a site can change its secret without a moment when its
users' tokens fail: add the new one, move the host app to it, remove the old one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets as random_secrets
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request

from . import inputs
from .errors import ApiError

MAX_TOKEN = 8192
LEEWAY = 60  # seconds of clock difference forgiven on exp and nbf
TOKEN_HEADER = "X-Guide-Token"


@dataclass
class Person:
    """Who a request is about: a user the site vouches for, or nobody (anonymous)."""

    user: str | None = None
    traits: dict[str, Any] | None = None  # traits signed in the token (verified), else None
    trusted: bool = False  # the user id was checked (verified), or the site believes any (open)
    claims: dict[str, Any] = field(default_factory=dict)


def site_mode(site: dict) -> str:
    """verified, anonymous or open (settings.validate_sites has checked it)."""
    return site["identity"]


def new_secret() -> str:
    return random_secrets.token_urlsafe(32)


# --- the token -----------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def sign(claims: dict, secret: str) -> str:
    """A JWT (HS256) of ``claims``: what a host app's server makes (docs/embed.md has it in Python,
    Node, Ruby and PHP); here for the demo, `guide sites token` and tests."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def verify(token: str, secrets: list[str], site_key: str, now: float | None = None) -> dict:
    """The claims of a token signed with one of ``secrets``, else ValueError saying why. Only
    HS256 is accepted: the header cannot choose another algorithm (nor "none")."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise ValueError(f"the token must be text of at most {MAX_TOKEN} characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("the token is not a JWT (three base64url parts)")
    try:
        header = json.loads(_unb64(parts[0]))
        mac = _unb64(parts[2])
    except ValueError:
        raise ValueError("the token is not a JWT (three base64url parts)") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise ValueError("the token must be signed with HS256")
    signed = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    if not any(hmac.compare_digest(hmac.new(s.encode(), signed, hashlib.sha256).digest(), mac) for s in secrets):
        raise ValueError("the token's signature does not match the site's identity secret")
    try:
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        raise ValueError("the token's claims are not JSON") from None
    if not isinstance(claims, dict):
        raise ValueError("the token's claims are not a JSON object")
    now = time.time() if now is None else now
    for name in ("exp", "nbf"):
        if name in claims and (not isinstance(claims[name], (int, float)) or isinstance(claims[name], bool)):
            raise ValueError(f"the token's {name} must be a number (seconds since 1970)")
    if "exp" in claims and now > claims["exp"] + LEEWAY:
        raise ValueError("the token has expired")
    if "nbf" in claims and now < claims["nbf"] - LEEWAY:
        raise ValueError("the token is not valid yet (nbf)")
    aud = claims.get("aud")
    if aud is not None and site_key not in ([aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []):
        raise ValueError(f"the token is for another site (aud), not {site_key!r}")
    return claims


# --- a request -----------------------------------------------------------------------------------

def token_of(payload: Any = None) -> str | None:
    """The token a request carries: ``token`` in its JSON body, or the X-Guide-Token header (GET)."""
    value = payload.get("token") if isinstance(payload, dict) else None
    return value or request.headers.get(TOKEN_HEADER) or None


def person(site_key: str, claimed: Any, token: str | None, field_name: str = "user") -> Person:
    """Who the request is about under the site's identity mode; ApiError when the site does not
    believe the claim. ``claimed`` is the user id the request names (None: anonymous)."""
    site = current_app.config["SITES"][site_key]
    mode = site_mode(site)
    user = inputs.person_id(claimed, field_name)
    if mode == "open":
        return Person(user, None, user is not None)
    if mode == "anonymous":
        if user is not None or token:
            raise ApiError(f"site {site_key!r} takes anonymous visitors only: send no '{field_name}' "
                           "(docs/embed.md, \"Identity verification\")", 403, "anonymous_only")
        return Person()
    if not token:
        if user is None:
            return Person()
        raise ApiError(f"site {site_key!r} verifies its users: a request naming a user needs the token "
                       "the host app signed for them ('token', or the X-Guide-Token header)", 401, "missing_user_token")
    try:
        claims = verify(token, site["identity_secrets"], site_key)
    except ValueError as exc:
        raise ApiError(f"invalid user token: {exc}", 401, "invalid_user_token") from None
    sub = inputs.person_id(claims.get("sub"), "sub") if claims.get("sub") not in (None, "") else None
    if sub is None:
        raise ApiError("invalid user token: it names no user ('sub')", 401, "invalid_user_token")
    if user is not None and user != sub:
        raise ApiError(f"'{field_name}' is not the user the token was signed for", 403, "user_token_mismatch")
    traits = inputs.traits(claims["traits"], "traits (in the token)") if isinstance(claims.get("traits"), dict) else None
    return Person(sub, traits, True, claims)
