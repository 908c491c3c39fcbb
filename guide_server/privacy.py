"""Privacy before storage: keyed pseudonyms for user ids, and masking of personal data in free text.

Both run before anything is written; the deletions CS staff run by hand are in ``db.retention``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

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


def pseudonymise(key: bytes, site: str, user_id: str) -> str:
    """Keyed HMAC-SHA256 of ``site + "\\0" + user_id``, hex, first 32 characters: the same per site and key."""
    mac = hmac.new(key, f"{site}\0{user_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:PSEUDONYM_CHARS]


def pseudonymise_anon(key: bytes, site: str, anon_id: str) -> str:
    """The pseudonym of a browser's anonymous id, prefixed ``a-`` so it never equals a signed-in user's."""
    mac = hmac.new(key, f"anon\0{site}\0{anon_id}".encode(), hashlib.sha256)
    return ANON_PREFIX + mac.hexdigest()[: PSEUDONYM_CHARS - len(ANON_PREFIX)]


def person(key: bytes, site: str, user: str | None, anon: str | None = None) -> str | None:
    """The stored id of whoever sent a request: the signed-in user if named, else the anonymous browser."""
    if user:
        return pseudonymise(key, site, user)
    if anon:
        return pseudonymise_anon(key, site, anon)
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
