"""The desk's audit log: who did what, when, from where, on which site; kept in ``admin_audit``
and shown to admins at /admin/audit. No Flask here: the desk and the command line both write it."""

from __future__ import annotations

import json
import time

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from ..db.schema import ADMIN_NAME_CHARS, admin_audit

# Every action the log records, in the order the desk's filter lists them.
ACTIONS = (
    "login", "login_failed", "logout",  # the desk's sign-in form
    "export", "draft", "denied",  # CSV downloads, FAQ drafts, refusals (role or site)
    "preview",  # an editor's preview link to a customer's page (desk/preview.py)
    "teach",  # wordings added to an FAQ's questions from the desk (desk/teach.py)
    "find_user",  # the desk's user search (the pseudonym found, never the app's id)
    "token_used",  # a request to /api/v1/admin/ with a token
    "account_created", "password_reset", "account_changed", "account_removed",  # `guide create-admin`, `guide admins`
    "token_created", "token_revoked",  # `guide create-admin-token`, `revoke-admin-token`
)
ACTOR_KINDS = ("account", "token", "cli")
PAGE = 100  # entries a page of the log shows
_MAX_DETAIL = 2000


def record(engine: Engine, action: str, actor: str | None, kind: str, site: str | None = None,
           ip: str | None = None, **detail) -> None:
    """One entry; ``detail`` holds what else tells the action apart (a path, a file, a role)."""
    assert action in ACTIONS and kind in ACTOR_KINDS, (action, kind)
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)[:_MAX_DETAIL] if detail else None
    with engine.begin() as conn:
        conn.execute(insert(admin_audit).values(
            at=time.time(), action=action, actor=(actor or "")[:ADMIN_NAME_CHARS] or None, actor_kind=kind,
            site=(site or "")[:64] or None, ip=(ip or "")[:64] or None, detail=text))


def entries(engine: Engine, action: str | None = None, actor: str | None = None, before: int | None = None,
            limit: int = PAGE) -> list[dict]:
    """The newest entries first; ``before`` (an entry's id) pages back to older ones."""
    q = select(admin_audit).order_by(admin_audit.c.id.desc()).limit(limit)
    if action:
        q = q.where(admin_audit.c.action == action)
    if actor:
        q = q.where(admin_audit.c.actor == actor)
    if before is not None:
        q = q.where(admin_audit.c.id < before)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [{**row._asdict(), "detail": _detail(row.detail)} for row in rows]


def _detail(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:  # cut at _MAX_DETAIL
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}
