"""Open chat sockets of one process, all on one asyncio loop, so that an open chat holds no thread.

A widget keeps its chat socket open while the chat is in use, and most of that time nothing is
said. A thread per socket (the way a WSGI server runs a WebSocket) made 16 open chats enough to
freeze a worker of 8 threads. Here the request thread that accepted the upgrade writes the
handshake and hands the socket over (``adopt``); from then on one loop thread per process reads
and writes every socket, answers pings and closes dead or idle ones. A message is handled by a
small pool of threads (answering is CPU and database work), one message of a socket at a time,
in order; its reply goes back through the loop.

The hub knows WebSocket framing (wsproto) and nothing of the chat: ``handle(context, text)``
returns the reply text. It starts in the process that first adopts a socket (after a fork, never
before) and ``drain`` sends every socket a close frame (1001, going away) when the process stops.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, Pong, TextMessage
from wsproto.utilities import RemoteProtocolError

log = logging.getLogger(__name__)

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
GOING_AWAY, TOO_BIG, POLICY, TRY_LATER, NORMAL = 1001, 1009, 1008, 1013, 1000
MAX_QUEUED = 8  # messages of one socket waiting for the handler before reading pauses


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def handshake_response(key: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode("ascii")


class Close(Exception):
    """Raised by a handler: send ``reply`` (if any), then close the socket with ``code``."""

    def __init__(self, code: int, message: str, reply: str | None = None):
        super().__init__(message)
        self.code, self.message, self.reply = code, message, reply


@dataclass
class Limits:
    max_sockets: int = 5000  # per process; past it a new chat is refused (the widget uses HTTP)
    idle_timeout: float = 300.0  # seconds without a message before the server closes the socket
    ping_interval: float = 25.0  # a ping frame this often; a peer silent for two intervals is gone
    max_message_bytes: int = 8192
    threads: int = 4


@dataclass
class Stats:
    opened: int = 0
    closed: int = 0
    refused: int = 0
    messages: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


class _Socket(asyncio.Protocol):
    """One adopted connection: frames in, messages to the handler one at a time, replies out."""

    def __init__(self, hub: Hub, context: Any, handle: Callable[[Any, str], str | None]):
        self.hub, self.context, self.handle = hub, context, handle
        self.ws = Connection(ConnectionType.SERVER)
        self.transport: asyncio.Transport | None = None
        self.parts: list[str] = []
        self.size = 0
        self.queue: deque[str] = deque()
        self.busy = False
        self.paused = False
        self.closing = False
        now = time.monotonic()
        self.last_heard = now  # any frame from the peer
        self.last_message = now  # a message (not a ping)

    # --- the loop's side ----------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.hub.sockets.add(self)

    def connection_lost(self, exc) -> None:
        self.hub._forget(self, "peer closed" if exc is None else "connection lost")

    def data_received(self, data: bytes) -> None:
        self.last_heard = time.monotonic()
        try:
            self.ws.receive_data(data)
            for event in self.ws.events():
                self._event(event)
        except RemoteProtocolError as exc:
            self.close(POLICY, "protocol error", reason=f"protocol error: {exc}")

    def eof_received(self):
        return False  # close our side too

    def _event(self, event) -> None:
        if isinstance(event, Ping):
            self._send(self.ws.send(event.response()))
        elif isinstance(event, Pong):
            pass
        elif isinstance(event, CloseConnection):
            self.hub._count("peer closed")
            if self.ws.state is not ConnectionState.CLOSED:
                self._send(self.ws.send(event.response()))
            self.closing = True
            self.transport.close()
        elif isinstance(event, (TextMessage, BytesMessage)):
            self._fragment(event)

    def _fragment(self, event: Message) -> None:
        data = event.data if isinstance(event, TextMessage) else event.data.decode("utf-8", "replace")
        self.size += len(data)
        if self.size > 4 * self.hub.limits.max_message_bytes:
            # larger than any message the handler takes even to say it is too large
            self.close(TOO_BIG, "message too large", reason="message too large")
            return
        self.parts.append(data)
        if not event.message_finished:
            return
        text, self.parts, self.size = "".join(self.parts), [], 0
        self.last_message = time.monotonic()
        self.queue.append(text)
        if len(self.queue) >= MAX_QUEUED and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._next()

    def _next(self) -> None:
        if self.busy or not self.queue or self.closing:
            return
        self.busy = True
        text = self.queue.popleft()
        self.hub.stats.messages += 1
        future = self.hub.pool.submit(self._run, text)
        future.add_done_callback(lambda f: self.hub.call(self._done, f))

    def _run(self, text: str) -> str | None:
        return self.handle(self.context, text)

    def _done(self, future) -> None:
        self.busy = False
        try:
            reply = future.result()
        except Close as order:  # e.g. past the chat's message rate (web.limits)
            if order.reply is not None:
                self.send_text(order.reply)
            self.close(order.code, order.message, reason=order.message)
            return
        except Exception:  # the handler answers errors itself; this is a fault of ours
            log.exception("chat message failed")
            reply = None
        if reply is not None:
            self.send_text(reply)
        if self.paused and len(self.queue) < MAX_QUEUED // 2:
            self.paused = False
            self.transport.resume_reading()
        self._next()

    def send_text(self, text: str) -> None:
        if not self.closing and self.ws.state is ConnectionState.OPEN:
            self._send(self.ws.send(TextMessage(data=text)))

    def ping(self) -> None:
        if not self.closing and self.ws.state is ConnectionState.OPEN:
            self._send(self.ws.send(Ping()))

    def close(self, code: int, message: str, reason: str) -> None:
        """A close frame, then the connection (once the frame is written)."""
        if self.closing:
            return
        self.closing = True
        self.hub._count(reason)
        if self.ws.state is ConnectionState.OPEN:
            self._send(self.ws.send(CloseConnection(code=code, reason=message)))
        self.transport.close()

    def _send(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class Hub:
    """The chat sockets of this process. ``adopt`` is called from request threads."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.sockets: set[_Socket] = set()
        self.stats = Stats()
        self.pool = ThreadPoolExecutor(max_workers=limits.threads, thread_name_prefix="guide-chat")
        self.loop = asyncio.new_event_loop()
        self.draining = False
        self._pending = 0  # adopted, not yet on the loop
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="guide-chat-hub", daemon=True)
        self._thread.start()

    # --- from any thread -------------------------------------------------------------------------

    def call(self, fn, *args) -> None:
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop has stopped: the process is on its way out
            pass

    def reserve(self) -> bool:
        """Take a slot for one more socket, or say there is none (refuse the handshake then). The
        check and the taking are one step: handshakes on other threads cannot slip in between
        (the client sees its 101 before ``adopt``, and may open its next socket at once). A slot
        taken is given back by ``adopt``'s socket closing, or by ``release``."""
        with self._lock:
            ok = not self.draining and len(self.sockets) + self._pending < self.limits.max_sockets
            if ok:
                self._pending += 1
            else:
                self.stats.refused += 1
            return ok

    def release(self) -> None:
        """Give back a slot ``reserve`` took when its socket will not be adopted."""
        with self._lock:
            self._pending -= 1

    def adopt(self, sock: socket.socket, context: Any, handle: Callable[[Any, str], str | None]) -> None:
        """Take over ``sock`` (handshake already written) in the slot ``reserve`` took: the loop
        owns it from now on."""
        self.stats.opened += 1
        try:
            sock.setblocking(False)
            future = asyncio.run_coroutine_threadsafe(self._attach(sock, context, handle), self.loop)
        except BaseException:
            self.release()
            raise
        future.result(timeout=5)

    def open_count(self) -> int:
        return len(self.sockets)

    def drain(self, wait: float = 2.0) -> None:
        """Close every socket with 1001 (going away) and refuse new ones; returns when the frames
        are written or after ``wait`` seconds."""
        self.draining = True
        done = threading.Event()

        def close_all():
            for s in list(self.sockets):
                s.close(GOING_AWAY, "server restarting", reason="draining")
            self.loop.create_task(self._wait_empty(done))

        self.call(close_all)
        done.wait(wait)

    # --- on the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.create_task(self._sweep())
        self.loop.run_forever()

    async def _attach(self, sock, context, handle) -> None:
        try:
            await self.loop.connect_accepted_socket(lambda: _Socket(self, context, handle), sock=sock)
        finally:
            with self._lock:
                self._pending -= 1

    async def _wait_empty(self, done: threading.Event) -> None:
        while self.sockets:
            await asyncio.sleep(0.02)
        done.set()

    async def _sweep(self) -> None:
        """Pings, and closes the sockets whose peer went silent or that sat idle too long."""
        step = min(5.0, self.limits.ping_interval / 2)
        last_ping = time.monotonic()
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            ping = now - last_ping >= self.limits.ping_interval
            if ping:
                last_ping = now
            for s in list(self.sockets):
                if now - s.last_heard > 2 * self.limits.ping_interval + step:
                    s.closing = True
                    self._count("no pong")
                    s.transport.abort()
                elif now - s.last_message > self.limits.idle_timeout and not s.busy:
                    s.close(NORMAL, "idle", reason="idle")
                elif ping:
                    s.ping()

    def _forget(self, s: _Socket, reason: str) -> None:
        if s in self.sockets:
            self.sockets.discard(s)
            self.stats.closed += 1
            if not s.closing:
                self._count(reason)

    def _count(self, reason: str) -> None:
        self.stats.by_reason[reason] = self.stats.by_reason.get(reason, 0) + 1


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub(limits: Limits) -> Hub:
    """This process's hub, started on first use (so each forked worker runs its own)."""
    global _hub
    if _hub is None:
        with _hub_lock:
            if _hub is None:
                _hub = Hub(limits)
    return _hub


def current() -> Hub | None:
    """The hub if this process has one (for /metrics and shutdown), without starting it."""
    return _hub


def _after_fork() -> None:
    global _hub, _hub_lock
    _hub, _hub_lock = None, threading.Lock()  # the parent's loop thread does not exist here


os.register_at_fork(after_in_child=_after_fork)
