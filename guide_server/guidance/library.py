"""content/tours/ and content/surveys/ as the server sees them: re-read when a file changes, a
broken file served in its last good version (see ``content.live``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from ..content.live import LiveFolder, load_folder
from ..content.rules import ContentError
from .surveys import Survey, check_surveys, parse_survey
from .tours import Item, TourSet, check_collection, parse_item
from .versions import VersionBook, read_recorded

SUFFIXES = (".yml", ".yaml", ".md")  # tours may be Markdown with front matter; surveys are YAML


def load_tours(tours_dir: Path) -> tuple[list[Item], list[ContentError]]:
    """Parse and check every tour file with no fallbacks, as ``index_builder.py --check`` does."""
    return load_folder(tours_dir, SUFFIXES, parse_item, "tours/", check_collection)


def load_surveys(surveys_dir: Path) -> tuple[list[Survey], list[ContentError]]:
    return load_folder(surveys_dir, SUFFIXES, parse_survey, "surveys/", check_surveys)


class TourLibrary:
    """The live TourSet of content/tours/: every ``current()`` re-reads only the files that changed.

    With ``engine``, each tour version served is recorded in ``tour_versions`` and a file whose
    steps changed under a recorded version is refused like a broken one (``versions``)."""

    def __init__(self, tours_dir: Path, engine: Engine | None = None):
        self.book = VersionBook(engine) if engine is not None else None
        check = check_collection if self.book is None else self._check
        self.folder = LiveFolder(tours_dir, SUFFIXES, parse_item, check, "tours/", "tour(s) and checklist(s)")
        self._set, self._version = TourSet(), -1

    def _check(self, items: list[Item]) -> list[ContentError]:
        return check_collection(items) + self.book.check(items)

    @property
    def errors(self) -> list[str]:
        return self.folder.errors

    @property
    def problems(self) -> list[ContentError]:
        return self.folder.problems

    def recorded(self) -> dict[tuple[str, int], list[dict]]:
        """The steps (ids and titles) of every tour version recorded, by (tour id, version); none
        without a database. Raises SQLAlchemyError when the database fails."""
        if self.book is None:
            return {}
        return {key: r.steps for key, r in read_recorded(self.book.engine).items()}

    def current(self) -> TourSet:
        items = self.folder.current()
        if self._version != self.folder.version:  # a race only builds the same set twice
            self._set, self._version = TourSet.of(items), self.folder.version
            if self.book is not None:
                self.book.record(items)
        return self._set

    def status(self) -> dict:
        """Counts and current errors, for /api/v1/health."""
        current = self.current()
        kinds = [t.kind for t in current.tours.values()]
        return {"tours": kinds.count("tour"), "hints": kinds.count("hint"),
                "checklists": len(current.checklists), "errors": list(self.errors)}


class SurveyLibrary(LiveFolder[Survey]):
    """The live surveys of content/surveys/, in file order."""

    def __init__(self, surveys_dir: Path):
        super().__init__(surveys_dir, SUFFIXES, parse_survey, check_surveys, "surveys/", "survey(s)")
