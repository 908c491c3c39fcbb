"""What every kind of content shares: its locales, its ids, who may see it, and how a file is blamed."""

from __future__ import annotations

import re
from collections.abc import Sequence

LOCALES = ("ja", "en")
# Ids of tours, steps, tasks, checklists and surveys (FAQ ids are derived from paths: see search.faq).
ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


class ContentError(Exception):
    """A problem in one content file, pointing at its line."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def visible_to(sites: Sequence[str] | None, site: str | None) -> bool:
    """Whether an item with this ``sites:`` list (FAQ, tour, checklist, survey) may be shown to
    ``site``: an item without one is for every site, one with a list only for those sites."""
    return sites is None or site in sites


def decode(raw: bytes, path: str) -> str:
    """A content file's text (UTF-8, a byte-order mark allowed), or the ContentError that says it is not."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(path, 1, f"not UTF-8 text ({exc.reason})") from None
