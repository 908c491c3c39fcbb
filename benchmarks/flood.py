#!/usr/bin/env python3
"""One site flooding past its abuse limits from many addresses while another site's widgets are served.

The production command (fleet.server_command) on 127.0.0.1 with two sites, "demo" (B: --sessions
widget sessions, as load.py's, from 127.0.0.1) and "flood" (A), and every abuse limit at its
default (docs/operations.md, "Abuse limits"; fleet.CAPACITY_LIMITS are not applied here). Each
scenario on a fresh instance:

  idle   B's sessions alone, for --duration s after a 5 s ramp;
  floods the same, while A's clients (--flood-clients, each from its own loopback address
         127.0.x.y, so that the server sees that many client addresses) send requests on a fixed
         schedule, whatever the answers, in a separate process (so the flood's CPU does not delay
         B's client). --floods lists them as KINDS@RATE[/SHARE], RATE the requests/s of all A's
         clients together; KINDS is mixed (ask, tours, events, search, identify in turn) or one
         kind, e.g. ask, the costliest; SHARE a LIMIT_SITE other than the default for that run
         ("idle/SHARE": B alone with it). At its limit A is served ~30-70 requests/s, by kind; the
         default floods offer about 1.5 times that, and one of them three times.

B's HTTP p99 during the flood over B's p99 alone is the figure the issue asks for (≤ 1.5); A's 429s
by the limit that refused them, and 5xx of either site (0 expected).

    python benchmarks/flood.py [--quick] [--floods mixed@100,ask@50,mixed@200,idle/0.2,mixed@100/0.2] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import random
import resource
import threading
import time
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlencode

from common import WORK, machine, table, write_section
from fleet import (
    CAPACITY_LIMITS,
    PAGES,
    QUESTIONS,
    Acks,
    FleetConfig,
    Server,
    describe_command,
    error_text,
    event,
    make_instance,
    run_prefix,
    sample_index,
)
from load import widgets

SITE_B, SITE_A = "demo", "flood"  # B is fleet.SITE, the site fleet's sessions name
SITES = {SITE_B: {"name": "B", "identity": "open", "origins": []}, SITE_A: {"name": "A", "identity": "open", "origins": []}}
MIXED = ("ask", "tours", "events", "search", "identify")


def ms(v: float) -> str:
    return "–" if v != v else f"{v:.0f}" if v >= 100 else f"{v:.1f}"


@contextmanager
def serving(name: str, index, share: str | None = None):
    env = make_instance(WORK / "flood" / name, index)
    for key in CAPACITY_LIMITS:
        env.pop(key)  # the limits at their defaults: what is measured here
    env["GUIDE_SITES"] = json.dumps(SITES)
    if share is not None:
        env["GUIDE_LIMIT_SITE"] = share
    server = Server(f"flood-{name}", env).start()
    try:
        server.wait_up()
        server.warm()
        yield server
    finally:
        server.stop()


# --- site A: the flood, in its own process --------------------------------------------------------

def flood_request(kind: str, client: int, k: int, rng: random.Random) -> tuple[str, str, bytes | None]:
    """(method, path, body) of one of A's requests; a few anonymous ids a client, as a script would rotate."""
    anon = f"x{client}-{k % 4}"
    url = f"http://127.0.0.1:5000{rng.choice(PAGES)}"
    if kind == "tours":
        return "GET", "/api/v1/tours?" + urlencode({"site": SITE_A, "url": url, "anon": anon}), None
    if kind == "search":
        return "GET", "/api/v1/search?" + urlencode({"site": SITE_A, "q": rng.choice(QUESTIONS["en"])}), None
    body: dict = {"site": SITE_A, "anon": anon}
    if kind == "ask":
        body["question"] = rng.choice(QUESTIONS[rng.choice(("ja", "en"))])
    elif kind == "events":
        body["events"] = [event(f"flood-{client}-{k}-{n}", n, url) for n in range(5)]
    elif kind == "identify":
        body = {"site": SITE_A, "user": anon, "traits": {"plan": "pro"}}
    path = {"ask": "/api/v1/ask", "events": "/api/v1/events", "identify": "/api/v1/identify"}[kind]
    return "POST", path, json.dumps(body).encode()


