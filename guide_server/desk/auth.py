"""Who may use the review desk: admin accounts, their sessions, lock-out, and API tokens.

Passwords are hashed with argon2id. A browser session is a random id kept in the signed Flask
session cookie and, hashed, in ``admin_sessions``: logging out deletes the row, so a copied
cookie stops working too. API tokens are random 256-bit strings stored as SHA-256 hashes (they
are not guessable, so a slow hash would add nothing). What each account or token may do, and on
which sites, is ``roles``; every lookup here reads it afresh, so a change applies at the next request.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass
from types import EllipsisType

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..db.schema import ADMIN_NAME_CHARS, admin_lockouts, admin_login_failures, admin_sessions, admin_tokens, admin_users
from .roles import Access, ScopeError, check_scope, format_sites, parse_sites

DEFAULT_SECRET = "dev"  # SECRET_KEY's default (settings.py): fine on a laptop, never in production
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work one request can cause
MAX_NAME = ADMIN_NAME_CHARS
TOKEN_PREFIX = "gdt_"

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so a wrong name costs as long as a wrong password."""
    return _hasher.hash(secrets.token_hex(16))


class AdminError(ValueError):
    """A request about admin accounts or tokens that cannot be carried out (name taken, weak password...)."""


def default_secret_problem(config) -> str | None:
    """Why ``config``'s SECRET_KEY must not serve production, or None: the default signs session
    cookies that anyone who has read the source can forge."""
    if str(config.get("SECRET_KEY") or "") not in ("", DEFAULT_SECRET):
        return None
    return ("SECRET_KEY is the default 'dev': anyone could forge a review-desk session. Set GUIDE_SECRET_KEY "
            "(or secret_key in instance/guide.toml) to a long random value, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'. While PSEUDONYM_KEY is unset, "
            "stored user ids are keyed by SECRET_KEY: see docs/settings.md before changing it on a server with data")


@dataclass(frozen=True)
class Admin:
    id: int
    name: str
    role: str = "admin"
    sites: frozenset[str] | None = None  # None: every site

    def access(self) -> Access:
        return Access(self.name, "account", self.role, self.sites)


def _admin(row) -> Admin:
    return Admin(row.id, row.name, row.role, parse_sites(row.sites))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_name(name: str) -> str:
    return name.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AdminError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AdminError(f"the password must have at most {MAX_PASSWORD} characters")


# --- accounts ------------------------------------------------------------------------------------

def _scope(role: str, sites: frozenset[str] | None) -> None:
    try:
        check_scope(role, sites)
    except ScopeError as exc:
        raise AdminError(str(exc)) from None


def create_admin(engine: Engine, name: str, password: str, reset: bool = False, role: str = "admin",
                 sites: frozenset[str] | None = None) -> Admin:
    """Create an account with a role and its sites (None: every site), or, with ``reset``, set a new
    password on an existing one (its role and sites stay)."""
    name = normalise_name(name)
    if not name or len(name) > MAX_NAME or any(c.isspace() for c in name):
        raise AdminError(f"the account name must be 1 to {MAX_NAME} characters without spaces")
    check_password_rules(password)
    _scope(role, sites)
    digest = _hasher.hash(password)
    with engine.begin() as conn:
        row = conn.execute(select(admin_users).where(admin_users.c.name == name)).first()
        if row is not None:
            if not reset:
                raise AdminError(f"an admin named {name!r} exists already (use --reset-password to change its password)")
            conn.execute(update(admin_users).where(admin_users.c.id == row.id).values(password_hash=digest))
            conn.execute(delete(admin_sessions).where(admin_sessions.c.admin_id == row.id))  # sign out everywhere
            return _admin(row)
        if reset:
            raise AdminError(f"no admin named {name!r}")
        try:
            result = conn.execute(insert(admin_users).values(name=name, password_hash=digest, created_at=time.time(),
                                                             role=role, sites=format_sites(sites)))
        except IntegrityError:  # created by someone else between the select and the insert
            raise AdminError(f"an admin named {name!r} exists already") from None
        return Admin(int(result.inserted_primary_key[0]), name, role, sites)


