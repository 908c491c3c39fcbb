"""What load.py and faults.py share: the production server on loopback, and widgets as browsers run them.

- ``Server``: the production command (``server_command``, the one place it is spelled) on a fresh
  instance folder, with its request log kept in benchmarks/.work/.
- ``Http`` and ``ChatSocket``: a browser's kept-alive HTTP/1.1 connection and the chat WebSocket
  (framed by wsproto, the library the server uses), on one asyncio loop, every call with a timeout.
- ``Session``: one widget on a page, as embed.js behaves (guide_server/widget/js/): identify, the
  page's tours, steps saved as progress, events queued and sent in batches of 20 (sent again until
  acknowledged), and for some sessions the chat, over the socket or over HTTP.
- ``Recorder``: one sample per request (start, route, latency, outcome), and the figures of a set.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import math
import os
import random
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from common import ROOT, WORK, load_queries

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SITE = "demo"


def user_token(user: str) -> str:
    """The token the host app's server signs for ``user``, as the demo does: the default demo site
    verifies its users (docs/embed.md, "Identity verification"), so a session that names a user
    sends it, in its POST bodies and chat messages, and as X-Guide-Token on its GETs."""
    from guide_server.settings import DEMO_SITE
    from guide_server.web.identity import sign

    return sign({"sub": user, "aud": SITE, "exp": int(time.time()) + 86400}, DEMO_SITE["identity_secrets"][0])
PAGES = ["/demo", "/demo/invoices", "/demo/invoices/new", "/demo/partners", "/demo/settings", "/demo/reports"]
CLIENT_TIMEOUT = 30.0  # seconds before the client gives up on a request: a hang shows as a timeout, never a stuck run
QUESTIONS = {loc: [q["query"] for q in load_queries(ROOT / f"benchmarks/queries/{loc}.jsonl")] for loc in ("ja", "en")}


# --- the server ----------------------------------------------------------------------------------

def server_command(port: int, override: str | None = None) -> list[str]:
    """The documented production command, bound to 127.0.0.1:port. ``override``: a command line with
    ``{port}`` in it (``--server-cmd``)."""
    if override:
        return shlex.split(override.format(port=port))
    gunicorn = [sys.executable, "-m", "gunicorn"]
    app = "guide_server:create_app()"
    if (ROOT / "guide_server" / "ops" / "gunicorn_conf.py").exists():
        return [*gunicorn, "-c", "python:guide_server.ops.gunicorn_conf", "-b", f"127.0.0.1:{port}", app]
    return [*gunicorn, "-k", "gthread", "-w", "2", "--threads", "8", "-b", f"127.0.0.1:{port}", app]


def describe_command(override: str | None = None) -> str:
    """The command as a person would type it (for the report)."""
    cmd = server_command(0, override)
    if not override:
        cmd = ["gunicorn", *cmd[3:]]  # "python -m gunicorn"
    return shlex.join(cmd).replace("127.0.0.1:0", "127.0.0.1:PORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_index() -> Path:
    """The sample content's index (content/), built once into benchmarks/.work/fleet-index; a rebuild
    of unchanged content takes a fraction of a second."""
    out = WORK / "fleet-index"
    run_builder(out)
    return out


def current_build_of(index_dir: Path) -> Path:
    return index_dir / "builds" / (index_dir / "CURRENT").read_text().strip()


def make_live(index_dir: Path, build: Path) -> str:
    """Move ``build`` (a build folder on the same file system) into ``index_dir`` and make it the live
    build, as the builder does: renamed into builds/, then CURRENT replaced. Returns its id."""
    (index_dir / "builds").mkdir(parents=True, exist_ok=True)
    os.replace(build, index_dir / "builds" / build.name)
    pointer = index_dir / f".CURRENT.bench-{os.getpid()}"
    pointer.write_text(build.name + "\n")
    os.replace(pointer, index_dir / "CURRENT")
    return build.name


def run_builder(index_dir: Path) -> Path:
    """``index_builder.py --out index_dir`` (the real builder, content/): the new live build."""
    done = subprocess.run([sys.executable, "index_builder.py", "--out", str(index_dir), "--quiet"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"index_builder.py failed: {done.stderr[-2000:]}")
    return current_build_of(index_dir)


def fresh_build(source_index: Path, dest_index: Path, damage=None) -> str:
    """A new build made by the real builder in a scratch copy of ``source_index`` (so that nothing of
    ``dest_index`` is its cache), ``damage(folder)`` applied to it, then made live in ``dest_index``."""
    scratch = dest_index.parent / f".scratch-{time.monotonic_ns()}"
    shutil.copytree(source_index, scratch)
    try:
        build = run_builder(scratch)
        if damage is not None:
            damage(build)
        return make_live(dest_index, build)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def unlock_tree(folder: Path) -> None:
    """Undo ``chattr +i`` (faults.py's read-only database) anywhere under ``folder``."""
    if folder.exists() and shutil.which("chattr"):
        subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True)


