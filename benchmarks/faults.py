#!/usr/bin/env python3
"""Faults injected into the production command under a steady widget load, and what clients saw.

For each fault: a fresh instance (sample content's index, a new SQLite file in INSTANCE/db/), the
production command (fleet.server_command) on 127.0.0.1, and a steady load from one asyncio process:
--sessions widget sessions (think 0.3-1.5 s: pages' tours, progress, events in batches, a quarter
chatting over the socket or HTTP), 4 clients posting event batches of 20 (each batch sent again
until a 200 acknowledges it, as embed.js does), and a probe of /readyz and /api/v1/health every
0.5 s. --before s of load, the fault, --after s of load; every request is recorded (start,
latency, outcome) in benchmarks/.work/faults/<fault>.csv.

Faults:
  kill-worker       kill -9 of one worker during ingest
  kill-master       kill -9 of the gunicorn master during ingest; restarted as a supervisor would
  sqlite-locked     another process holds BEGIN EXCLUSIVE on the database file for --lock-seconds
  read-only         the database read-only for --read-only-seconds: chattr +i on the database file,
                    its -wal and its folder (root ignores permissions; the immutable flag binds root)
  index-reload-*    a new build goes live with one file (--index-file) truncated to half, or with its
                    bytes replaced by random ones (same size; a .npy keeps its header), for --index-seconds;
                    then a good build goes live (both made by index_builder.py, in a scratch copy of the index)
  index-start-*     the same damage to the live build before the server starts; a good build after --index-seconds
                    (and, after the load, whether `guide build-index` run over the damaged build repairs it)

Per fault: the slowest request, requests slower than --timeout + 2 s (the server's own longest
wait: 2 s for an event batch, 1.5 s DATABASE_TIMEOUT), 5xx by status (500 must be 0; 503 is the
expected answer during a fault), other errors, the time from the fault's end to the first success
of every route that failed, whether the server had to be restarted, and acknowledged events missing
from the database at the end.

    python benchmarks/faults.py [--quick] [--only kill-worker,read-only] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from common import WORK, machine, table, write_section
from fleet import (
    QUESTIONS,
    SITE,
    Acks,
    ChatSocket,
    Deadline,
    FleetConfig,
    Http,
    Recorder,
    Sample,
    Server,
    describe_command,
    event,
    fresh_build,
    ingest_client,
    make_instance,
    post_events,
    run_builder,
    run_prefix,
    sample_index,
    sessions_for,
    stored_ids,
    unlock_tree,
    user_token,
)

FAULTS = ("kill-worker", "kill-master", "sqlite-locked", "read-only",
          "index-reload-truncated", "index-reload-corrupted", "index-start-truncated", "index-start-corrupted")

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")  # in WAL mode: the write lock; readers go on
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
print("released", flush=True)
"""


@dataclass
class Run:
    """What one fault's injection reports back to the table."""
    start: float = float("nan")  # recorder seconds
    end: float = float("nan")
    restarted: str = ""  # why and how long, when the server had to be started again
    notes: list[str] = field(default_factory=list)
    skipped: str = ""
    resent: int = 0  # requests the client sent again on a new connection (fleet.Http.resent)
    still_failing: list[str] = field(default_factory=list)  # routes failing after the load (final_check)


# --- damage to an index build ---------------------------------------------------------------------

def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def corrupt(path: Path) -> None:
    """Random bytes, same size; a .npy keeps its header, so that only checksums can tell."""
    data = path.read_bytes()
    keep = 0
    if data[:6] == b"\x93NUMPY":
        keep = 10 + int.from_bytes(data[8:10], "little") if data[6] == 1 else 12 + int.from_bytes(data[8:12], "little")
    path.write_bytes(data[:keep] + random.randbytes(len(data) - keep))


def damage_of(fault: str, index_file: str):
    how = truncate if fault.endswith("truncated") else corrupt
    return lambda build: how(build / index_file)


