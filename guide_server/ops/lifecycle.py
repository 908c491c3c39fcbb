"""Where this process is in its life: serving, or draining after SIGTERM (``/readyz`` says 503 so a
load balancer stops sending it new requests while those in flight finish)."""

from __future__ import annotations

import threading

_draining = threading.Event()


def start_draining() -> None:
    _draining.set()


def draining() -> bool:
    return _draining.is_set()