# The abuse limits (docs/operations.md, "Abuse limits") stay at their defaults but one, because these
# benchmarks measure capacity, not limits: ingest clients post event batches back to back, hundreds a
# second each, where a browser sends one every 3 s at most. The sessions all come from 127.0.0.1 and
# fit under the address limits (25 users' worth: load.py's 200 sessions send ~1,500 progress saves,
# the busiest kind, a minute a worker, against 3,000); the site budget (LIMIT_SITE) does not apply
# to a server of one site. flood.py measures the limits themselves, with two sites.
CAPACITY_LIMITS = {"GUIDE_LIMIT_EVENTS": "0"}


def make_instance(folder: Path, index_source: Path, database_url: str | None = None) -> dict[str, str]:
    """A fresh instance folder: the index's live build copied in, the SQLite file in its own folder
    (db/, so that faults.py can make it read-only alone). Returns the server's environment."""
    unlock_tree(folder)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "db").mkdir(parents=True)
    source = current_build_of(index_source)
    shutil.copytree(source, folder / "index" / "tmp" / source.name)  # copies: damage done here stays here
    make_live(folder / "index", folder / "index" / "tmp" / source.name)
    (folder / "index" / "tmp").rmdir()
    return {
        "GUIDE_INSTANCE_PATH": str(folder),
        "GUIDE_DATABASE_URL": database_url or f"sqlite:///{folder / 'db' / 'guide.db'}",
        "GUIDE_SECRET_KEY": "benchmark-secret-key-not-for-production-0123456789",
        **CAPACITY_LIMITS,
    }