def flood_client(port: int, client: int, kinds: tuple[str, ...], rate: float, seconds: float, out: Counter,
                 lock: threading.Lock) -> None:
    """Requests on a fixed schedule from 127.0.x.y, whatever the answers (a 429 is not waited out)."""
    source = (f"127.0.{client // 250}.{client % 250 + 2}", 0)
    rng = random.Random(client)
    conn = None
    start = time.monotonic() + rng.random() / rate
    mine = Counter()
    k = 0
    while True:
        due = start + k / rate
        if due - start >= seconds:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        method, path, body = flood_request(kinds[k % len(kinds)], client, k, rng)
        k += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=source)
            conn.request(method, path, body, {"Content-Type": "text/plain;charset=UTF-8"} if body else {})
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            mine["error"] += 1
            conn = None
            continue
        if resp.status == 429:
            per = json.loads(data)["error"]["details"]["per"]
            mine[f"429 per {per}"] += 1
        else:
            mine["5xx" if resp.status >= 500 else "served"] += 1
    with lock:
        out.update(mine)


def flood(port: int, clients: int, kinds: tuple[str, ...], rate: float, seconds: float, results) -> None:
    """The flood process: ``clients`` threads sending ``rate`` requests/s together; puts its counts and
    its CPU seconds on ``results``."""
    out, lock = Counter(), threading.Lock()
    threads = [threading.Thread(target=flood_client, args=(port, n, kinds, rate / clients, seconds, out, lock), daemon=True)
               for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r = resource.getrusage(resource.RUSAGE_SELF)
    results.put((dict(out), r.ru_utime + r.ru_stime))


def scenario(name: str, index, cfg: FleetConfig, args, kinds: tuple[str, ...] | None = None, rate: float = 0,
             share: str | None = None) -> dict:
    with serving(name, index, share) as server:
        proc, results = None, None
        if kinds:
            results = multiprocessing.get_context("fork").Queue()
            proc = multiprocessing.get_context("fork").Process(
                target=flood, args=(server.port, args.flood_clients, kinds, rate, cfg.ramp + args.duration, results))
            proc.start()
        r = asyncio.run(widgets(server, cfg, args.duration, 0, Acks(run_prefix())))  # site B, as load.py measures it
        r["429"] = sum(sample.status == 429 for sample in r["rec"].samples)
        if proc is not None:
            r["flood"], flood_cpu = results.get(timeout=120)
            proc.join(30)
            r["flood_cpu"] = flood_cpu / (cfg.ramp + args.duration)
        statuses, _ = server.logged()
        r["log_5xx"] = sum(v for k, v in statuses.items() if k >= 500)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=100, help="site B's widget sessions")
    ap.add_argument("--chat-share", type=float, default=0.10)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of each scenario, after a 5 s ramp")
    ap.add_argument("--flood-clients", type=int, default=40, help="site A's clients, each from its own address")
    ap.add_argument("--floods", default="mixed@100,ask@50,mixed@200,idle/0.2,mixed@100/0.2,ask@50/0.2",
                    help="KINDS@RATE,...: mixed (ask, tours, events, search, identify in turn) or one kind, at RATE requests/s in all")
    ap.add_argument("--quick", action="store_true", help="15 s scenarios; prints, never writes BENCHMARKS.md")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.duration = min(args.duration, 15.0)

    index = sample_index()
    cfg = FleetConfig(sessions=args.sessions, chat_share=args.chat_share)
    runs = {"idle": scenario("idle", index, cfg, args)}
    print("idle", runs["idle"]["http"], flush=True)
    for name in args.floods.split(","):
        spec, _, share = name.partition("/")
        kind, _, rate = spec.partition("@")
        kinds = None if kind == "idle" else MIXED if kind == "mixed" else (kind,)
        runs[name] = scenario(name.replace("@", "-").replace("/", "-"), index, cfg, args, kinds, float(rate or 0), share or None)
        print(name, runs[name]["http"], runs[name].get("flood"), flush=True)
    runs["idle again"] = scenario("idle-again", index, cfg, args)  # how much B's p99 alone varies by itself

    text = report(args, runs)
    print(text)
    if not args.no_write and not args.quick:
        write_section("flood", text)


