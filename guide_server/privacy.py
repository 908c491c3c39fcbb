"""Privacy before storage: keyed pseudonyms for user ids, masking of personal data in free text,
and the two deletions CS staff run by hand (``guide purge``, ``guide forget-user``)."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

PSEUDONYM_CHARS = 32
ANON_PREFIX = "a-"  # identified pseudonyms are bare hex, so the two kinds never collide


# --- pseudonyms ----------------------------------------------------------------------------------

def pseudonym_key(config: Mapping[str, Any]) -> bytes:
    """PSEUDONYM_KEY, or a key derived from SECRET_KEY when it is not set."""
    key = config.get("PSEUDONYM_KEY")
    if key:
        return str(key).encode("utf-8")
    secret = str(config.get("SECRET_KEY") or "").encode("utf-8")
    return hmac.new(secret, b"guide pseudonym key v1", hashlib.sha256).digest()


def _key_of(app_or_secret) -> bytes:
    if isinstance(app_or_secret, bytes):
        return app_or_secret
    if isinstance(app_or_secret, str):
        return app_or_secret.encode("utf-8")
    config = getattr(app_or_secret, "config", app_or_secret)  # a Flask app or its config
    return pseudonym_key(config)


def pseudonymise(app_or_secret, site: str, user_id: str) -> str:
    """Keyed HMAC-SHA256 of ``site + "\\0" + user_id``, hex, first 32 characters: the same per site and key."""
    mac = hmac.new(_key_of(app_or_secret), f"{site}\0{user_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:PSEUDONYM_CHARS]


def pseudonymise_anon(app_or_secret, site: str, anon_id: str) -> str:
    """The pseudonym of a browser's anonymous id, prefixed ``a-`` so it never equals a signed-in user's."""
    mac = hmac.new(_key_of(app_or_secret), f"anon\0{site}\0{anon_id}".encode(), hashlib.sha256)
    return ANON_PREFIX + mac.hexdigest()[: PSEUDONYM_CHARS - len(ANON_PREFIX)]


def person(app_or_secret, site: str, user: str | None, anon: str | None = None) -> str | None:
    """The stored id of whoever sent a request: the signed-in user if named, else the anonymous browser."""
    if user:
        return pseudonymise(app_or_secret, site, user)
    if anon:
        return pseudonymise_anon(app_or_secret, site, anon)
    return None


# --- masking -------------------------------------------------------------------------------------

_DIGIT = "0-9０-９"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A run of digits that may hold separators as typed in Japan (hyphens, dashes, "ー", brackets)
# and single spaces; it is cut at the spaces and the pieces classified in _mask_run. Dots are
# not separators, so versions, prices and IP addresses stay as they are.
_SEP = r"\-‐‑‒–—―－ー()（）"
_RUN = re.compile(rf"(?<![{_DIGIT}A-Za-z+＋])[+＋]?[{_DIGIT}](?:[{_SEP}]{{0,2}} ?[{_DIGIT}])*(?![{_DIGIT}])")
_TO_ASCII = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def luhn_ok(digits: str) -> bool:
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch)
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _classify(piece: str) -> str | None:
    """What a run of digits with separators is, or None when it is none of the masked kinds."""
    plain = piece.translate(_TO_ASCII)
    digits = re.sub(r"\D", "", plain)
    international = plain.startswith("+")
    if international and 8 <= len(digits) <= 15:
        return "[phone]"
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return "[card]"
    if len(digits) == 12:
        return "[my-number]"
    if digits.startswith("0") and len(digits) in (10, 11):
        return "[phone]"
    return None


def _mask_run(match: re.Match) -> str:
    # From each space-separated piece, the longest span of pieces that is a known kind wins, so
    # "090-1234-5678 03-1234-5678" is two phones and "4111 1111 1111 1111" one card.
    pieces = match.group(0).split(" ")
    out, i = [], 0
    while i < len(pieces):
        for j in range(len(pieces), i, -1):
            label = _classify(" ".join(pieces[i:j]))
            if label:
                out.append(label)
                break
        else:
            j = i + 1
            out.append(pieces[i])
        i = j
    return " ".join(out)


def mask(text: str | None) -> str | None:
    """Replace e-mail addresses, phone numbers, Luhn-valid card numbers and 12-digit numbers with a label."""
    if not text:
        return text
    text = _EMAIL.sub("[email]", text)
    return _RUN.sub(_mask_run, text)


# --- deletion ------------------------------------------------------------------------------------

def _tables():
    from . import events, progress, store, surveys  # every table that holds a user's data

    return events, progress, store, surveys


def purge(engine: Engine, older_than_s: float, now: float | None = None) -> dict[str, int]:
    """Delete events, questions (with their feedback), feedback and tour reports older than the cutoff."""
    events, progress, store, _ = _tables()
    cutoff = (time.time() if now is None else now) - older_than_s
    counts = {}
    with engine.begin() as conn:
        old_questions = select(store.questions.c.id).where(store.questions.c.created_at < cutoff)
        counts["feedback"] = conn.execute(delete(store.feedback).where(
            (store.feedback.c.created_at < cutoff) | store.feedback.c.question_id.in_(old_questions))).rowcount
        counts["questions"] = conn.execute(delete(store.questions).where(store.questions.c.created_at < cutoff)).rowcount
        counts["events"] = conn.execute(delete(events.events).where(events.events.c.received_at < cutoff)).rowcount
        counts["tour_events"] = conn.execute(delete(progress.tour_events).where(
            progress.tour_events.c.created_at < cutoff)).rowcount
    return counts


def forget(engine: Engine, site: str, stored_id: str) -> dict[str, int]:
    """Delete every row of one person (by stored pseudonym) on one site; returns counts per table."""
    events, progress, store, surveys = _tables()
    counts = {}
    with engine.begin() as conn:
        theirs = select(store.questions.c.id).where(store.questions.c.site == site, store.questions.c.user_id == stored_id)
        counts["feedback"] = conn.execute(delete(store.feedback).where(store.feedback.c.question_id.in_(theirs))).rowcount
        for name, table in (("questions", store.questions), ("events", events.events),
                            ("tour_progress", progress.tour_progress), ("user_traits", progress.user_traits),
                            ("checklist_tasks", progress.checklist_tasks), ("tour_events", progress.tour_events),
                            ("people", surveys.people), ("survey_state", surveys.survey_state)):
            counts[name] = conn.execute(delete(table).where(table.c.site == site, table.c.user_id == stored_id)).rowcount
    return counts


_DURATION = re.compile(r"^\s*(\d+)\s*([dw])\s*$", re.I)


def parse_age(value: str) -> float:
    """``"180d"`` or ``"26w"`` -> seconds; at least one day."""
    m = _DURATION.match(value or "")
    if not m:
        raise ValueError(f"expected an age like 180d or 26w, got {value!r}")
    days = int(m.group(1)) * (7 if m.group(2).lower() == "w" else 1)
    if days < 1:
        raise ValueError(f"the age must be at least 1 day, like 180d; got {value!r}")
    return days * 86400.0
