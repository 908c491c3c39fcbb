"""Who may use the review desk: admin accounts, their sessions, lock-out, and API tokens.

Passwords are hashed with argon2id. A browser session is a random id kept in the signed Flask
session cookie and, hashed, in ``admin_sessions``: logging out deletes the row, so a copied
cookie stops working too. API tokens are random 256-bit strings stored as SHA-256 hashes (they
are not guessable, so a slow hash would add nothing).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..db.schema import ADMIN_NAME_CHARS, admin_lockouts, admin_login_failures, admin_sessions, admin_tokens, admin_users

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


@dataclass(frozen=True)
class Admin:
    id: int
    name: str


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

def create_admin(engine: Engine, name: str, password: str, reset: bool = False) -> Admin:
    """Create an account (or, with ``reset``, set a new password on an existing one)."""
    name = normalise_name(name)
    if not name or len(name) > MAX_NAME or any(c.isspace() for c in name):
        raise AdminError(f"the account name must be 1 to {MAX_NAME} characters without spaces")
    check_password_rules(password)
    digest = _hasher.hash(password)
    with engine.begin() as conn:
        row = conn.execute(select(admin_users.c.id).where(admin_users.c.name == name)).first()
        if row is not None:
            if not reset:
                raise AdminError(f"an admin named {name!r} exists already (use --reset-password to change its password)")
            conn.execute(update(admin_users).where(admin_users.c.id == row.id).values(password_hash=digest))
            conn.execute(delete(admin_sessions).where(admin_sessions.c.admin_id == row.id))  # sign out everywhere
            return Admin(row.id, name)
        if reset:
            raise AdminError(f"no admin named {name!r}")
        try:
            result = conn.execute(insert(admin_users).values(name=name, password_hash=digest, created_at=time.time()))
        except IntegrityError:  # created by someone else between the select and the insert
            raise AdminError(f"an admin named {name!r} exists already") from None
        return Admin(int(result.inserted_primary_key[0]), name)


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
    return Admin(row.id, row.name)


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
            select(admin_users.c.id, admin_users.c.name)
            .join(admin_sessions, admin_sessions.c.admin_id == admin_users.c.id)
            .where(admin_sessions.c.id_hash == _sha256(sid), admin_sessions.c.expires_at > time.time())).first()
    return Admin(row.id, row.name) if row else None


def end_session(engine: Engine, sid: str | None) -> None:
    if sid and isinstance(sid, str):
        with engine.begin() as conn:
            conn.execute(delete(admin_sessions).where(admin_sessions.c.id_hash == _sha256(sid)))


# --- API tokens ----------------------------------------------------------------------------------

def create_token(engine: Engine, name: str) -> str:
    """A new API token named ``name``; returned once, stored only as its hash."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise AdminError(f"the token name must be 1 to {MAX_NAME} characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            conn.execute(insert(admin_tokens).values(name=name, token_hash=_sha256(token), created_at=time.time()))
    except IntegrityError:
        raise AdminError(f"a token named {name!r} exists already (revoke it first: guide revoke-admin-token {name})") from None
    return token


def revoke_token(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        return conn.execute(delete(admin_tokens).where(admin_tokens.c.name == name.strip())).rowcount > 0


def token_name(engine: Engine, token: str) -> str | None:
    """The name of a valid token, or None; notes when it was last used (at most once a minute)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _sha256(token)
    now = time.time()
    with engine.connect() as conn:
        row = conn.execute(select(admin_tokens.c.name, admin_tokens.c.last_used_at)
                           .where(admin_tokens.c.token_hash == digest)).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > 60:
        with engine.begin() as conn:
            conn.execute(update(admin_tokens).where(admin_tokens.c.token_hash == digest).values(last_used_at=now))
    return row.name
