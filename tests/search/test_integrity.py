"""Index integrity: every file of a build has a checksum in its manifest; a server loads a build only
when its files match, keeps serving what it has (or the newest good older build) when they do not,
tries a broken build again with back-off, and is never killed by a file changed under it.
Failures are real: files of real builds are truncated or overwritten on disk."""

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from guide_server.search import live as live_module
from guide_server.search.builder import build, current_build, load_build
from guide_server.search.engine import parse_weights
from guide_server.search.errors import IndexCorrupt, IndexUnavailable
from guide_server.search.integrity import files_of, sha256_file
from guide_server.search.live import LiveIndex
from tests.support import MODELS, ROOT, Gunicorn

WEIGHTS = {loc: parse_weights("dense=1,bm25=1,fuzzy=0") for loc in MODELS}
NEW_FAQ = "---\ntitle: 解約の手続きは？\n---\n設定画面の「契約」から解約できます。\n"


def truncate(path: Path, size: int = 0) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


def scramble(path: Path) -> None:
    """The same number of bytes, all different: only a checksum can tell."""
    size = path.stat().st_size
    path.write_bytes(os.urandom(size))
    assert path.stat().st_size == size


def damage(path: Path, how: str) -> None:
    truncate(path, path.stat().st_size // 2) if how == "truncated" else scramble(path)


def add_faq(content: Path, name: str = "cancellation/how-to.md", text: str = NEW_FAQ) -> None:
    path = content / "faq/ja" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def live_index(index_dir: Path, interval: float = 0) -> LiveIndex:
    return LiveIndex(index_dir, MODELS, WEIGHTS, "ja", interval=interval)


def top_id(live: LiveIndex, question: str, locale: str = "ja") -> str:
    return live.current().search(question, locale=locale).hits[0].faq.id


# --- what a build writes -------------------------------------------------------------------------

def test_a_build_lists_every_file_with_its_size_and_sha256(small_content, tmp_path):
    manifest = build(small_content, tmp_path / "idx", MODELS, progress=False)
    folder = current_build(tmp_path / "idx")
    listed = manifest["checksums"]
    assert sorted(listed) == files_of(folder)
    assert {"ja/dense-0.npy", "en/docs.jsonl", "ja/bm25/data.csc.index.npy"} <= set(listed)
    for name, entry in listed.items():
        assert entry == {"bytes": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
    assert json.loads((folder / "manifest.json").read_text())["checksums"] == listed


def test_a_locale_carried_over_keeps_its_checksums(small_content, tmp_path):
    first = build(small_content, tmp_path / "idx", MODELS, progress=False)
    add_faq(small_content)
    second = build(small_content, tmp_path / "idx", MODELS, progress=False)
    en = {k: v for k, v in second["checksums"].items() if k.startswith("en/")}
    assert en == {k: v for k, v in first["checksums"].items() if k.startswith("en/")}
    assert second["checksums"]["ja/docs.jsonl"] != first["checksums"]["ja/docs.jsonl"]
    load_build(current_build(tmp_path / "idx"), MODELS)  # and they still match


# --- loading -------------------------------------------------------------------------------------

@pytest.mark.parametrize("how, name, says", [
    ("truncated", "ja/dense-0.npy", "truncated or replaced"),
    ("truncated", "en/docs.jsonl", "truncated or replaced"),
    ("corrupted", "ja/dense-0.npy", "does not match its checksum"),
    ("corrupted", "en/bm25/data.csc.index.npy", "does not match its checksum"),
    ("corrupted", "ja/rows.json", "does not match its checksum"),
    ("corrupted", "manifest.json", "not valid JSON"),
])
def test_a_damaged_file_is_refused(small_content, tmp_path, how, name, says):
    build(small_content, tmp_path / "idx", MODELS, progress=False)
    folder = current_build(tmp_path / "idx")
    damage(folder / name, how)
    with pytest.raises(IndexCorrupt, match=says):
        load_build(folder, MODELS)


def test_a_missing_file_is_refused(small_content, tmp_path):
    build(small_content, tmp_path / "idx", MODELS, progress=False)
    folder = current_build(tmp_path / "idx")
    (folder / "en/view_ids.npy").unlink()
    with pytest.raises(IndexCorrupt, match="en/view_ids.npy is missing"):
        load_build(folder, MODELS)


def test_a_build_without_checksums_is_served_with_a_warning(small_content, tmp_path, caplog):
    """Builds made before checksums (format 2 without them) are served, unverified, and say so."""
    build(small_content, tmp_path / "idx", MODELS, progress=False)
    path = current_build(tmp_path / "idx") / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["checksums"]
    path.write_text(json.dumps(manifest))
    live = live_index(tmp_path / "idx")
    with caplog.at_level(logging.WARNING, logger="guide_server.search.live"):
        assert live.load()
    assert top_id(live, "請求書をメールで送りたい") == "ja-invoices-send-email"
    status = live.status()
    assert status["build"] == manifest["build_id"] and status["verified"] is False
    assert any("no checksums" in p and "guide build-index" in p for p in status["problems"])
    assert any("no checksums" in r.getMessage() for r in caplog.records)


# --- a live index and broken builds ---------------------------------------------------------------

@pytest.mark.parametrize("how", ["truncated", "corrupted"])
def test_a_broken_new_build_is_refused_and_the_old_one_kept(small_content, tmp_path, how):
    index_dir = tmp_path / "idx"
    first = build(small_content, index_dir, MODELS, progress=False)
    live = live_index(index_dir)
    assert live.load()
    add_faq(small_content)
    second = build(small_content, index_dir, MODELS, progress=False)
    damage(current_build(index_dir) / "ja/dense-0.npy", how)  # ja changed: a file of the new build only

    assert not live.load()
    assert top_id(live, "請求書をメールで送りたい") == "ja-invoices-send-email"  # still answering
    status = live.status()
    assert status["build"] == first["build_id"] and status["current"] == second["build_id"]
    assert status["fallback"] is True and status["verified"] is True
    bad = status["bad_builds"][second["build_id"]]
    assert "ja/dense-0.npy" in bad["error"] and bad["attempts"] == 1
    assert status["last_error"] == bad["error"] and status["next_retry"] == bad["next_retry"]
    assert status["failed_loads"] == 1 and status["reloads"] == 1
    assert any(second["build_id"] in p and first["build_id"] in p for p in status["problems"])

    add_faq(small_content, "cancellation/fees.md", "---\ntitle: 解約金はかかりますか？\n---\nかかりません。\n")
    third = build(small_content, index_dir, MODELS, progress=False)  # a fixed build: tried at once
    assert live.load()
    assert top_id(live, "解約したい") == "ja-cancellation-how-to"
    status = live.status()
    assert status["build"] == status["current"] == third["build_id"]
    assert status["fallback"] is False and status["problems"] == [] and status["last_error"] is None
    assert status["reloads"] == 2


@pytest.mark.parametrize("how", ["truncated", "corrupted"])
def test_at_start_up_the_newest_good_build_is_served(small_content, tmp_path, how):
    index_dir = tmp_path / "idx"
    first = build(small_content, index_dir, MODELS, progress=False)
    add_faq(small_content)
    second = build(small_content, index_dir, MODELS, progress=False)
    damage(current_build(index_dir) / "ja/docs.jsonl", how)

    live = live_index(index_dir)
    assert live.load()
    status = live.status()
    assert status["build"] == first["build_id"] and status["current"] == second["build_id"]
    assert status["fallback"] is True and list(status["bad_builds"]) == [second["build_id"]]
    assert top_id(live, "請求書をメールで送りたい") == "ja-invoices-send-email"

    # The next build reads the broken one as its cache, finds the damage, and builds ja again;
    # the build it falls back to is kept on disk.
    add_faq(small_content, "cancellation/fees.md", "---\ntitle: 解約金はかかりますか？\n---\nかかりません。\n")
    third = build(small_content, index_dir, MODELS, progress=False)
    assert third["views_embedded"] > 2
    assert sorted(p.name for p in (index_dir / "builds").iterdir()) == [first["build_id"], second["build_id"],
                                                                        third["build_id"]]
    assert live.load()
    assert live.status()["build"] == third["build_id"] and not live.status()["fallback"]
    assert top_id(live, "解約したい") == "ja-cancellation-how-to"


def test_with_no_good_build_nothing_is_served_and_the_reason_given(small_content, tmp_path):
    index_dir = tmp_path / "idx"
    build(small_content, index_dir, MODELS, progress=False)
    truncate(current_build(index_dir) / "en/dense-0.npy")
    live = live_index(index_dir)
    assert not live.load()
    with pytest.raises(IndexUnavailable, match="en/dense-0.npy"):  # a 503
        live.current()
    status = live.status()
    assert status["build"] is None and status["fallback"] is False and status["verified"] is False
    assert status["problems"] and "no build can be served" in status["problems"][0]


def test_a_previous_build_with_a_damaged_file_is_not_carried_over(small_content, tmp_path):
    """A file hard-linked or copied from the previous build is checked first: a damaged one would
    otherwise get a fresh checksum in the new build."""
    index_dir = tmp_path / "idx"
    build(small_content, index_dir, MODELS, progress=False)
    old = current_build(index_dir)
    scramble(old / "en/dense-0.npy")  # en does not change below: it would be hard-linked as it is
    add_faq(small_content)
    manifest = build(small_content, index_dir, MODELS, progress=False)
    new = current_build(index_dir)
    assert not os.path.samefile(new / "en/dense-0.npy", old / "en/dense-0.npy")
    _, indexes, verified = load_build(new, MODELS)
    assert verified and manifest["views_embedded"] > 1
    live = live_index(index_dir)
    assert live.load()
    assert top_id(live, "forgot my password", "en") == "en-security-password-reset"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


def test_a_broken_build_is_tried_again_with_back_off_and_logged_once(small_content, tmp_path, monkeypatch, caplog):
    index_dir = tmp_path / "idx"
    build(small_content, index_dir, MODELS, progress=False)
    truncate(current_build(index_dir) / "ja/dense-0.npy")
    name = current_build(index_dir).name
    clock = FakeClock()
    monkeypatch.setattr(live_module, "monotonic", clock.monotonic)
    live = live_index(index_dir)
    tried = []
    with caplog.at_level(logging.DEBUG, logger="guide_server.search.live"):
        for step in range(400):  # 200 s, looked at every 0.5 s as the watcher does
            clock.now = 1000.0 + step * 0.5
            before = live.failed_loads
            live.load()
            if live.failed_loads > before:
                tried.append(step * 0.5)
    assert tried == [0, 1, 3, 7, 15, 31, 63, 123, 183]  # 1, 2, 4 ... s apart, at most 60 s
    assert live.status()["bad_builds"][name]["attempts"] == len(tried)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and name in errors[0].getMessage()


def test_the_watcher_does_not_hammer_a_broken_build(small_content, tmp_path, caplog):
    """Real time, a watcher looking every 0.05 s: a broken build is tried a handful of times in
    5 s (every look would be 100), and logged as an error once."""
    index_dir = tmp_path / "idx"
    build(small_content, index_dir, MODELS, progress=False)
    good = current_build(index_dir).name
    live = live_index(index_dir, interval=0.05)
    assert live.load()
    add_faq(small_content)
    bad = build(small_content, index_dir, MODELS, progress=False)["build_id"]
    scramble(current_build(index_dir) / "ja/view_ids.npy")
    with caplog.at_level(logging.ERROR, logger="guide_server.search.live"):
        live.current()  # starts the watcher
        time.sleep(5)
        live.close()
    status = live.status()
    assert status["build"] == good
    assert 2 <= status["bad_builds"][bad]["attempts"] <= 5
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


# --- processes that must survive --------------------------------------------------------------------

def test_a_loaded_index_survives_its_files_being_truncated(small_content, tmp_path):
    """Every file of the loaded build cut to nothing, then questions asked: a memory-mapped file
    would kill the process with SIGBUS. In a child process, so that it cannot take pytest along."""
    index_dir = tmp_path / "idx"
    build(small_content, index_dir, MODELS, progress=False)
    code = """
import sys
from pathlib import Path
from guide_server.search.builder import current_build, load_indexes
from guide_server.search.engine import FaqSearch
from guide_server.search.integrity import files_of
index_dir = Path(sys.argv[1])
_, indexes = load_indexes(index_dir, {"ja": "usem3", "en": "minilm"})
search = FaqSearch(indexes)
folder = current_build(index_dir)
for name in files_of(folder):
    open(folder / name, "r+b").truncate(0)
for question, locale in [("請求書をメールで送りたい", "ja"), ("forgot my password", "en")] * 3:
    print(search.search(question, locale=locale).hits[0].faq.id)
"""
    out = subprocess.run([sys.executable, "-c", code, str(index_dir)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-2000:]}"
    assert out.stdout.split() == ["ja-invoices-send-email", "en-security-password-reset"] * 3


def _workers(master: int) -> set[int]:
    with open(f"/proc/{master}/task/{master}/children") as fh:
        return {int(p) for p in fh.read().split()}


def _both_workers(master: int) -> set[int]:
    """The two worker pids, once gunicorn has started both."""
    deadline = time.monotonic() + 60
    while len(_workers(master)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    return _workers(master)


def _get(url: str, timeout: float = 10) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


class Askers:
    """Threads asking questions over HTTP until stopped; each request has a 10 s timeout."""

    def __init__(self, url: str, threads: int = 3):
        self.url, self.stop, self.results = url, threading.Event(), []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self):
        questions = [("請求書をメールで送りたい", "ja-invoices-send-email"), ("forgot my password", "en-security-password-reset")]
        n = 0
        while not self.stop.is_set():
            question, expected = questions[n % 2]
            n += 1
            started = time.monotonic()
            try:
                status, body = _get(f"{self.url}/api/v1/search?site=demo&q={urllib.parse.quote(question)}")
                ok = status == 200 and body["results"][0]["id"] == expected
                self.results.append((ok, status, time.monotonic() - started))
            except Exception as exc:  # noqa: BLE001 - a timeout or a dropped connection is a failure
                self.results.append((False, repr(exc), time.monotonic() - started))

    def finish(self) -> list:
        self.stop.set()
        for t in self.threads:
            t.join(30)
        return self.results


def _serve(index_dir: Path, instance: Path) -> Gunicorn:
    instance.mkdir()
    return Gunicorn(instance, {"INDEX_DIR": str(index_dir), "DATABASE_URL": f"sqlite:///{instance / 'guide.db'}",
                               "SITES": {"demo": {"identity": "open", "origins": []}}, "RELOAD_INTERVAL": "0.2",
                               # the askers search as fast as the server answers: the abuse limit is not under test
                               "LIMIT_SEARCH": "0"})


def _served_everywhere(server: Gunicorn, build_id: str, limit: float = 30) -> bool:
    """Every worker serves ``build_id``: ten health answers in a row say so."""
    deadline, streak = time.monotonic() + limit, 0
    while time.monotonic() < deadline and streak < 10:
        status, body = _get(server.url + "/api/v1/health")
        streak = streak + 1 if status in (200, 503) and body.get("build_id") == build_id else 0
        time.sleep(0.05)
    return streak >= 10


def _side_build(index_dir: Path, content: Path, tmp: Path) -> tuple[str, Path]:
    """A new build made beside the live index (from a copy of it), to be damaged before it goes live."""
    side = tmp / "side"
    shutil.copytree(index_dir, side)
    build_id = build(content, side, MODELS, progress=False)["build_id"]
    return build_id, side / "builds" / build_id


def _publish(index_dir: Path, folder: Path) -> None:
    os.rename(folder, index_dir / "builds" / folder.name)
    (index_dir / ".CURRENT.test").write_text(folder.name + "\n")
    os.replace(index_dir / ".CURRENT.test", index_dir / "CURRENT")


def test_gunicorn_workers_survive_files_truncated_under_them_and_refuse_a_broken_build(small_content, tmp_path):
    """The production command (--preload, 2 workers): the served build's files are truncated under
    the workers, then a truncated new build goes live, then a good one. Questions keep being
    answered throughout, no worker dies, and the good build is served without a restart."""
    index_dir = tmp_path / "idx"
    first = build(small_content, index_dir, MODELS, progress=False)["build_id"]
    server = _serve(index_dir, tmp_path / "instance")
    try:
        workers = _both_workers(server.proc.pid)
        assert len(workers) == 2
        askers = Askers(server.url)
        time.sleep(1)
        served = current_build(index_dir)
        for name in files_of(served):  # what an mmap would have held
            truncate(served / name)
        time.sleep(2)
        add_faq(small_content)
        second, folder = _side_build(index_dir, small_content, tmp_path)
        truncate(folder / "ja/dense-0.npy", 1000)
        _publish(index_dir, folder)
        time.sleep(2)
        assert _served_everywhere(server, first)
        shutil.rmtree(index_dir / "builds" / first)  # a build made next must not need the damaged one
        third = build(small_content, index_dir, MODELS, progress=False)["build_id"]
        assert _served_everywhere(server, third)
        found = _get(server.url + "/api/v1/search?site=demo&q=" + urllib.parse.quote("解約したい"))[1]
        assert found["results"][0]["id"] == "ja-cancellation-how-to"
        results = askers.finish()
        assert _workers(server.proc.pid) == workers, server.output()[-3000:]
    finally:
        server.stop()
    failures = [r for r in results if not r[0]]
    assert len(results) > 20 and not failures, failures[:5]
    assert max(r[2] for r in results) < 10
    assert second not in (first, third)


def test_gunicorn_starts_on_the_newest_good_build_when_the_newest_is_broken(small_content, tmp_path):
    index_dir = tmp_path / "idx"
    first = build(small_content, index_dir, MODELS, progress=False)["build_id"]
    add_faq(small_content)
    second = build(small_content, index_dir, MODELS, progress=False)["build_id"]
    scramble(index_dir / "builds" / second / "ja/dense-0.npy")
    server = _serve(index_dir, tmp_path / "instance")
    try:
        workers = _both_workers(server.proc.pid)
        assert len(workers) == 2
        askers = Askers(server.url)
        assert _served_everywhere(server, first)
        add_faq(small_content, "cancellation/fees.md", "---\ntitle: 解約金はかかりますか？\n---\nかかりません。\n")
        third = build(small_content, index_dir, MODELS, progress=False)["build_id"]
        assert _served_everywhere(server, third)
        results = askers.finish()
        assert _workers(server.proc.pid) == workers
    finally:
        server.stop()
    failures = [r for r in results if not r[0]]
    assert len(results) > 20 and not failures, failures[:5]
