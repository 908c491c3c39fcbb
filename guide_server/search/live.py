"""The live search index: loaded once, swapped for a newer build without a restart.

A build is served only after every file of it matched its checksum (``integrity``), and it is
read into the process's memory, so nothing on disk can change what a worker serves, nor kill it.
A build that fails is reported (``status()``), tried again after 1, 2, 4 ... 60 s, and meanwhile
the newest build that loads is served.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from .builder import build_names, current_name, load_build
from .engine import FaqSearch
from .errors import IndexUnavailable

log = logging.getLogger(__name__)

FIRST_RETRY = 1.0  # seconds before a failed build is tried again; doubled after each failure
LAST_RETRY = 60.0  # up to this
monotonic = time.monotonic  # the clock of the back-off (tests replace it)

_instances: weakref.WeakSet[LiveIndex] = weakref.WeakSet()


def _after_fork() -> None:
    # A gunicorn worker forked from the master that loaded the index: locks are renewed (one held
    # by a thread of the master would stay held), the watcher is started again on first use, and
    # the counters start from zero (the master's stay the master's, as in ``metrics``).
    for live in list(_instances):
        live._lock, live._watch_lock, live._thread = threading.Lock(), threading.Lock(), None
        live.reloads = live.failed_loads = 0


os.register_at_fork(after_in_child=_after_fork)


def instances() -> list[LiveIndex]:
    """Every live index of this process."""
    return list(_instances)


@dataclass
class _Failure:
    """A build that could not be loaded, and when to try it again."""

    error: str
    attempts: int
    since: float  # time.time() of the first failure
    retry_at: float  # monotonic() of the next attempt
    delay: float


class LiveIndex:
    """Holds the current ``FaqSearch``; a background thread loads new builds as they appear.

    Requests take a reference to the current search object, so a swap never
    disturbs a request in flight: it finishes on the build it started with.
    """

    def __init__(self, index_dir: Path, models: dict[str, str], weights: dict, default_locale: str,
                 interval: float = 0.5, fitted: bool = True):
        self.index_dir = Path(index_dir)
        self.fitted = fitted  # each build's own decision models (CALIBRATION=auto) or the shipped ones
        self.models = models
        self.weights = weights
        self.default_locale = default_locale
        self.interval = interval
        self._search: FaqSearch | None = None
        self.manifest: dict | None = None
        self.build_name: str | None = None  # the build in use
        self.verified = False  # its files matched their checksums (False: a build made before them)
        self.reloads = 0  # builds swapped in, the first load included
        self.failed_loads = 0  # attempts that failed
        self.loaded_at: float | None = None
        self._target: str | None = None  # the build CURRENT named at the last look
        self._failures: dict[str, _Failure] = {}
        self._lock = threading.Lock()  # held while a build loads
        self._watch_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # called as listener(build, fresh) after each swap; fresh: locales this process read from
        # disk for it (a locale unchanged since the build before is carried over, not read)
        self.listeners: list = []
        _instances.add(self)

    @property
    def last_error(self) -> str | None:
        """Why the build ``CURRENT`` names is not the one in use, if it failed; else None."""
        failure = self._failures.get(self._target) if self._target else None
        return failure.error if failure is not None and self._target != self.build_name else None

    def load(self, wait: bool = True) -> bool:
        """Load the build ``CURRENT`` names if it differs from the one in use, or, when it cannot be
        loaded, the newest build between the two that can; True when it swapped. A build that failed
        is tried again only after its back-off. With ``wait`` off, returns at once if another thread
        is loading."""
        target = current_name(self.index_dir)
        self._target = target
        if target is None or target == self.build_name:
            return False
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            return self._load(target)
        finally:
            self._lock.release()

    def _load(self, target: str) -> bool:
        if target == self.build_name:
            return False
        names = build_names(self.index_dir)
        for gone in set(self._failures) - set(names) - {target}:
            del self._failures[gone]  # pruned: nothing to report or retry
        if self._due(target) and self._try(target):
            return True
        # CURRENT's build cannot be served now: the newest one between the build in use and it
        for name in reversed(names):
            if name < target and (self.build_name is None or name > self.build_name) and self._due(name):
                if self._try(name):
                    return True
        return False

    def _due(self, name: str) -> bool:
        failure = self._failures.get(name)
        return failure is None or monotonic() >= failure.retry_at

    def _try(self, name: str) -> bool:
        try:
            before = self._search.indexes if self._search is not None else None
            manifest, indexes, verified = load_build(self.index_dir / "builds" / name, self.models, before)
            for index in indexes.values():
                index.query_vectors("warm up")  # first calls into a model are slow; pay that here
            search = FaqSearch(indexes, self.weights, default_locale=self.default_locale, fitted=self.fitted)
        except Exception as exc:  # noqa: BLE001 - keep serving what is loaded; say why in status()
            self._failed(name, exc)
            return False
        self._search, self.manifest, self.build_name, self.verified = search, manifest, name, verified
        fresh = sum(1 for loc, index in indexes.items() if before is None or before.get(loc) is not index)
        self.reloads += 1
        self.loaded_at = time.time()
        failed = self._failures.pop(name, None)
        if failed is not None:
            log.info("index build %s loads now, after %d failed attempt(s)", name, failed.attempts)
        if not verified:
            log.warning("index build %s has no checksums (made by an older guide), so it is served unverified: "
                        "rebuild it with `guide build-index`", name)
        if name != self._target:
            log.warning("serving index build %s, an older build than %s, which cannot be loaded", name, self._target)
        else:
            log.info("serving index build %s", name)
        for listener in list(self.listeners):
            try:
                listener(name, fresh)
            except Exception:  # noqa: BLE001 - a listener never undoes a swap
                log.exception("index swap listener")
        return True

    def _failed(self, name: str, exc: Exception) -> None:
        """Record a failed attempt; logged as an error once per build, not once per attempt."""
        self.failed_loads += 1
        error = f"build {name}: {exc}"
        now = monotonic()
        failure = self._failures.get(name)
        if failure is None:
            self._failures[name] = _Failure(error, 1, time.time(), now + FIRST_RETRY, FIRST_RETRY)
            log.error("could not load index build %s: %s (tried again with back-off up to every %.0f s)",
                      name, exc, LAST_RETRY)
            return
        failure.attempts += 1
        failure.delay = min(LAST_RETRY, failure.delay * 2)
        failure.retry_at = now + failure.delay
        if error != failure.error:
            log.warning("index build %s still cannot be loaded, now: %s", name, exc)
        else:
            log.debug("index build %s still cannot be loaded (attempt %d)", name, failure.attempts)
        failure.error = error

    def status(self) -> dict:
        """The state of the index in this process, for health checks and metrics:

        - ``build``: the build in use (None: nothing loaded); ``current``: the build ``CURRENT`` names.
        - ``verified``: every file of the build in use matched its checksum (False for a build made
          before checksums, served with a warning, or when nothing is loaded).
        - ``fallback``: a build is in use but it is not the one ``CURRENT`` names, because that one
          failed (or is being loaded right now).
        - ``bad_builds``: ``{build: {"error", "attempts", "since", "next_retry"}}``, builds that failed
          to load (times are Unix seconds); a build drops out when it loads or leaves the disk.
        - ``last_error``: why the build ``CURRENT`` names is not in use (None when it is, or it has not
          failed); ``next_retry``: when it is tried again (Unix seconds), or None.
        - ``reloads``: builds swapped in by this process (the first load counts; a forked worker
          starts from 0, its master keeps its own); ``failed_loads``: failed attempts, counted the
          same way; ``loaded_at``: when the build in use was swapped in (Unix seconds).
        - ``problems``: one sentence per thing an operator should act on (empty when all is well);
          /api/v1/health can list them as its reasons for "degraded".
        """
        now, wall = monotonic(), time.time()
        failures = dict(self._failures)
        target, build = self._target, self.build_name
        bad = {name: {"error": f.error, "attempts": f.attempts, "since": round(f.since, 3),
                      "next_retry": round(wall + max(0.0, f.retry_at - now), 3)} for name, f in sorted(failures.items())}
        current_failure = failures.get(target) if target is not None and target != build else None
        problems = []
        if current_failure is not None:
            serving = f"serving the older build {build}" if build else "no build can be served"
            problems.append(f"index: {current_failure.error}; {serving}")
        problems += [f"index: {f.error}" for name, f in sorted(failures.items())
                     if name != target and (build is None or name > build) and (target is None or name < target)]
        if build is not None and not self.verified:
            problems.append(f"index: build {build} has no checksums (made by an older guide): "
                            "rebuild it with `guide build-index` to have it verified")
        return {
            "build": build,
            "current": target,
            "verified": bool(build is not None and self.verified),
            "fallback": build is not None and target is not None and build != target,
            "bad_builds": bad,
            "last_error": current_failure.error if current_failure is not None else None,
            "next_retry": bad[target]["next_retry"] if current_failure is not None else None,
            "reloads": self.reloads,
            "failed_loads": self.failed_loads,
            "loaded_at": round(self.loaded_at, 3) if self.loaded_at is not None else None,
            "problems": problems,
        }

    def current(self) -> FaqSearch:
        self._ensure_watcher()
        search = self._search
        if search is None and (self.interval <= 0 or self._thread is None):
            # no watcher to load it: try here, but never wait for another thread's load, and only
            # when the build's back-off allows (each request would otherwise verify a whole build)
            self.load(wait=False)
            search = self._search
        if search is None:
            raise IndexUnavailable(self.last_error or "the search index is not built yet: run `guide build-index`")
        return search

    def _ensure_watcher(self) -> None:
        # Started lazily so that each worker process (after a fork) runs its own.
        if self.interval <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        with self._watch_lock:
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