def admin_rows(engine: Engine) -> list[dict]:
    """Every account as the desk's accounts page and ``guide admins list`` show it."""
    with engine.connect() as conn:
        rows = conn.execute(select(admin_users.c.name, admin_users.c.role, admin_users.c.sites,
                                   admin_users.c.created_at, admin_users.c.last_login_at)
                            .order_by(admin_users.c.name)).all()
    return [row._asdict() for row in rows]


def _other_admins(conn, name: str) -> int:
    return conn.execute(select(func.count()).select_from(admin_users).where(
        admin_users.c.role == "admin", admin_users.c.name != name)).scalar_one()


def set_role(engine: Engine, name: str, role: str, sites: frozenset[str] | None | EllipsisType = ...) -> Admin:
    """Give an account a role, and sites (left as they are when not given; an admin gets every site).
    The last admin keeps the role, so someone can always read the audit log."""
    name = normalise_name(name)
    with engine.begin() as conn:
        row = conn.execute(select(admin_users).where(admin_users.c.name == name)).first()
        if row is None:
            raise AdminError(f"no admin named {name!r}")
        if sites is ...:
            sites = None if role == "admin" else parse_sites(row.sites)
        _scope(role, sites)
        if row.role == "admin" and role != "admin" and not _other_admins(conn, name):
            raise AdminError(f"{name!r} is the last admin; make another account an admin first")
        conn.execute(update(admin_users).where(admin_users.c.id == row.id).values(role=role, sites=format_sites(sites)))
    return Admin(row.id, name, role, sites)


def remove_admin(engine: Engine, name: str) -> Admin:
    """Delete an account and sign it out everywhere; the last admin is kept."""
    name = normalise_name(name)
    with engine.begin() as conn:
        row = conn.execute(select(admin_users).where(admin_users.c.name == name)).first()
        if row is None:
            raise AdminError(f"no admin named {name!r}")
        if row.role == "admin" and not _other_admins(conn, name):
            raise AdminError(f"{name!r} is the last admin; make another account an admin first")
        conn.execute(delete(admin_sessions).where(admin_sessions.c.admin_id == row.id))
        conn.execute(delete(admin_users).where(admin_users.c.id == row.id))
    return _admin(row)


def verify_password(engine: Engine, name: str, password: str) -> Admin | None:
    """The admin if the name and password match; upgrades the hash when argon2's parameters changed."""
    name = normalise_name(name)
    with engine.connect() as conn:
        row = conn.execute(select(admin_users).where(admin_users.c.name == name)).first()
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    values = {"last_login_at": time.time()}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    with engine.begin() as conn:
        conn.execute(update(admin_users).where(admin_users.c.id == row.id).values(**values))
    return _admin(row)


# --- lock-out ------------------------------------------------------------------------------------

def locked_until(engine: Engine, account: str, ip: str) -> float | None:
    """When the lock on this account or address ends, if either is locked now."""
    now = time.time()
    keys = [("account", normalise_name(account)), ("ip", ip)]
    with engine.connect() as conn:
        until = conn.execute(select(func.max(admin_lockouts.c.until)).where(
            admin_lockouts.c.until > now,
            ((admin_lockouts.c.kind == keys[0][0]) & (admin_lockouts.c.key == keys[0][1]))
            | ((admin_lockouts.c.kind == keys[1][0]) & (admin_lockouts.c.key == keys[1][1])))).scalar()
    return until


def record_failure(engine: Engine, account: str, ip: str, max_failures: int, window_s: float) -> bool:
    """Count a failed login; lock the account and/or address when it reaches ``max_failures``. True if now locked."""
    now = time.time()
    locked = False
    with engine.begin() as conn:
        conn.execute(delete(admin_login_failures).where(admin_login_failures.c.at < now - window_s))
        for kind, key in (("account", normalise_name(account)[:200]), ("ip", ip[:200])):
            conn.execute(insert(admin_login_failures).values(kind=kind, key=key, at=now))
            count = conn.execute(select(func.count()).select_from(admin_login_failures).where(
                admin_login_failures.c.kind == kind, admin_login_failures.c.key == key)).scalar_one()
            if count >= max_failures:
                locked = True
                conn.execute(delete(admin_lockouts).where(admin_lockouts.c.kind == kind, admin_lockouts.c.key == key))
                conn.execute(insert(admin_lockouts).values(kind=kind, key=key, until=now + window_s))
                # the lock now stands for these failures; after it ends, counting starts afresh
                conn.execute(delete(admin_login_failures).where(admin_login_failures.c.kind == kind,
                                                                admin_login_failures.c.key == key))
    return locked


