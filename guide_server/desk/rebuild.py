"""Index rebuilds the review desk starts after it taught an FAQ new wordings (desk/teach.py).

The build runs in a background thread of the server process that took the request, with the
configured models (already loaded for answering, so a one-file rebuild takes seconds). One build runs
at a time in a process; a request while one runs makes one more build after it, which reads the files
as they are then. Processes never build at once: ``builder.build`` holds a file lock on the index
folder. The outcome is written to ``INDEX_DIR/.desk-rebuild.json``, so every worker's next page shows
it; the build is made live like any other (``search.live`` picks it up), and this process loads it at
once.

No ``BuildMemory`` here: it would keep a second copy of the built indexes in each worker that ever
taught an FAQ; reading the previous build's changed locale back is fast enough for a desk's click.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from ..analytics.outcomes import recent_confirmed
from ..search.builder import build
from ..search.errors import BuildError
from ..web.context import services

log = logging.getLogger(__name__)

STATUS_FILE = ".desk-rebuild.json"
SHOWN_FOR = 15 * 60  # seconds a finished rebuild's outcome stays on the desk's pages
MAX_ERRORS = 20  # content errors kept in the status
_EXTENSION = "guide_desk_rebuild"
_create = threading.Lock()


@dataclass(frozen=True)
class RebuildStatus:
    """The last rebuild the desk started, as the status file tells it."""

    state: str  # "running" | "done" | "failed"
    by: str
    started_at: float
    finished_at: float | None = None
    build: str | None = None
    errors: tuple[str, ...] = ()

    @property
    def shown(self) -> bool:
        """Worth a line on the desk: running, failed, or finished a short while ago."""
        return self.state != "done" or time.time() - (self.finished_at or 0) < SHOWN_FOR


class Rebuilder:
    """Builds ``content_dir`` into ``index_dir`` in the background, as often as asked, one at a time."""

    def __init__(self, content_dir: Path, index_dir: Path, models: dict[str, str], live=None, db=None):
        self.content_dir, self.index_dir, self.models, self.live = content_dir, index_dir, models, live
        self.db = db  # where the questions people confirmed are read (the build's calibration learns from them)
        self._lock = threading.Lock()
        self._pending: str | None = None  # who asked for the build still to make
        self._thread: threading.Thread | None = None

    def request(self, by: str) -> None:
        """Rebuild soon: now, or after the build that is running."""
        with self._lock:
            self._pending = by
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="guide-desk-rebuild", daemon=True)
                self._thread.start()

    def join(self, timeout: float | None = 300) -> None:
        """Wait for the builds asked for (the app's close does, before the database goes)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                by, self._pending = self._pending, None
                if by is None:
                    self._thread = None
                    return
            self._build(by)

    def _build(self, by: str) -> None:
        started = time.time()
        self._write(RebuildStatus("running", by, started))
        try:
            # hold_back: a broken file elsewhere in the content keeps only itself out, not the teaching
            manifest = build(self.content_dir, self.index_dir, self.models, progress=False, hold_back=True,
                             weights=self.live.weights if self.live is not None else None, confirmed=self._confirmed())
        except BuildError as exc:
            errors = tuple(str(e) for e in exc.errors[:MAX_ERRORS])
            self._write(RebuildStatus("failed", by, started, time.time(), errors=errors))
            return
        except Exception as exc:  # noqa: BLE001 - a desk's rebuild never takes the server down; say why
            log.exception("the desk's index rebuild failed")
            self._write(RebuildStatus("failed", by, started, time.time(), errors=(f"{type(exc).__name__}: {exc}",)))
            return
        if self.live is not None:
            self.live.load()  # this process answers from it at once; the others' watchers load it
        self._write(RebuildStatus("done", by, started, time.time(), build=manifest["build_id"],
                                  errors=tuple(manifest.get("content_errors", ())[:MAX_ERRORS])))

    def _confirmed(self) -> dict[str, list[tuple[str, str]]]:
        if self.db is None:
            return {}
        try:
            return recent_confirmed(self.db)
        except SQLAlchemyError:
            log.warning("confirmed questions not read (the database did not answer): the rebuild's answer "
                        "decision is fitted on the content alone")
            return {}

    def _write(self, status: RebuildStatus) -> None:
        path = self.index_dir / STATUS_FILE
        tmp = path.with_name(f"{STATUS_FILE}.{os.getpid()}.{threading.get_ident()}")
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({**status.__dict__, "errors": list(status.errors)}, ensure_ascii=False),
                           encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            log.exception("could not write %s", path)


def read_status(index_dir: Path) -> RebuildStatus | None:
    """The last rebuild's status, or None when the desk never started one (or the file is unreadable)."""
    try:
        data = json.loads((Path(index_dir) / STATUS_FILE).read_text(encoding="utf-8"))
        return RebuildStatus(**{**data, "errors": tuple(data.get("errors") or ())})
    except (OSError, ValueError, TypeError):
        return None


def rebuilder(app: Flask | None = None) -> Rebuilder:
    """The app's rebuilder, made on first use (in the worker process that uses it)."""
    app = app or current_app._get_current_object()
    with _create:
        found = app.extensions.get(_EXTENSION)
        if found is None:
            cfg, live = app.config, services(app).index
            # the encoders the server searches with (MODEL_JA, MODEL_EN): the build they can read
            found = app.extensions[_EXTENSION] = Rebuilder(Path(cfg["CONTENT_DIR"]), Path(cfg["INDEX_DIR"]),
                                                           live.models, live, services(app).db)
            services(app).on_close(found.join)
    return found
