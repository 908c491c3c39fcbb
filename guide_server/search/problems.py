"""FAQ content errors between a build and the server: which files a watched build held back, and
the errors of the last build, written beside the builds for ``/api/v1/health`` and the desk.

A build with ``hold_back`` (``index_builder.py --watch``) publishes every FAQ that is fine and
holds back only the broken files: each keeps its last published version, or is left out if it
never had one (``publishable``). A plain build still fails as a whole.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from ..content.live import settle
from ..content.rules import ContentError
from .faq import check_collection

PROBLEMS_FILE = "content-errors.json"
PREFIX = "faq/"  # how health and the desk name FAQ files, as tours/ and surveys/ name theirs


def publishable(faqs: list, errors: list[ContentError], fresh: set[str],
                published: dict) -> tuple[list, list[ContentError], set[str]]:
    """(what to publish, every error, the files held back in their published version).

    ``faqs`` parsed (``errors``: those that did not), ``fresh`` the paths parsed anew, ``published``
    the last build's files by hash (``_Known`` stand-ins, or records)."""
    good = {f.path: f for f in published.values()}
    candidate = {f.path: f for f in faqs}
    for exc in errors:
        if exc.path in good:
            candidate[exc.path] = good[exc.path]
    errors = errors + settle(candidate, good, fresh, check_collection, "")
    blamed = {e.path for e in errors}
    held = {path for path, f in candidate.items() if path in blamed and f is good.get(path)}
    return [candidate[path] for path in sorted(candidate)], errors, held


def record_problems(index_dir: Path, errors: list[ContentError], held: set[str]) -> None:
    """Write the build's errors (none: an empty list) where ``read_problems`` finds them."""
    body = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
            "errors": [{"file": PREFIX + e.path, "line": e.line, "message": e.message} for e in errors],
            "held_back": sorted(PREFIX + path for path in held)}
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{PROBLEMS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / PROBLEMS_FILE)


def read_problems(index_dir: Path) -> list[dict]:
    """The errors of the last build (``{file, line, message}``); none when no build wrote any."""
    try:
        body = json.loads((index_dir / PROBLEMS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