def clear_failures(engine: Engine, account: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(admin_login_failures).where(admin_login_failures.c.kind == "account",
                                                        admin_login_failures.c.key == normalise_name(account)))


# --- sessions ------------------------------------------------------------------------------------

def start_session(engine: Engine, admin: Admin, lifetime_s: float) -> str:
    """A new session id for ``admin`` (give it to the browser; only its hash is stored)."""
    sid = secrets.token_urlsafe(32)
    now = time.time()
    with engine.begin() as conn:
        conn.execute(delete(admin_sessions).where(admin_sessions.c.expires_at < now))
        conn.execute(insert(admin_sessions).values(id_hash=_sha256(sid), admin_id=admin.id, created_at=now,
                                                   expires_at=now + lifetime_s))
    return sid


def session_admin(engine: Engine, sid: str | None) -> Admin | None:
    if not sid or not isinstance(sid, str):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(admin_users.c.id, admin_users.c.name, admin_users.c.role, admin_users.c.sites)
            .join(admin_sessions, admin_sessions.c.admin_id == admin_users.c.id)
            .where(admin_sessions.c.id_hash == _sha256(sid), admin_sessions.c.expires_at > time.time())).first()
    return _admin(row) if row else None


def end_session(engine: Engine, sid: str | None) -> None:
    if sid and isinstance(sid, str):
        with engine.begin() as conn:
            conn.execute(delete(admin_sessions).where(admin_sessions.c.id_hash == _sha256(sid)))


# --- API tokens ----------------------------------------------------------------------------------

def create_token(engine: Engine, name: str, sites: frozenset[str] | None = None, write: bool = False) -> str:
    """A new API token named ``name`` for ``sites`` (None: every site), read-only unless ``write``;
    returned once, stored only as its hash."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise AdminError(f"the token name must be 1 to {MAX_NAME} characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            conn.execute(insert(admin_tokens).values(name=name, token_hash=_sha256(token), created_at=time.time(),
                                                     sites=format_sites(sites), can_write=bool(write)))
    except IntegrityError:
        raise AdminError(f"a token named {name!r} exists already (revoke it first: guide revoke-admin-token {name})") from None
    return token


def revoke_token(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        return conn.execute(delete(admin_tokens).where(admin_tokens.c.name == name.strip())).rowcount > 0


def token_rows(engine: Engine) -> list[dict]:
    """Every token (never its hash) as the desk's accounts page and ``guide admins list`` show it."""
    with engine.connect() as conn:
        rows = conn.execute(select(admin_tokens.c.name, admin_tokens.c.sites, admin_tokens.c.can_write,
                                   admin_tokens.c.created_at, admin_tokens.c.last_used_at)
                            .order_by(admin_tokens.c.name)).all()
    return [row._asdict() for row in rows]


def token_access(engine: Engine, token: str) -> Access | None:
    """What a valid token may do (a viewer of its sites, an editor with write), or None; notes
    when it was last used (at most once a minute)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _sha256(token)
    now = time.time()
    with engine.connect() as conn:
        row = conn.execute(select(admin_tokens.c.name, admin_tokens.c.last_used_at, admin_tokens.c.sites,
                                  admin_tokens.c.can_write).where(admin_tokens.c.token_hash == digest)).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > 60:
        with engine.begin() as conn:
            conn.execute(update(admin_tokens).where(admin_tokens.c.token_hash == digest).values(last_used_at=now))
    return Access(row.name, "token", "editor" if row.can_write else "viewer", parse_sites(row.sites))
