"""A folder of content files kept current while the server runs: tours and surveys are read this way.

Every ``current()`` compares the files' stamps (size, time, inode) with the last look and parses
only the files that changed. A file that fails to parse, or breaks a check across files, is
served in its last good version (or not at all if it never had one) while ``errors`` says what
is wrong, so an editor's typo never takes a tour off the site.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from .files import content_files, folder_stamps
from .rules import ContentError

log = logging.getLogger(__name__)

T = TypeVar("T")
Parse = Callable[[bytes, str], T]  # (the file's bytes, its name as errors show it) -> item
Check = Callable[[list], list[ContentError]]  # items in file order -> what is wrong across files


def parse_file(folder: Path, rel: str, parse: Parse, prefix: str):
    """One file parsed, or the ContentError that says why it could not be."""
    try:
        return parse((folder / rel).read_bytes(), prefix + rel)
    except ContentError as exc:
        return exc
    except OSError as exc:  # removed or unreadable between the scan and the read
        return ContentError(prefix + rel, 1, f"cannot read the file: {exc.strerror or exc}")


def load_folder(folder: Path, suffixes: tuple[str, ...], parse: Parse, prefix: str,
                check: Check) -> tuple[list, list[ContentError]]:
    """Every file parsed and checked with no fallbacks, as ``index_builder.py --check`` does."""
    items, errors = [], []
    for rel in content_files(folder, suffixes):
        parsed = parse_file(folder, rel, parse, prefix)
        (errors if isinstance(parsed, ContentError) else items).append(parsed)
    errors.extend(check(items))
    return items, errors


def settle(candidate: dict[str, T], good: dict[str, T], changed: set[str], check: Check,
           prefix: str) -> list[ContentError]:
    """Run ``check`` over ``candidate`` (file -> item) until it passes: each file it blames falls back
    to its version in ``good``, or is left out when that was already tried or there is none.
    Unchanged files go first, so a clash across files is blamed on the file just edited.
    ``candidate`` is changed in place; returns the errors found on the way."""
    errors: list[ContentError] = []
    while True:
        order = sorted(candidate, key=lambda rel: (rel in changed, rel))
        problems = check([candidate[rel] for rel in order])
        errors.extend(problems)
        moved = False  # stays False when the errors name no file of the set: nothing more to do
        for rel in dict.fromkeys(exc.path.removeprefix(prefix) for exc in problems):
            fallback = good.get(rel)
            if fallback is not None and candidate.get(rel) is not fallback:
                candidate[rel], moved = fallback, True
            elif rel in candidate:
                del candidate[rel]
                moved = True
        if not moved:
            return errors


class LiveFolder(Generic[T]):
    """The parsed items of one folder, re-read as files change; see the module's docstring.

    ``prefix`` is how errors name the folder (``tours/``), so that they read as the editor sees
    the files under content/; ``what`` names the items in log lines.
    """

    def __init__(self, folder: Path, suffixes: tuple[str, ...], parse: Parse, check: Check, prefix: str,
                 what: str):
        self.folder = Path(folder)
        self.suffixes, self.parse, self.check, self.prefix, self.what = suffixes, parse, check, prefix, what
        self.errors: list[str] = []
        self.problems: list[ContentError] = []  # the same errors, with their file and line
        self.version = 0  # grows with every change of ``items``
        self._items: list[T] = []
        self._stamps: dict[str, tuple] | None = None
        self._parsed: dict[str, T | ContentError] = {}
        self._good: dict[str, T] = {}
        self._lock = threading.Lock()

    def current(self) -> list[T]:
        """The items in file order, after reading whatever changed since the last call."""
        stamps = folder_stamps(self.folder, content_files(self.folder, self.suffixes))
        if stamps != self._stamps:
            with self._lock:
                if stamps != self._stamps:
                    self._refresh(stamps)
        return self._items

    def _refresh(self, stamps: dict[str, tuple]) -> None:
        before = self._stamps or {}
        changed = {rel for rel in stamps if before.get(rel) != stamps[rel]}
        for rel in changed:  # stamped before reading: an edit during the read is seen next time
            self._parsed[rel] = parse_file(self.folder, rel, self.parse, self.prefix)
        for rel in set(self._parsed) - set(stamps):
            del self._parsed[rel]
        errors: list[ContentError] = []
        candidate: dict[str, T] = {}
        for rel in sorted(stamps):
            parsed = self._parsed[rel]
            if isinstance(parsed, ContentError):
                errors.append(parsed)
                if rel in self._good:
                    candidate[rel] = self._good[rel]
            else:
                candidate[rel] = parsed
        errors.extend(settle(candidate, self._good, changed, self.check, self.prefix))
        self._good = candidate
        self._items = [candidate[rel] for rel in sorted(candidate)]
        self._stamps = stamps
        self.version += 1
        unique = list({str(e): e for e in errors}.values())
        messages = [str(e) for e in unique]
        if messages and messages != self.errors:
            log.error("content/%s has %d error(s); serving the last good version of those files:\n%s",
                      self.prefix.rstrip("/"), len(messages), "\n".join(messages))
        elif changed or len(before) != len(stamps):
            log.info("loaded %d %s", len(self._items), self.what)
        self.errors, self.problems = messages, unique
