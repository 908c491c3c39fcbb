"""content/tours/ and content/surveys/ as the server sees them: re-read when a file changes, a
broken file served in its last good version (see ``content.live``)."""

from __future__ import annotations

from pathlib import Path

from ..content.live import LiveFolder, load_folder
from ..content.rules import ContentError
from .surveys import Survey, check_surveys, parse_survey
from .tours import Item, TourSet, check_collection, parse_item

SUFFIXES = (".yml", ".yaml", ".md")  # tours may be Markdown with front matter; surveys are YAML


def load_tours(tours_dir: Path) -> tuple[list[Item], list[ContentError]]:
    """Parse and check every tour file with no fallbacks, as ``index_builder.py --check`` does."""
    return load_folder(tours_dir, SUFFIXES, parse_item, "tours/", check_collection)


def load_surveys(surveys_dir: Path) -> tuple[list[Survey], list[ContentError]]:
    return load_folder(surveys_dir, SUFFIXES, parse_survey, "surveys/", check_surveys)


class TourLibrary:
    """The live TourSet of content/tours/: every ``current()`` re-reads only the files that changed."""

    def __init__(self, tours_dir: Path):
        self.folder = LiveFolder(tours_dir, SUFFIXES, parse_item, check_collection, "tours/", "tour(s) and checklist(s)")
        self._set, self._version = TourSet(), -1

    @property
    def errors(self) -> list[str]:
        return self.folder.errors

    def current(self) -> TourSet:
        items = self.folder.current()
        if self._version != self.folder.version:  # a race only builds the same set twice
            self._set, self._version = TourSet.of(items), self.folder.version
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