async def served_everywhere(port: int, build_id: str, limit: float = 60.0) -> float | None:
    """Seconds until six /api/v1/health answers in a row (new connections: both workers) name ``build_id``."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        ids = []
        for _ in range(6):
            http = Http(port, timeout=5)
            try:
                status, _, raw = await http.call("GET", "/api/v1/health")
                ids.append(json.loads(raw).get("build_id") if raw else None)
            except (OSError, TimeoutError, ValueError):
                ids.append(None)
            finally:
                http.close()
        if set(ids) == {build_id}:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    return None


# --- the faults -----------------------------------------------------------------------------------

def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


async def kill_worker(ctx: Context, run: Run) -> None:
    await asyncio.sleep(ctx.args.before)
    before = set(ctx.server.workers())
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    run.start = run.end = ctx.rec.now()
    t = time.monotonic()
    while time.monotonic() - t < 30:
        if set(ctx.server.workers()) - before:
            run.notes.append(f"worker replaced by the master after {time.monotonic() - t:.1f} s")
            break
        await asyncio.sleep(0.05)
    else:
        run.notes.append("worker not replaced within 30 s")


async def kill_master(ctx: Context, run: Run) -> None:
    await asyncio.sleep(ctx.args.before)
    server = ctx.server
    workers = server.workers()
    os.kill(server.proc.pid, signal.SIGKILL)
    run.start = run.end = ctx.rec.now()
    t = time.monotonic()
    await asyncio.to_thread(server.proc.wait)
    while any(alive(p) for p in workers) and time.monotonic() - t < 15:
        await asyncio.sleep(0.05)
    left = [p for p in workers if alive(p)]
    if left:
        run.notes.append(f"{len(left)} worker(s) still running 15 s after their master died: killed")
        for p in left:
            os.kill(p, signal.SIGKILL)
    else:
        run.notes.append(f"workers exited {time.monotonic() - t:.1f} s after their master")
    run.end = ctx.rec.now()  # the fault lasts until the supervisor acts: recovery is counted from there
    server.start(append=True)  # as systemd or Kubernetes would
    try:
        await asyncio.to_thread(server.wait_up, 60.0)
        run.restarted = f"yes, by the supervisor (as any process killed -9): ready again {time.monotonic() - t:.1f} s after the kill"
    except RuntimeError as exc:
        run.restarted = f"yes, and it did not come back: {exc}"


async def sqlite_locked(ctx: Context, run: Run) -> None:
    await asyncio.sleep(ctx.args.before)
    holder = await asyncio.create_subprocess_exec(sys.executable, "-c", HOLD_LOCK, ctx.db_path, str(ctx.args.lock_seconds),
                                                  stdout=subprocess.PIPE)
    t = time.monotonic()
    if (await holder.stdout.readline()).strip() != b"held":
        run.skipped = "the lock could not be taken"
        return
    run.start = ctx.rec.now()
    run.notes.append(f"lock taken after {time.monotonic() - t:.1f} s")
    await holder.stdout.readline()
    await holder.wait()
    run.end = ctx.rec.now()


async def read_only(ctx: Context, run: Run) -> None:
    await asyncio.sleep(ctx.args.before)
    db = Path(ctx.db_path)
    # the -shm file stays writable: it is mapped, and a page written to an immutable file kills
    # the process with SIGBUS, which no read-only file system does to a process already running
    targets = [p for p in (db, db.with_name(db.name + "-wal")) if p.exists()] + [db.parent]
    done = []
    try:
        for p in targets:
            r = await asyncio.to_thread(subprocess.run, ["chattr", "+i", str(p)], capture_output=True, text=True)
            if r.returncode != 0:
                run.skipped = f"chattr +i failed here ({r.stderr.strip()}): no read-only fault as root"
                return
            done.append(p)
        run.start = ctx.rec.now()
        await asyncio.sleep(ctx.args.read_only_seconds)
    finally:
        for p in reversed(done):
            await asyncio.to_thread(subprocess.run, ["chattr", "-i", str(p)], capture_output=True)
    run.end = ctx.rec.now()


async def index_reload(ctx: Context, run: Run) -> None:
    await asyncio.sleep(ctx.args.before)
    broken = await asyncio.to_thread(fresh_build, ctx.source_index, ctx.index_dir, damage_of(ctx.fault, ctx.args.index_file))
    run.start = ctx.rec.now()
    await asyncio.sleep(ctx.args.index_seconds)
    await index_fixed(ctx, run, broken)


async def index_start(ctx: Context, run: Run) -> None:
    run.start = 0.0  # the damaged build was live before the server started
    await asyncio.sleep(ctx.args.before + ctx.args.index_seconds)
    await index_fixed(ctx, run, ctx.broken_build)


async def index_fixed(ctx: Context, run: Run, broken: str) -> None:
    seen = Counter(build for t, build in ctx.builds if t >= run.start)
    if seen.get(broken):
        run.notes.append(f"**the damaged build was served** ({seen[broken]} of {sum(seen.values())} health answers)")
    else:
        run.notes.append(f"damaged build never served (health answers named: {', '.join(sorted(map(str, seen))) or 'nothing'})")
    # the fault ends when a good build goes live (the builder run again on good files)
    good = await asyncio.to_thread(fresh_build, ctx.source_index, ctx.index_dir)
    run.end = ctx.rec.now()
    took = await served_everywhere(ctx.server.port, good)
    run.notes.append(f"good build served by every worker {took:.1f} s after it went live" if took is not None
                     else "good build not served within 60 s")


INJECT = {"kill-worker": kill_worker, "kill-master": kill_master, "sqlite-locked": sqlite_locked, "read-only": read_only,
          "index-reload-truncated": index_reload, "index-reload-corrupted": index_reload,
          "index-start-truncated": index_start, "index-start-corrupted": index_start}


# --- the steady load and the probe -------------------------------------------------------------------

@dataclass
class Context:
    fault: str
    args: argparse.Namespace
    server: Server
    db_path: str
    index_dir: Path
    source_index: Path  # the sample content's index (fleet.sample_index): good builds are made from it
    broken_build: str = ""
    rec: Recorder = field(default_factory=Recorder)
    probes: Recorder = field(default_factory=Recorder)
    builds: list[tuple[float, str]] = field(default_factory=list)  # (time, build id named by /api/v1/health)


async def probe(ctx: Context, until: Deadline) -> None:
    http = Http(ctx.server.port, timeout=10)
    while until:
        await http.timed(ctx.probes, "GET /readyz", "GET", "/readyz")
        t = ctx.probes.now()
        status, _, data = await http.timed(ctx.probes, "GET /api/v1/health", "GET", "/api/v1/health")
        if isinstance(data, dict) and status:
            ctx.builds.append((t, data.get("build_id")))
        await asyncio.sleep(0.5)
    http.close()


async def under_load(ctx: Context, acks: Acks) -> Run:
    """The steady load from before the fault until --after seconds after its end."""
    a = ctx.args
    until = Deadline(a.before + 600)  # moved once the fault has ended
    cfg = FleetConfig(sessions=a.sessions, chat_share=0.25, http_chat_share=0.34, think=(0.3, 1.5), chat_think=(1.0, 3.0), ramp=1.0)
    port = ctx.server.port
    load = [s.run(until) for s in sessions_for(cfg, port, ctx.rec, acks, seed=FAULTS.index(ctx.fault))]
    load += [ingest_client(port, ctx.rec, acks, n, until, pause=0.05) for n in range(a.ingest_clients)]
    run, resent = Run(), Http.resent

    async def inject():
        try:
            await INJECT[ctx.fault](ctx, run)
        finally:
            until.at = time.monotonic() + a.after

    await asyncio.gather(inject(), probe(ctx, until), *load)
    run.resent = Http.resent - resent
    if not run.skipped:
        run.still_failing = await final_check(port, acks)
    return run


async def final_check(port: int, acks: Acks) -> list[str]:
    """Each kind of request of the load once more, after it: the routes that still fail."""
    rec, http = Recorder(), Http(port, timeout=10)
    user, url = f"{acks.prefix}-check", "http://127.0.0.1:5000/demo/invoices"
    token = user_token(user)
    http.headers["X-Guide-Token"] = token
    await http.timed(rec, "GET /tours", "GET", f"/api/v1/tours?site={SITE}&user={user}&url=" + quote(url, safe=""))
    status, _, tour = await http.timed(rec, "GET /tours/<id>", "GET", f"/api/v1/tours/welcome?site={SITE}&user={user}")
    await http.timed(rec, "POST /identify", "POST", "/api/v1/identify", {"site": SITE, "user": user, "token": token})
    if status == 200:
        await http.timed(rec, "POST /tours/progress", "POST", "/api/v1/tours/progress", {
            "site": SITE, "user": user, "token": token, "tour": "welcome", "version": tour["version"], "step": 0, "status": "active"})
    await post_events(http, rec, acks, {"site": SITE, "user": user, "token": token,
                                        "events": [event(f"{acks.prefix}-check-0", 0, url)]})
    await http.timed(rec, "POST /ask", "POST", "/api/v1/ask", {"site": SITE, "question": QUESTIONS["ja"][0]})
    http.close()
    started, sock = time.monotonic(), ChatSocket(port)
    try:
        await sock.open(10)
        rec.add("WS open", started, "ok", 101)
        started = time.monotonic()
        reply = await sock.ask(QUESTIONS["en"][0], {"user": user, "token": token}, url, 10)
        rec.add("WS ask", started, "ok" if reply.get("type") == "answer" else "5xx", reply.get("error", {}).get("status", 0))
    except (OSError, TimeoutError):
        rec.add("WS open" if sock.reader_task is None else "WS ask", started, "conn")
    finally:
        await sock.close()
    return sorted({s.route for s in rec.samples if failed(s)})


# --- figures -----------------------------------------------------------------------------------------

SOCKET_LOST = ("WS socket", "WS idle socket")  # a socket closed under the client: an event, not a request


def failed(s: Sample) -> bool:
    return s.outcome not in ("ok", "4xx")


def recovery(samples: list[Sample], start: float, end: float, still_failing: list[str]) -> tuple[str, int]:
    """(when every route that failed while the fault lasted answered again, counted from the fault's
    end to its first success; failures after that). A request in flight across the fault counts.
    ``still_failing``: routes that failed the check after the load (final_check)."""
    samples = [s for s in samples if s.route not in SOCKET_LOST]
    hit = {s.route for s in samples if failed(s) and s.t <= end + 1.0 and s.t + s.ms / 1000 >= start}
    worst = 0.0
    for route in hit:
        ok = [s.t + s.ms / 1000 for s in samples if s.route == route and s.t >= end and not failed(s)]
        if ok:  # a rare route may not come again before the load ends: final_check tries it
            worst = max(worst, min(ok) - end)
    after = sum(failed(s) for s in samples if s.t > end + worst)
    if still_failing:
        return "not recovered: " + ", ".join(still_failing), after
    return (f"{worst:.1f} s" if hit else "nothing failed"), after


def row(fault: str, ctx: Context | None, run: Run, acks: Acks | None, stored: set[str], log: tuple[Counter, int],
        args: argparse.Namespace) -> list:
    if run.skipped:
        return [fault, "–", "skipped: " + run.skipped] + ["–"] * 9
    samples = ctx.rec.samples
    threshold = args.timeout + 2.0
    fives = Counter(s.status for s in samples if s.outcome == "5xx")
    fives.update(s.status for s in ctx.probes.samples if s.outcome == "5xx" and s.status != 503)
    other = Counter(s.outcome for s in samples if failed(s) and s.outcome != "5xx")
    recovered, after = recovery(samples, run.start, run.end, run.still_failing)
    readyz = sum(s.status == 503 for s in ctx.probes.samples if s.route == "GET /readyz")
    statuses, log_errors = log
    notes = [*run.notes, f"/readyz 503 ×{readyz}"]
    if run.resent:
        notes.append(f"resent ×{run.resent}")
    if statuses.get(500):
        notes.append(f"request log: 500 ×{statuses[500]}")
    if log_errors:
        notes.append(f"{log_errors} error lines in the server log")
    held = run.end - run.start
    lost = len(acks.acked - stored)
    return [
        fault, f"{held:.1f} s" if held == held else "–",
        len(samples), f"{max((s.ms for s in samples), default=0) / 1000:.2f} s", sum(s.ms > threshold * 1000 for s in samples),
        ", ".join(f"{k}×{v}" for k, v in sorted(fives.items())) or "0",
        ", ".join(f"{k}×{v}" for k, v in sorted(other.items())) or "0",
        recovered, after, run.restarted or "no", f"{len(acks.acked)} / {lost}", "; ".join(notes),
    ]


def save_samples(fault: str, ctx: Context) -> None:
    out = WORK / "faults" / f"{fault}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["start_s", "route", "ms", "outcome", "status"])
        for s in sorted(ctx.rec.samples + ctx.probes.samples, key=lambda s: s.t):
            w.writerow([f"{s.t:.3f}", s.route, f"{s.ms:.1f}", s.outcome, s.status])


def run_fault(fault: str, args, index: Path) -> list:
    folder = WORK / "faults" / fault
    env = make_instance(folder, index)
    index_dir = folder / "index"
    broken = ""
    if fault.startswith("index-start"):
        broken = fresh_build(index, index_dir, damage_of(fault, args.index_file))
    server = Server(f"fault-{fault}", env, args.server_cmd).start()
    acks = Acks(run_prefix())
    db_path = env["GUIDE_DATABASE_URL"].removeprefix("sqlite:///")
    try:
        try:
            server.wait_up(ready=not broken)  # a server whose index is broken is alive, not ready
        except RuntimeError as exc:
            return [fault, "–", f"the server did not start: {exc}"] + ["–"] * 6 + ["yes"] + ["–"] * 2
        if not broken:
            server.warm()
        ctx = Context(fault, args, server, db_path, index_dir, index, broken)
        run = asyncio.run(under_load(ctx, acks))
        log = server.logged()
    finally:
        server.stop()
        unlock_tree(folder)
    save_samples(fault, ctx)
    if fault.startswith("index"):
        run.notes.append(rebuild_repairs(index, fault, args.index_file))
    stored = stored_ids(env["GUIDE_DATABASE_URL"], acks.prefix) if not run.skipped else set()
    return row(fault, ctx, run, acks, stored, log, args)


def rebuild_repairs(source_index: Path, fault: str, index_file: str) -> str:
    """Whether the operator's next `guide build-index` over the damaged live build makes a good one
    (in a copy, after the load): content unchanged, the builder may keep the damaged files."""
    folder = WORK / "faults" / "rebuild-check"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source_index, folder)
    try:
        damaged = folder / "builds" / fresh_build(source_index, folder, damage_of(fault, index_file))
        bad = hashlib.sha256((damaged / index_file).read_bytes()).hexdigest()
        try:
            rebuilt = run_builder(folder)
        except RuntimeError as exc:
            return f"`guide build-index` over it fails: {str(exc)[-200:]}"
        kept = hashlib.sha256((rebuilt / index_file).read_bytes()).hexdigest() == bad
        return "**`guide build-index` over it keeps the damage**" if kept else "`guide build-index` over it makes a good build"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help=f"comma-separated faults: {', '.join(FAULTS)}")
    ap.add_argument("--sessions", type=int, default=24, help="widget sessions of the steady load")
    ap.add_argument("--ingest-clients", type=int, default=4)
    ap.add_argument("--before", type=float, default=5.0, help="seconds of load before the fault")
    ap.add_argument("--after", type=float, default=15.0, help="seconds of load after it")
    ap.add_argument("--lock-seconds", type=float, default=40.0)
    ap.add_argument("--read-only-seconds", type=float, default=20.0)
    ap.add_argument("--index-seconds", type=float, default=10.0, help="how long a damaged build stays live")
    ap.add_argument("--index-file", default="ja/dense-0.npy", help="the file of a build that is damaged (e.g. ja/docs.jsonl)")
    ap.add_argument("--timeout", type=float, default=2.0, help="the server's own longest wait; slower than this + 2 s is a hang")
    ap.add_argument("--server-cmd", help="the server command instead of the documented one; {port} is replaced")
    ap.add_argument("--quick", action="store_true", help="short faults for development; prints, never writes BENCHMARKS.md")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.before, args.after = min(args.before, 3.0), min(args.after, 8.0)
        args.lock_seconds, args.read_only_seconds, args.index_seconds = (min(args.lock_seconds, 6.0), min(args.read_only_seconds, 5.0),
                                                                         min(args.index_seconds, 4.0))
    faults = args.only.split(",") if args.only else list(FAULTS)
    unknown = set(faults) - set(FAULTS)
    if unknown:
        ap.error(f"unknown faults: {', '.join(sorted(unknown))}")
    if "read-only" in faults and not shutil.which("chattr"):
        print("chattr is missing: the read-only fault will be skipped", file=sys.stderr)

    index = sample_index()
    rows = []
    for fault in faults:
        rows.append(run_fault(fault, args, index))
        print(rows[-1], flush=True)

    mode = " (**--quick**: shortened faults, development figures)" if args.quick else ""
    text = "\n".join([
        "## Faults (`benchmarks/faults.py`)", "",
        f"Machine: {machine()}. Server: `{describe_command(args.server_cmd)}` on 127.0.0.1, sample content, SQLite, "
        f"a fresh instance per fault{mode}. Steady load from one asyncio process: {args.sessions} widget sessions "
        f"(0.3-1.5 s think time; a quarter chat), {args.ingest_clients} clients posting event batches of 20 "
        "(each sent again until acknowledged), /readyz and /api/v1/health probed every 0.5 s. "
        f"{args.before:.0f} s of load, the fault, {args.after:.0f} s of load. Held: SQLite locked {args.lock_seconds:.0f} s "
        f"(another process in `BEGIN EXCLUSIVE`), read-only {args.read_only_seconds:.0f} s (`chattr +i` on the database "
        f"file, its -wal and its folder: the immutable flag binds root too), a damaged index build live "
        f"{args.index_seconds:.0f} s (`{args.index_file}` truncated to half, or its bytes random, same size, .npy header "
        "kept), then a good build goes live.", "",
        f"\"> {args.timeout + 2:.0f} s\": requests slower than the server's longest own wait ({args.timeout:.0f} s) + 2 s "
        "(client timeout 30 s). 5xx by status (probes' 503s excluded: readiness says 503 on purpose). Other errors: failed "
        "connections, timeouts, sockets closed under the client. \"resent\": requests sent again on a new connection because "
        "the kept-alive one failed before any answer, as browsers do (not counted as errors). Recovered: from the fault's end to the first success "
        "of every route that failed during it. Events: acknowledged / acknowledged but missing from the database.", "",
        table(["fault", "held", "requests", "slowest", f"> {args.timeout + 2:.0f} s", "5xx", "other errors", "recovered after",
               "failures after recovery", "restart needed", "events acked / lost", "notes"], rows),
    ])
    print(text)
    if not args.no_write and not args.quick:  # quick figures are for development, never the report
        write_section("faults", text)


if __name__ == "__main__":
    main()
