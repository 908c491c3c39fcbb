"""Broken content in one list, for ``/api/v1/health`` and the desk's banner: the errors of the last
FAQ build (``search.problems``) and those of the tour and survey files the server reads
(``content.live``: each broken file is served in its last good version, or not at all)."""

from __future__ import annotations

from ..search.problems import read_problems
from .context import live_index, services


def content_problems() -> list[dict]:
    """Every content error now: ``{file, line, message}``, FAQs first, then tours, then surveys."""
    found = read_problems(live_index().index_dir)
    for folder in (services().tours, services().surveys):
        found += [{"file": e.path, "line": e.line, "message": e.message} for e in folder.problems]
    return found