class Server:
    """The production command on 127.0.0.1, its output (the JSON request log) in a file."""

    def __init__(self, name: str, env: dict[str, str], override: str | None = None, port: int | None = None):
        self.name, self.override = name, override
        self.port = port or free_port()
        self.env = dict(os.environ, **env)
        self.log_path = WORK / "logs" / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self, append: bool = False) -> Server:
        log = open(self.log_path, "a" if append else "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(server_command(self.port, self.override), env=self.env, cwd=ROOT, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def wait_up(self, limit: float = 180.0, ready: bool = True) -> float:
        """Seconds from start until /readyz says 200 (``ready``), or until any answer of /livez."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: the server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                status, _ = self.get("/readyz" if ready else "/livez", 2.0)
                if status == 404:  # a server without the ops module
                    status, _ = self.get("/api/v1/health", 2.0)
                if status == 200 or (not ready and status < 500):
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not up after {limit:.0f} s; see {self.log_path}")

    def warm(self, n: int = 12) -> None:
        """Each worker answers a few questions and a page's tours before anything is measured."""
        for i in range(n):
            body = json.dumps({"site": SITE, "question": QUESTIONS["ja" if i % 2 else "en"][i]})
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("POST", "/api/v1/ask", body, {"Content-Type": "application/json"})
                conn.getresponse().read()
                conn.request("GET", f"/api/v1/tours?site={SITE}&url=http%3A%2F%2F127.0.0.1%2Fdemo")
                conn.getresponse().read()
            except OSError:
                pass
            finally:
                conn.close()

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.proc is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [self.proc.pid, *(int(p) for p in out.split())]

    def workers(self) -> list[int]:
        return self.pids()[1:]

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                pass
        return total

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def logged(self) -> tuple[Counter, int]:
        """From the server's log: statuses of the request log, and the lines at level error or worse."""
        statuses, errors = Counter(), 0
        with open(self.log_path, errors="replace") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    errors += "Traceback" in line
                    continue
                if "status" in rec:
                    statuses[rec["status"]] += 1
                if rec.get("level") in ("error", "critical"):
                    errors += 1
        return statuses, errors


# --- samples --------------------------------------------------------------------------------------

@dataclass
class Sample:
    t: float  # start, seconds since the recorder's zero
    route: str
    ms: float
    outcome: str  # ok | 4xx | 5xx | timeout | conn (no connection, or it broke) | closed (a socket closed under us)
    status: int = 0  # HTTP status (101 for an accepted socket, 200 for a chat answer), 0 when nothing came back


def is_error(s: Sample) -> bool:
    """An error as the acceptance counts it: 5xx, a timeout, a failed connection, a socket closed under us."""
    return s.outcome not in ("ok", "4xx")


class Recorder:
    def __init__(self):
        self.zero = time.monotonic()
        self.samples: list[Sample] = []

    def now(self) -> float:
        return time.monotonic() - self.zero

    def add(self, route: str, started: float, outcome: str, status: int = 0) -> Sample:
        s = Sample(started - self.zero, route, (time.monotonic() - started) * 1000, outcome, status)
        self.samples.append(s)
        return s


def pct(values: list[float], q: float) -> float:
    """The nearest-rank percentile."""
    if not values:
        return float("nan")
    v = sorted(values)
    return v[max(0, math.ceil(q / 100 * len(v)) - 1)]


def figures(samples: list[Sample], seconds: float) -> dict:
    """Count, rate, percentiles of the requests that got an answer (whatever its status), the slowest of
    all, and the errors by kind (5xx by status)."""
    ms = [s.ms for s in samples if s.status and s.outcome != "closed"]
    errors = Counter(f"{s.status}" if s.outcome == "5xx" else s.outcome for s in samples if is_error(s))
    return {"n": len(samples), "rps": len(samples) / seconds if seconds else 0.0, "p50": pct(ms, 50), "p95": pct(ms, 95),
            "p99": pct(ms, 99), "max": max((s.ms for s in samples), default=float("nan")),
            "errors": sum(errors.values()), "by_error": dict(errors), "4xx": sum(s.outcome == "4xx" for s in samples)}


def error_text(by_error: dict) -> str:
    return ", ".join(f"{k}×{v}" for k, v in sorted(by_error.items())) or "0"


class CpuClock:
    """CPU seconds this process spent, per wall second (1.0 = one core busy)."""

    def __init__(self):
        self.wall, self.cpu = time.monotonic(), self._cpu()

    @staticmethod
    def _cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def share(self) -> float:
        return (self._cpu() - self.cpu) / max(1e-9, time.monotonic() - self.wall)


# --- HTTP -----------------------------------------------------------------------------------------

class Stale(ConnectionError):
    """A kept-alive connection the server had closed: the browser sends the request again on a new one."""


class Http:
    """One browser-like HTTP/1.1 connection to the server: kept alive, opened again when closed.

    As browsers do, a request whose kept-alive connection fails before any byte of the answer is
    sent again once on a new connection; ``Http.resent`` counts those."""

    resent = 0

    def __init__(self, port: int, timeout: float = CLIENT_TIMEOUT):
        self.port, self.timeout = port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.headers: dict[str, str] = {}  # sent with every request (X-Guide-Token)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
        """(status, headers, body); raises TimeoutError or OSError."""
        try:
            return await asyncio.wait_for(self._call(method, path, body), self.timeout)
        except BaseException:
            self.close()
            raise

    async def _call(self, method, path, body):
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        data = b""
        if body is not None:  # as the widget posts: JSON as text/plain, a "simple" request
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            head += f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(data)}\r\n"
        raw = (head + "\r\n").encode() + data
        for _ in range(2):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                self.writer.write(raw)
                return await self._response(reused)
            except Stale:
                Http.resent += 1
                self.close()
        raise ConnectionError("the server closed the connection twice without answering")

    async def _response(self, reused: bool):
        try:
            line = await self.reader.readline()
        except ConnectionResetError:
            line = b""
        if not line:
            if reused:
                raise Stale()
            raise ConnectionError("connection closed before the response")
        status = int(line.split()[1])
        headers = {}
        while True:
            h = await self.reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    async def timed(self, rec: Recorder, route: str, method: str, path: str, body: dict | None = None):
        """One request, recorded; (status, headers, parsed JSON or None); status 0 when it failed."""
        started = time.monotonic()
        try:
            status, headers, raw = await self.call(method, path, body)
        except TimeoutError:
            rec.add(route, started, "timeout")
            return 0, {}, None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            rec.add(route, started, "conn")
            return 0, {}, None
        outcome = "ok" if status < 400 else "4xx" if status < 500 else "5xx"
        rec.add(route, started, outcome, status)
        try:
            return status, headers, json.loads(raw) if raw else None
        except ValueError:
            return status, headers, None


