"""New workers after a content change, so that the workers share the index again.

Under gunicorn's ``preload_app`` the master loads the index and the workers it forks share those
pages. A build a worker swaps in later is that worker's own: at 10,000 FAQs one changed Japanese
file took master + 2 workers from ~745 to ~930 MB PSS (benchmarks/memory.py), and every further
change to another locale adds its own copy per worker.

So, when a worker has read a build from disk itself, and no newer build came for
``WORKER_ROTATION`` seconds (10; 0 turns this off) (``index_builder.py --watch`` may build several times in a row), it asks the
master for new workers (SIGHUP: gunicorn forks new workers, then retires the old ones gracefully;
their chats get a close frame, 1001, and the widget opens a new socket on its next question). Before
each fork the master loads the build ``CURRENT`` names (:func:`in_master`, the ``pre_fork`` hook),
so the new workers start with it, shared. One request per build: the worker that first claims
``INSTANCE/rotations/<build>`` sends it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from pathlib import Path

from ..search import live

log = logging.getLogger(__name__)

KEEP = 20  # claim files kept


def in_master() -> None:
    """Load the build ``CURRENT`` names into the master's live indexes (before a fork). A build that
    cannot be loaded is reported and left: the workers then load what they can, as without this."""
    swapped = False
    for index in live.instances():
        try:
            swapped |= index.load(wait=True)
        except Exception:  # noqa: BLE001 - the master must fork workers whatever the index does
            log.exception("the master could not load the current index build")
    if swapped:
        _give_back_freed_memory()


def _give_back_freed_memory() -> None:
    """The build the master let go of leaves free pages inside its heap; returned to the system
    before the fork, they are not copied into each new worker's share (~60 MB at 10,000 FAQs)."""
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class Rotation:
    """In a worker forked from a preloading master: asks it for new workers after a swap."""

    def __init__(self, master_pid: int, claims: Path, quiet: float):
        self.master_pid, self.claims, self.quiet = master_pid, Path(claims), quiet
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def watch(self, index: live.LiveIndex) -> None:
        index.listeners.append(self.swapped)

    def swapped(self, build: str, fresh: int) -> None:
        if not fresh:
            return  # nothing was read from disk: the pages are still the master's
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.quiet, self.ask, args=(build,))
            self._timer.daemon = True
            self._timer.name = "guide-rotation"
            self._timer.start()

    def ask(self, build: str) -> bool:
        """SIGHUP to the master, unless another worker already asked for this build."""
        try:
            self.claims.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.claims / build, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        except OSError as exc:
            log.warning("cannot ask for new workers after index build %s: %s", build, exc)
            return False
        self._prune()
        if os.getppid() != self.master_pid:
            return False  # the master is gone; this worker is on its way out too
        log.info("index build %s was loaded by each worker on its own: asking for new workers, "
                 "which share it with the master", build)
        os.kill(self.master_pid, signal.SIGHUP)
        return True

    def _prune(self) -> None:
        try:
            old = sorted(self.claims.iterdir(), key=lambda p: p.name)[:-KEEP]
        except OSError:
            return
        for path in old:
            path.unlink(missing_ok=True)


def start_in_worker(worker, app) -> Rotation | None:
    """Watch this worker's live indexes when its master preloaded the app; None otherwise."""
    quiet = app.config.get("WORKER_ROTATION", 0.0) if hasattr(app, "config") else 0.0
    if not worker.cfg.preload_app or quiet <= 0:
        return None
    rotation = Rotation(worker.ppid, Path(app.instance_path) / "rotations", quiet)
    for index in live.instances():
        rotation.watch(index)
    return rotation
