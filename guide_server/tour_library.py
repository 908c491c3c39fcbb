"""content/tours/ as a live set: re-read when a file changes, keeping the last good version of a broken one."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .content import ContentError, content_files, folder_stamps
from .tours import Checklist, Item, Tour, check_collection, parse_item

log = logging.getLogger(__name__)

SUFFIXES = (".yml", ".yaml", ".md")
PREFIX = "tours/"  # errors name files as the editor sees them under content/


@dataclass(frozen=True)
class TourSet:
    """One consistent set of content: tours and hints, and checklists, by id in file order."""

    tours: dict[str, Tour] = field(default_factory=dict)
    checklists: dict[str, Checklist] = field(default_factory=dict)

    @classmethod
    def of(cls, items: list[Item]) -> TourSet:
        return cls({i.id: i for i in items if isinstance(i, Tour)}, {i.id: i for i in items if isinstance(i, Checklist)})


def tour_files(tours_dir: Path) -> list[str]:
    """Relative paths of tour files (also used for surveys), sorted."""
    return content_files(tours_dir, SUFFIXES)


def _parse(tours_dir: Path, rel: str) -> Item | ContentError:
    try:
        return parse_item((tours_dir / rel).read_bytes(), PREFIX + rel)
    except ContentError as exc:
        return exc
    except OSError as exc:  # removed or unreadable between the scan and the read
        return ContentError(PREFIX + rel, 1, f"cannot read the file: {exc.strerror or exc}")


def load_tours(tours_dir: Path) -> tuple[list[Item], list[ContentError]]:
    """Parse and check every file with no fallbacks, as ``index_builder.py --check`` does."""
    items, errors = [], []
    for rel in tour_files(tours_dir):
        parsed = _parse(tours_dir, rel)
        (errors if isinstance(parsed, ContentError) else items).append(parsed)
    errors.extend(check_collection(items))
    return items, errors


class TourLibrary:
    """The live TourSet: every ``current()`` stats the files and re-reads only those that changed.

    A file that fails to parse, or breaks a cross-file check, is served in its last good
    version (or not at all if it never had one); ``errors`` says what is wrong meanwhile.
    """

    def __init__(self, tours_dir: Path):
        self.tours_dir = Path(tours_dir)
        self.errors: list[str] = []
        self._set = TourSet()
        self._stamps: dict[str, tuple] | None = None
        self._parsed: dict[str, Item | ContentError] = {}
        self._good: dict[str, Item] = {}
        self._lock = threading.Lock()

    def current(self) -> TourSet:
        stamps = folder_stamps(self.tours_dir, tour_files(self.tours_dir))
        if stamps != self._stamps:
            with self._lock:
                if stamps != self._stamps:
                    self._refresh(stamps)
        return self._set

    def _refresh(self, stamps: dict[str, tuple]) -> None:
        before = self._stamps or {}
        changed = {rel for rel in stamps if before.get(rel) != stamps[rel]}
        for rel in changed:  # stamped before reading: an edit during the read is seen next time
            self._parsed[rel] = _parse(self.tours_dir, rel)
        for rel in set(self._parsed) - set(stamps):
            del self._parsed[rel]
        errors: list[ContentError] = []
        candidate: dict[str, Item] = {}
        for rel in sorted(stamps):
            parsed = self._parsed[rel]
            if isinstance(parsed, ContentError):
                errors.append(parsed)
                if rel in self._good:
                    candidate[rel] = self._good[rel]
            else:
                candidate[rel] = parsed
        while True:
            # Unchanged files go first, so a clash of ids is blamed on the file just edited.
            order = sorted(candidate, key=lambda rel: (rel in changed, rel))
            problems = check_collection([candidate[rel] for rel in order])
            if not problems:
                break
            errors.extend(problems)
            for exc in problems:
                rel = exc.path.removeprefix(PREFIX)
                good = self._good.get(rel)
                if good is not None and candidate.get(rel) is not good:
                    candidate[rel] = good
                else:
                    candidate.pop(rel, None)
        self._good = candidate
        self._set = TourSet.of([candidate[rel] for rel in sorted(candidate)])
        self._stamps = stamps
        messages = list(dict.fromkeys(str(e) for e in errors))
        if messages and messages != self.errors:
            log.error("content/tours has %d error(s); serving the last good version of those files:\n%s",
                      len(messages), "\n".join(messages))
        elif changed or len(before) != len(stamps):
            log.info("loaded %d tour(s) and %d checklist(s)", len(self._set.tours), len(self._set.checklists))
        self.errors = messages

    def status(self) -> dict:
        """Counts and current errors, for /api/v1/health."""
        current = self.current()
        kinds = [t.kind for t in current.tours.values()]
        return {"tours": kinds.count("tour"), "hints": kinds.count("hint"),
                "checklists": len(current.checklists), "errors": list(self.errors)}