def report(args, runs: dict) -> str:
    seconds = args.duration + FleetConfig().ramp
    idle_p99 = (runs["idle"]["http"]["p99"] + runs["idle again"]["http"]["p99"]) / 2
    rows, ratios = [], []
    for name, r in runs.items():
        h, w, f = r["http"], r["ws"], r.get("flood", {})
        refused = sum(v for k, v in f.items() if k.startswith("429"))
        per = ", ".join(f"{k.split()[-1]} {v}" for k, v in sorted(f.items()) if k.startswith("429")) or "–"
        rows.append([label(name),
                     h["n"], f"{h['rps']:.0f}", ms(h["p50"]), ms(h["p95"]), ms(h["p99"]), ms(h["max"]),
                     f"{ms(w['p50'])} / {ms(w['p99'])}" if w["n"] else "–", error_text(r["all"]["by_error"]), r["429"],
                     *([f"{sum(f.values()) / seconds:.0f}", f"{f.get('served', 0) / seconds:.0f}", refused, per,
                        f"{f.get('5xx', 0)} / {f.get('error', 0)}"] if f else ["–"] * 5),
                     r["log_5xx"], f"{r['server_cpu']:.0%}",
                     f"{r['client_cpu']:.0%}" + (f" + {r['flood_cpu']:.0%}" if f else ""),
                     f"{h['p99'] / idle_p99:.2f}" if f else "–"])
        if f:
            ratios.append(f"{label(name)[7:]}: **{h['p99'] / idle_p99:.2f}** ({ms(h['p99'])} ms / {ms(idle_p99)} ms)")
    mode = " (**--quick**: development figures, not the acceptance run)" if args.quick else ""
    return "\n".join([
        "## Flood: one site past its abuse limits, another site's widgets (`benchmarks/flood.py`)", "",
        f"Machine: {machine()}; the clients share the 2 cores with the server. Server: `{describe_command()}` on "
        "127.0.0.1, sample content, SQLite, two sites, every abuse limit at its default (docs/operations.md, \"Abuse "
        "limits\": `LIMIT_SITE` 0.05 s of answering a second a process, 25 users' worth an address, ...), counted in "
        f"memory; a fresh instance per scenario{mode}. Each scenario: a 5 s ramp, then {args.duration:.0f} s measured.", "",
        f"Site B: {args.sessions} widget sessions from 127.0.0.1, as benchmarks/load.py's ({args.chat_share:.0%} chatting "
        f"over /ws/chat, a quarter of those over HTTP). Site A: {args.flood_clients} clients, each from its own loopback "
        "address (127.0.0.2, 127.0.0.3, ...: that many client addresses for the server), sending on a fixed schedule "
        "whatever the answers, from a separate process: \"mixed\" is ask, tours, events (batches of 5), search and "
        "identify in turn, \"ask\" questions only (the costliest request); the rate is all of A's clients together. "
        "Each address stays under its own limits: what refuses A is its site's budget.", "",
        "Latencies in ms, measured by B's client. B's errors: 5xx, timeouts, failed connections, sockets closed under "
        "the client. A's 429s by the limit that refused them; A's 5xx / failed connections; server 5xx: the request "
        "log's. CPU: share of one core (clients: B's + A's process). p99 ratio: B's HTTP p99 over the mean of B's two "
        "runs alone (first and last, to show how much that figure moves by itself).", "",
        table(["scenario", "B: HTTP requests", "req/s", "p50", "p95", "p99", "max", "B: WS ask p50 / p99", "B: errors",
               "B: 429", "A: sent/s", "A: served/s", "A: 429", "A: 429 per", "A: 5xx / errors", "server 5xx",
               "server CPU", "client CPU", "p99 ratio"], rows), "",
        "**B's HTTP p99 during the flood / alone** (the issue asks ≤ 1.5 for a site flooding at its limit): "
        + "; ".join(ratios) + ".", "",
        "B by route (n, p50, p99 in ms):", "",
        table(["route", *map(label, runs)],
              [[route, *(route_cell(r["routes"].get(route)) for r in runs.values())]
               for route in sorted({route for r in runs.values() for route in r["routes"]})]),
    ])


def label(name: str) -> str:
    spec, _, share = name.partition("/")
    text = {"idle": "B alone", "idle again": "B alone, again at the end"}.get(spec, f"B + A: {spec.replace('@', ' at ')}/s")
    return f"{text}, LIMIT_SITE {share}" if share else text


def route_cell(f: dict | None) -> str:
    return f"{f['n']}, {ms(f['p50'])}, {ms(f['p99'])}" if f else "–"

if __name__ == "__main__":
    main()
