import json
import os
import queue
import subprocess
import sys
import threading
import time

from tests.support import ROOT


def guide(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "guide_server.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=300)


def test_search_jsonl_one_line_per_query(sample_index):
    out = guide("search", "--index", str(sample_index), "--locale", "ja", "-k", "5", "--jsonl",
                stdin="請求書をメールで送りたい\n\nパスワード忘れた\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["query"] for r in rows] == ["請求書をメールで送りたい", "パスワード忘れた"]
    assert all(len(r["ids"]) == 5 and len(r["scores"]) == 5 for r in rows)
    assert rows[0]["ids"][0] == "ja-invoices-send-email"
    assert rows[0]["scores"] == sorted(rows[0]["scores"], reverse=True)


def test_ask_prints_the_decision_and_each_methods_score(sample_index):
    out = guide("ask", "請求書をメールで送りたい", "--index", str(sample_index), "-k", "2")
    assert out.returncode == 0, out.stderr
    first, *rest = out.stdout.splitlines()
    assert first.startswith("answer ")
    assert "ja-invoices-send-email" in rest[0] and "dense" in rest[1] and "bm25" in rest[1]


def test_missing_index_is_a_clear_error(tmp_path):
    out = guide("ask", "x", "--index", str(tmp_path / "nothing"))
    assert out.returncode != 0 and "guide build-index" in out.stderr
    serve = guide("serve", "--port", "0", env={"GUIDE_INSTANCE_PATH": str(tmp_path)})
    assert serve.returncode == 1 and "not built yet" in serve.stderr


def test_build_index_reports_content_errors(tmp_path):
    (tmp_path / "faq" / "ja").mkdir(parents=True)
    (tmp_path / "faq" / "ja" / "a.md").write_text("---\ntitle: a\n---\n", encoding="utf-8")
    out = guide("build-index", "--content", str(tmp_path), "--out", str(tmp_path / "idx"))
    assert out.returncode == 1
    assert "ja/a.md:4: empty body" in out.stderr and "left as it was" in out.stderr


def test_index_builder_runs_without_flask_and_reads_the_servers_settings(small_content, tmp_path):
    (tmp_path / "inst").mkdir()
    (tmp_path / "inst" / "guide.toml").write_text(f'content_dir = "{small_content}"\n', encoding="utf-8")
    code = ("import runpy, sys\n"
            "sys.argv = ['index_builder.py', '--quiet']\n"
            "try:\n    runpy.run_path('index_builder.py', run_name='__main__')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print('flask loaded' if 'flask' in sys.modules else 'no flask')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "GUIDE_INSTANCE_PATH": str(tmp_path / "inst")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("no flask")
    # the content folder came from the instance's guide.toml, the index went into the instance folder
    assert "ja: 2 FAQs, en: 1 FAQs" in out.stdout and (tmp_path / "inst" / "index" / "CURRENT").is_file()


class _Lines:
    """A child's output read by threads, so that a test waits for a line with a deadline
    instead of blocking forever, and a full stderr pipe never stalls the child."""

    def __init__(self, proc):
        self.stdout, self.stderr = queue.Queue(), []
        threading.Thread(target=lambda: [self.stdout.put(line) for line in proc.stdout], daemon=True).start()
        threading.Thread(target=lambda: [self.stderr.append(line) for line in proc.stderr], daemon=True).start()

    def next(self, timeout: float = 120) -> str:
        try:
            return self.stdout.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output for {timeout}s; stderr: {''.join(self.stderr)[-2000:]}") from None


def start_watch(content, out) -> tuple[subprocess.Popen, _Lines]:
    """``index_builder.py --watch`` as a child process, and its output."""
    proc = subprocess.Popen([sys.executable, "index_builder.py", "--content", str(content), "--out", str(out),
                             "--quiet", "--watch"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return proc, _Lines(proc)


def test_watch_rebuilds_when_a_file_changes(small_content, tmp_path):
    from guide_server.search.builder import load_indexes

    out = tmp_path / "idx"
    proc, lines = start_watch(small_content, out)
    try:
        assert lines.next().startswith("built ")
        assert lines.next().startswith("watching ")
        path = small_content / "faq/ja/billing/plans.md"
        path.write_text(path.read_text(encoding="utf-8") + "\n年払いもあります。\n", encoding="utf-8")
        line = lines.next()
        assert line.startswith("built ") and "1 texts embedded" in line
        (small_content / "faq/ja/billing/broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
        deadline = time.monotonic() + 60
        while not any("broken.md" in err for err in lines.stderr) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None  # a content error does not stop the watcher
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert any("broken.md" in err for err in lines.stderr)
    _, indexes = load_indexes(out)
    assert "年払い" in indexes["ja"].faqs[indexes["ja"].by_id["ja-billing-plans"]].body