# --- the chat WebSocket -----------------------------------------------------------------------------

class Refused(ConnectionError):
    def __init__(self, status: int):
        super().__init__(f"handshake refused: HTTP {status}")
        self.status = status


class ChatSocket:
    """The widget's chat socket: asks and waits for the reply with its id; answers the server's pings."""

    def __init__(self, port: int, on_lost=None):
        self.port = port
        self.on_lost = on_lost  # called with (code or None) when the socket goes without our asking
        self.waiting: dict[int, asyncio.Future] = {}
        self.last_id = 0
        self.parts: list[str] = []
        self.closing = False
        self.lost = False
        self.close_code: int | None = None  # the code of the server's close frame, if one came
        self.pings = 0
        self.reader_task: asyncio.Task | None = None

    async def open(self, timeout: float = CLIENT_TIMEOUT) -> None:
        await asyncio.wait_for(self._open(), timeout)

    async def _open(self) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, RejectConnection, Request

        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.writer.write(self.ws.send(Request(host=f"127.0.0.1:{self.port}", target=f"/ws/chat?site={SITE}")))
        while True:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("closed during the handshake")
            self.ws.receive_data(data)
            events = self.ws.events()
            for event in events:
                if isinstance(event, RejectConnection):
                    self.writer.close()
                    raise Refused(event.status_code)
                if isinstance(event, AcceptConnection):
                    for later in events:
                        self._event(later)
                    self.reader_task = asyncio.create_task(self._read())
                    return

    def _event(self, event) -> None:
        from wsproto.events import CloseConnection, Ping, TextMessage

        if isinstance(event, Ping):
            self.pings += 1
            self._write(self.ws.send(event.response()))
        elif isinstance(event, TextMessage):
            self.parts.append(event.data)
            if event.message_finished:
                msg = json.loads("".join(self.parts))
                self.parts = []
                fut = self.waiting.pop(msg.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        elif isinstance(event, CloseConnection):
            self._lose(event.code)
            try:
                self._write(self.ws.send(event.response()))
            except Exception:
                pass
            self.writer.close()

    def _write(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def _read(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.ws.receive_data(data)
                for event in self.ws.events():
                    self._event(event)
        except (OSError, ValueError):
            pass
        except Exception:  # a framing error of the server's: the socket is as good as lost
            pass
        self._lose(None)

    def _lose(self, code: int | None) -> None:
        if self.lost:
            return
        self.lost = True
        self.close_code = code
        for fut in self.waiting.values():
            if not fut.done():
                fut.set_exception(ConnectionError(f"socket closed ({code})"))
        self.waiting.clear()
        if not self.closing and self.on_lost is not None:
            self.on_lost(code)

    async def ask(self, question: str, person: dict, url: str, timeout: float = CLIENT_TIMEOUT) -> dict:
        from wsproto.events import TextMessage

        if self.lost:
            raise ConnectionError("socket closed")
        self.last_id += 1
        msg_id = self.last_id
        fut = asyncio.get_running_loop().create_future()
        self.waiting[msg_id] = fut
        body = {"type": "ask", "id": msg_id, "question": question, **person,
                "context": {"url": url, "tour_id": None, "step_id": None}}
        self._write(self.ws.send(TextMessage(data=json.dumps(body, ensure_ascii=False))))
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.waiting.pop(msg_id, None)

    async def close(self) -> None:
        from wsproto.events import CloseConnection

        self.closing = True
        try:
            if not self.lost:
                self._write(self.ws.send(CloseConnection(code=1000)))
            self.writer.close()
        except Exception:
            pass
        if self.reader_task is not None:
            self.reader_task.cancel()


# --- widgets ---------------------------------------------------------------------------------------

class Deadline:
    """When the load stops. faults.py moves it once it knows how long a fault lasted (a restart)."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def __bool__(self) -> bool:  # true while the load goes on
        return time.monotonic() < self.at


@dataclass
class Acks:
    """Event ids the server acknowledged (HTTP 200 after the commit), and those sent at all."""
    prefix: str
    acked: set[str] = field(default_factory=set)
    sent: int = 0
    partial: int = 0  # 200s that did not take the whole batch: a harness or validation fault


def event(eid: str, n: int, url: str, tour: dict | None = None, step: int = 0) -> dict:
    """An event as embed.js's track() makes it; a tour's when ``tour`` is given."""
    e = {"id": eid, "at": int(time.time() * 1000), "url": url}
    if tour is not None:
        e.update(type=("step_shown", "step_completed")[n % 2], tour=tour["id"], version=tour["version"],
                 step=tour["steps"][step]["id"], step_index=step)
    else:
        e.update(random.choice([{"type": "chat_opened"}, {"type": "rage_click", "props": {"count": 3, "selector": "div#box"}},
                                {"type": "checklist_started", "props": {"checklist": "onboarding"}}]))
    return e


async def post_events(http: Http, rec: Recorder, acks: Acks, body: dict) -> tuple[bool, float]:
    """POST a batch; (acknowledged, seconds to wait before sending it again: Retry-After or 1 s)."""
    acks.sent += len(body["events"])
    status, headers, data = await http.timed(rec, "POST /events", "POST", "/api/v1/events", body)
    if status == 200:
        if data is None or data.get("accepted", 0) + data.get("duplicates", 0) != len(body["events"]):
            acks.partial += 1
        acks.acked.update(e["id"] for e in body["events"])
        return True, 0.0
    if 400 <= status < 500 and status not in (408, 429):
        return True, 0.0  # refused for good: the widget drops it (and the run shows it as a 4xx)
    try:
        return False, min(5.0, float(headers.get("retry-after", 1)))
    except ValueError:
        return False, 1.0


async def ingest_client(port: int, rec: Recorder, acks: Acks, n: int, until: Deadline, batch: int = 20,
                        pause: float = 0.0, resend: bool = True, interval: float | None = None) -> int:
    """Batches of ``batch`` events, back to back (``pause`` between them), or one every ``interval``
    seconds on a fixed schedule (an offered rate, as many browsers make it); a batch that failed is
    sent again after its Retry-After, as the widget does (``resend``), or dropped and never counted.
    Returns how many batches left later than their schedule (the server fell behind the rate)."""
    http = Http(port)
    sent = late = 0
    body = None
    loop = asyncio.get_running_loop()
    start = loop.time() + (interval or 0) * random.random()  # clients spread over one interval
    k = 0
    while until:
        if interval is not None:
            due = start + k * interval
            k += 1
            now = loop.time()
            if due > now:
                await asyncio.sleep(due - now)
            elif now - due > interval:
                late += 1
            if not until:
                break
        if body is None:
            url = f"http://127.0.0.1:5000{random.choice(PAGES)}"
            user = f"{acks.prefix}-ingest-{n}"
            body = {"site": SITE, "user": user, "token": user_token(user), "session": f"{acks.prefix}-i{n}",
                    "events": [event(f"{acks.prefix}-i{n}-{sent + k}", k, url) for k in range(batch)]}
            sent += batch
        ok, wait = await post_events(http, rec, acks, body)
        if ok or not resend:
            body = None
        if interval is None or not ok:
            await asyncio.sleep(wait if not ok else pause)
    http.close()
    return late


@dataclass
class FleetConfig:
    sessions: int = 200
    chat_share: float = 0.10  # sessions that chat
    http_chat_share: float = 0.25  # of those, the ones whose chat goes over HTTP (a refused socket, an old proxy)
    identified_share: float = 0.8  # sessions with Guide('identify'): their progress is saved on the server
    think: tuple[float, float] = (1.0, 5.0)  # seconds between a user's actions
    chat_think: tuple[float, float] = (5.0, 15.0)  # seconds between two questions of a chatting user
    batch: int = 20
    ramp: float = 5.0  # sessions start spread over this many seconds


class Session:
    """One widget on one tab: pages, tours step by step, events in batches, and maybe the chat."""

    def __init__(self, n: int, port: int, cfg: FleetConfig, rec: Recorder, acks: Acks, rng: random.Random):
        self.n, self.port, self.cfg, self.rec, self.acks, self.rng = n, port, cfg, rec, acks, rng
        self.http = Http(port)
        self.user = f"{acks.prefix}-u{n}" if rng.random() < cfg.identified_share else None
        self.anon = None if self.user else f"{acks.prefix}-a{n}"
        self.token = user_token(self.user) if self.user else None
        if self.token:
            self.http.headers["X-Guide-Token"] = self.token
        self.tab = f"{acks.prefix}-t{n}"
        self.locale = "ja" if rng.random() < 0.6 else "en"
        self.queue: list[dict] = []
        self.first_queued = 0.0
        self.events_made = 0
        self.retry_at = 0.0
        self.seq = 0
        self.url = ""

    def person(self) -> dict:
        return {"user": self.user, "token": self.token} if self.user else {"anon": self.anon}

    async def think(self, span: tuple[float, float], until: Deadline) -> bool:
        await asyncio.sleep(min(self.rng.uniform(*span), until.left()))
        return bool(until)

    def track(self, tour: dict | None = None, step: int = 0) -> None:
        if not self.queue:
            self.first_queued = time.monotonic()
        self.queue.append(event(f"{self.acks.prefix}-s{self.n}-{self.events_made}", self.events_made, self.url, tour, step))
        self.events_made += 1

    async def flush(self) -> None:
        """A batch when 20 events are waiting or the first has waited 3 s, as embed.js sends them
        (checked at the user's next action); after a failure, not before its Retry-After."""
        now = time.monotonic()
        if not self.queue or now < self.retry_at or (len(self.queue) < self.cfg.batch and now - self.first_queued < 3.0):
            return
        batch = self.queue[:self.cfg.batch]
        body = {"site": SITE, "session": self.tab, "events": batch, **self.person()}
        ok, wait = await post_events(self.http, self.rec, self.acks, body)
        if ok:
            del self.queue[:len(batch)]
        else:
            self.retry_at = time.monotonic() + wait * (1 + self.rng.random() / 2)

    async def progress(self, tour: dict, step: int, status: str) -> None:
        if not self.user:
            return  # anonymous progress stays in the browser
        self.seq = max(int(time.time() * 1000), self.seq + 1)
        await self.http.timed(self.rec, "POST /tours/progress", "POST", "/api/v1/tours/progress", {
            "site": SITE, "user": self.user, "token": self.token, "tour": tour["id"], "version": tour["version"], "step": step,
            "status": status, "url": self.url, "tab": self.tab, "seq": self.seq})

    async def page(self) -> list[dict]:
        self.url = f"http://127.0.0.1:5000{self.rng.choice(PAGES)}"
        q = urlencode({"site": SITE, "url": self.url, "locale": self.locale, **({"user": self.user} if self.user else {})})
        status, _, data = await self.http.timed(self.rec, "GET /tours", "GET", "/api/v1/tours?" + q)
        tours = [t for t in (data or {}).get("tours", []) if t.get("steps")] if status == 200 else []
        if not tours and self.rng.random() < 0.3:  # Guide('start', 'welcome') from the app's help menu
            status, _, data = await self.http.timed(self.rec, "GET /tours/<id>", "GET", f"/api/v1/tours/welcome?site={SITE}"
                                                    + (f"&user={self.user}" if self.user else ""))
            tours = [data] if status == 200 and data else []
        return tours

    async def run(self, until: Deadline) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.cfg.ramp))
        if self.user:
            await self.http.timed(self.rec, "POST /identify", "POST", "/api/v1/identify",
                                  {"site": SITE, "user": self.user, "token": self.token, "traits": {"plan": "pro"},
                                   "locale": self.locale})
        while until:
            tours = await self.page()
            if not await self.think(self.cfg.think, until):
                break
            if tours:
                tour = self.rng.choice(tours)
                for step in range(len(tour["steps"])):
                    self.track(tour, step)
                    await self.progress(tour, step, "active")
                    await self.flush()
                    if not await self.think(self.cfg.think, until):
                        break
                    self.track(tour, step)
                else:
                    await self.progress(tour, len(tour["steps"]) - 1, "completed")
            else:
                self.track()
            await self.flush()
        self.http.close()


class ChattingSession(Session):
    """A user with the chat open: a question every few seconds, over the socket or over HTTP."""

    def __init__(self, *args, via_http: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.via_http = via_http
        self.socket: ChatSocket | None = None

    def lost(self, code) -> None:
        self.rec.add("WS socket", time.monotonic(), "closed", code or 0)
        self.socket = None

    async def ask(self, question: str) -> None:
        if not self.via_http and self.socket is None:
            started = time.monotonic()
            sock = ChatSocket(self.port, on_lost=self.lost)
            try:
                await sock.open()
                self.rec.add("WS open", started, "ok", 101)
                self.socket = sock
            except Refused as exc:
                self.rec.add("WS open", started, "5xx" if exc.status >= 500 else "4xx", exc.status)
            except TimeoutError:
                self.rec.add("WS open", started, "timeout")
            except OSError:
                self.rec.add("WS open", started, "conn")
        if self.socket is None:  # as embed.js: no socket, the question goes over HTTP
            await self.http.timed(self.rec, "POST /ask", "POST", "/api/v1/ask", {
                "site": SITE, "question": question, **self.person(),
                "context": {"url": self.url, "tour_id": None, "step_id": None}})
            return
        started = time.monotonic()
        try:
            reply = await self.socket.ask(question, self.person(), self.url)
        except TimeoutError:
            self.rec.add("WS ask", started, "timeout")
            return
        except ConnectionError:
            self.rec.add("WS ask", started, "closed")
            return
        err = reply.get("error") if reply.get("type") == "error" else None
        status = (err or {}).get("status", 200)
        self.rec.add("WS ask", started, "ok" if not err else "4xx" if status < 500 else "5xx", status)

    async def run(self, until: Deadline) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.cfg.ramp))
        self.url = f"http://127.0.0.1:5000{self.rng.choice(PAGES)}"
        await self.page()
        self.track()  # chat_opened
        try:
            while until:
                await self.ask(self.rng.choice(QUESTIONS[self.locale]))
                self.track()
                await self.flush()
                if not await self.think(self.cfg.chat_think, until):
                    break
        finally:
            if self.socket is not None:
                await self.socket.close()
            self.http.close()


def sessions_for(cfg: FleetConfig, port: int, rec: Recorder, acks: Acks, seed: int = 0) -> list[Session]:
    rng = random.Random(seed)
    chatting = round(cfg.sessions * cfg.chat_share)
    over_http = round(chatting * cfg.http_chat_share)
    out: list[Session] = []
    for n in range(cfg.sessions):
        r = random.Random(rng.random())
        if n < chatting:
            out.append(ChattingSession(n, port, cfg, rec, acks, r, via_http=n < over_http))
        else:
            out.append(Session(n, port, cfg, rec, acks, r))
    return out


async def idle_sockets(port: int, count: int, rec: Recorder, per_second: float = 250.0) -> list[ChatSocket]:
    """``count`` chat sockets opened and left open (they answer pings); a socket the server closes is an error."""
    opened: list[ChatSocket] = []

    async def one(i: int) -> None:
        await asyncio.sleep(i / per_second)
        started = time.monotonic()
        sock = ChatSocket(port, on_lost=lambda code: rec.add("WS idle socket", time.monotonic(), "closed", code or 0))
        try:
            await sock.open()
            rec.add("WS open (idle)", started, "ok", 101)
            opened.append(sock)
        except Refused as exc:
            rec.add("WS open (idle)", started, "5xx" if exc.status >= 500 else "4xx", exc.status)
        except TimeoutError:
            rec.add("WS open (idle)", started, "timeout")
        except OSError:
            rec.add("WS open (idle)", started, "conn")

    await asyncio.gather(*(one(i) for i in range(count)))
    return opened


def stored_ids(database_url: str, prefix: str) -> set[str]:
    """The event ids of this run in the database."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.pool import NullPool

    from guide_server.db.schema import events

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(events.c.event_id).where(events.c.event_id.like(f"{prefix}-%"))).scalars())
    finally:
        engine.dispose()


def run_prefix() -> str:
    return "b" + os.urandom(3).hex()
