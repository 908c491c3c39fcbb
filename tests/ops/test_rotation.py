"""After a content change, the master loads the new build and forks new workers that share it."""

import json
import time
import urllib.request
from pathlib import Path

from guide_server.search.builder import build
from tests.support import MODELS


def workers(server) -> set[int]:
    with open(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children") as fh:
        return {int(pid) for pid in fh.read().split()}


def get_json(server, path: str) -> dict:
    with urllib.request.urlopen(server.url + path, timeout=10) as resp:
        return json.load(resp)


def metric(server, name: str) -> float:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def ask_a_few(server, n: int = 12) -> None:
    """Questions on new connections, so that both workers serve (and watch the index)."""
    for _ in range(n):
        req = urllib.request.Request(server.url + "/api/v1/ask", json.dumps({"question": "請求書を送りたい", "site": "demo"}).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200


def change(content: Path, n: int) -> None:
    path = content / "faq/ja/invoices/send-email.md"
    path.write_text(path.read_text(encoding="utf-8") + f"\n追記その{n}。\n", encoding="utf-8")


def wait_for(predicate, limit: float, what: str):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {limit} s: {what}")


def serving(serve, content: Path, tmp_path: Path, rotation: str):
    """A server of a fresh index of ``content``, its two workers, each having answered."""
    index = tmp_path / "index"
    build(content, index, MODELS, progress=False)
    server = serve(INDEX_DIR=str(index), RELOAD_INTERVAL="0.2", WORKER_ROTATION=rotation)
    first = wait_for(lambda: len(workers(server)) == 2 and workers(server), 30, "two workers")
    ask_a_few(server)
    return server, index, first


def test_a_content_change_gets_new_workers_that_share_the_new_build(serve, small_content, tmp_path):
    server, index, first = serving(serve, small_content, tmp_path, "1")
    # two builds in a row: the workers swap in each, and new workers are asked for once, for the last
    change(small_content, 1)
    build(small_content, index, MODELS, progress=False)
    change(small_content, 2)
    last = build(small_content, index, MODELS, progress=False)["build_id"]
    new = wait_for(lambda: (w := workers(server)) and len(w) == 2 and not (w & first) and w, 60,
                   "both workers replaced")
    assert get_json(server, "/api/v1/health")["build_id"] == last
    # the new workers were forked with the build loaded: neither read a build from disk itself
    wait_for(lambda: metric(server, "guide_index_reloads_total") == 0, 10, "reloads of the new workers")
    claims = sorted(p.name for p in (tmp_path / "instance0" / "rotations").iterdir())
    assert claims == [last]
    log = server.output()
    assert log.count("asking for new workers") == 1, log[-3000:]
    time.sleep(2.5)  # no second rotation: the new workers have nothing of their own to hand back
    assert workers(server) == new


def test_rotation_off_keeps_the_workers(serve, small_content, tmp_path):
    server, index, first = serving(serve, small_content, tmp_path, "0")
    change(small_content, 1)
    last = build(small_content, index, MODELS, progress=False)["build_id"]
    wait_for(lambda: all(get_json(server, "/api/v1/health")["build_id"] == last for _ in range(6)),
             30, "the new build served")
    time.sleep(2.5)
    assert workers(server) == first
    assert not (tmp_path / "instance0" / "rotations").exists()
