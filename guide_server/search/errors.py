"""What the search package raises: plain exceptions, which the web layer turns into HTTP answers
and the command line into messages."""

from __future__ import annotations

from ..content.rules import ContentError


class SearchError(Exception):
    """Base of the search package's own errors."""


class IndexUnavailable(SearchError):
    """No usable index: none was built yet, or the live build could not be loaded (the message says why)."""


class IndexCorrupt(IndexUnavailable):
    """A file of a build is missing, truncated or changed since the build wrote it (its size or
    sha256 differs from the manifest's), or the manifest itself is unreadable."""


class IndexMismatch(SearchError):
    """The index on disk was built in a way this server cannot use."""


class BuildError(SearchError):
    """The content has errors, so nothing was built; the live index is left as it was."""

    def __init__(self, errors: list[ContentError]):
        super().__init__(f"{len(errors)} content error(s)")
        self.errors = errors
