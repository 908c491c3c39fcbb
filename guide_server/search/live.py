"""The live search index: loaded once, swapped for a newer build without a restart."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .builder import current_build, load_indexes
from .engine import FaqSearch
from .errors import IndexUnavailable

log = logging.getLogger(__name__)


class LiveIndex:
    """Holds the current ``FaqSearch``; a background thread loads new builds as they appear.

    Requests take a reference to the current search object, so a swap never
    disturbs a request in flight: it finishes on the build it started with.
    """

    def __init__(self, index_dir: Path, models: dict[str, str], weights: dict, default_locale: str,
                 interval: float = 0.5):
        self.index_dir = Path(index_dir)
        self.models = models
        self.weights = weights
        self.default_locale = default_locale
        self.interval = interval
        self._search: FaqSearch | None = None
        self.manifest: dict | None = None
        self.build_name: str | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> bool:
        """Load the live build if it differs from the one in use; True when it swapped."""
        build = current_build(self.index_dir)
        if build is None or build.name == self.build_name:
            return False
        with self._lock:
            if build.name == self.build_name:
                return False
            try:
                before = self._search.indexes if self._search is not None else None
                manifest, indexes = load_indexes(self.index_dir, self.models, before)
                for index in indexes.values():
                    index.query_vectors("warm up")  # first calls into a model are slow; pay that here
            except Exception as exc:  # keep serving the old build; say why on /health
                self.last_error = str(exc)
                log.error("could not load index %s: %s", build, exc)
                return False
            self._search = FaqSearch(indexes, self.weights, default_locale=self.default_locale)
            self.manifest, self.build_name, self.last_error = manifest, manifest["build_id"], None
            log.info("serving index build %s", self.build_name)
            return True

    def current(self) -> FaqSearch:
        self._ensure_watcher()
        if self._search is None:
            self.load()
        if self._search is None:
            raise IndexUnavailable(self.last_error or "the search index is not built yet: run `guide build-index`")
        return self._search

    def _ensure_watcher(self) -> None:
        # Started lazily so that each worker process (after a fork) runs its own.
        if self.interval <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="guide-index-watch", daemon=True)
                self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.load()
            except Exception:  # the watcher must outlive any one bad build
                log.exception("index watcher")

    def close(self) -> None:
        self._stop.set()
