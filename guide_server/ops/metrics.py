"""``/metrics``: the figures of every live process of this server, added up, as Prometheus text.

Each process writes its snapshot (``guide_server.metrics``) to ``INSTANCE/metrics/<pid>.json``
every few seconds and when scraped; the scraped process reads the files of the processes still
alive and sums them, so a scrape reaching any gunicorn worker reports the whole server.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from flask import Blueprint, Response, current_app

from .. import metrics

bp = Blueprint("metrics", __name__)
WRITE_EVERY = 2.0

_writer: threading.Thread | None = None
_writer_lock = threading.Lock()


def folder(app) -> Path:
    return Path(app.instance_path) / "metrics"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_own(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / f".{os.getpid()}.tmp"
    tmp.write_text(json.dumps(metrics.snapshot()), encoding="utf-8")
    os.replace(tmp, path / f"{os.getpid()}.json")


def start_writer(app) -> None:
    """A thread that keeps this process's file fresh (started on first request: after the fork)."""
    global _writer
    if _writer is not None and _writer.is_alive():
        return
    path = folder(app)
    with _writer_lock:
        if _writer is not None and _writer.is_alive():
            return

        def run():
            while True:
                try:
                    write_own(path)
                except OSError:
                    pass  # a full or read-only disk costs the figures, not the service
                time.sleep(WRITE_EVERY)

        _writer = threading.Thread(target=run, name="guide-metrics", daemon=True)
        _writer.start()


def _after_fork() -> None:
    global _writer, _writer_lock
    _writer, _writer_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def gather(path: Path) -> list[dict]:
    snaps = []
    for f in path.glob("*.json"):
        try:
            pid = int(f.stem)
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            f.unlink(missing_ok=True)
            continue
        try:
            snaps.append(json.loads(f.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return snaps


def _fmt_labels(labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), " ")}"'
                     for k, v in labels)
    return "{" + inner + "}"


def render(snaps: list[dict]) -> str:
    """Prometheus text exposition format 0.0.4 of the summed snapshots."""
    counters: dict = {}
    gauges: dict = {}
    hists: dict = {}
    for snap in snaps:
        for name, labels, value in snap.get("counters", []):
            key = (name, tuple(map(tuple, labels)))
            counters[key] = counters.get(key, 0) + value
        for name, labels, value in snap.get("gauges", []):
            key = (name, tuple(map(tuple, labels)))
            gauges[key] = gauges.get(key, 0) + value
        for name, labels, values in snap.get("histograms", []):
            key = (name, tuple(map(tuple, labels)))
            have = hists.setdefault(key, [0.0] * len(values))
            hists[key] = [a + b for a, b in zip(have, values)]
    lines: list[str] = []
    names = sorted({k[0] for k in counters} | {k[0] for k in gauges} | {k[0] for k in hists})
    for name in names:
        kind, text = metrics.HELP.get(name, ("untyped", name))
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        for (n, labels), v in sorted(counters.items()):
            if n == name:
                lines.append(f"{name}{_fmt_labels(labels)} {v:g}")
        for (n, labels), v in sorted(gauges.items()):
            if n == name:
                lines.append(f"{name}{_fmt_labels(labels)} {v:g}")
        for (n, labels), h in sorted(hists.items()):
            if n != name:
                continue
            for bound, c in zip(metrics.BUCKETS, h):
                lines.append(f"{name}_bucket{_fmt_labels(labels + (('le', f'{bound:g}'),))} {c:g}")
            lines.append(f"{name}_bucket{_fmt_labels(labels + (('le', '+Inf'),))} {h[-2]:g}")
            lines.append(f"{name}_count{_fmt_labels(labels)} {h[-2]:g}")
            lines.append(f"{name}_sum{_fmt_labels(labels)} {h[-1]:.6f}")
    return "\n".join(lines) + "\n"


@bp.get("/metrics")
def scrape():
    path = folder(current_app)
    try:
        write_own(path)
        snaps = gather(path)
    except OSError:
        snaps = [metrics.snapshot()]  # no shared folder: this process alone
    return Response(render(snaps), mimetype="text/plain; version=0.0.4")
