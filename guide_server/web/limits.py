"""Abuse limits on the widget's public API and the chat socket: past one, HTTP 429 with
``Retry-After`` (or, on the socket, an error message and a close with 1008).

Every limited request takes one token from each of its buckets (a token bucket: a bucket holds
its limit's count, and one token comes back every ``LIMIT_WINDOW / count`` seconds); when one of
them is empty, none is taken and the request is refused until that one has a token again:

- the person: a user or anon id the request names, at its client address, per site (keyed by
  the address too, so that nobody can empty another user's bucket by sending that user's id);
- the client address, per site: LIMIT_PEOPLE_PER_ADDRESS times the person's count, since many
  users may share one address (NAT);

and, when the server has more than one site, each site has a budget of time in each process
(``SiteBudgets``): LIMIT_SITE seconds of answering per second, each request charged what its kind
costs a process (``COSTS``). Counted in time, not in requests, because a question costs three page
loads: one site, or a flood in its name from many addresses, cannot take more than its share of the
capacity every site shares, whatever it sends. The costs are fixed, not measured per request: a
site is not charged more because the server is slow (another site's flood, a locked database).

The person and address buckets are in this process's memory, or in Redis with ``REDIS_URL`` so
that a client meets the same limit whichever process or instance answers it; Redis unreachable,
each process counts alone for a while (the limits hold per process) and says so, never a 500.
The site's budget is always the process's own: it guards the process's capacity.

The hooks: a ``before_request`` keyed by ``request.endpoint`` (``RULES``), and
``refuse_message`` for each chat message; no route knows of them.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from flask import Flask, current_app, g, request

from .. import metrics
from . import inputs
from .errors import ApiError
from .inputs import MAX_PERSON_ID

log = logging.getLogger(__name__)

# request.endpoint -> the limit it counts against (its setting: LIMIT_<NAME>)
RULES = {
    "api.ask": "ask",
    "api.search_faqs": "search",
    "api.faq": "search",
    "api.feedback": "feedback",
    "api.escalate": "escalations",
    "events.post_events": "events",
    "tours.page_tours": "tours",
    "tours.one_tour": "tours",
    "tours.identify": "identify",
    "tours.tour_progress": "progress",
    "tours.track": "track",
    "ws.chat": "chat",  # the handshake; each message is counted by refuse_message
}
NAMES = ("ask", "search", "feedback", "events", "tours", "identify", "progress", "track", "chat", "escalations")
# What a request of each kind costs a process, in seconds: the route's median under load on the
# documented server (BENCHMARKS.md, "Load"), rounded up. A chat message is costed as a question.
COSTS = {"ask": 0.013, "search": 0.008, "feedback": 0.004, "events": 0.004, "tours": 0.004, "identify": 0.005,
         "progress": 0.006, "track": 0.004, "chat": 0.013, "escalations": 0.004}
HANDSHAKE_COST = 0.002
WORDS = {"chat": "chat messages", "events": "event batches", "escalations": "escalations"}  # for the error message; else "<name> requests"
MAX_KEYS = 50_000  # buckets one process keeps in memory (~25 MB at most); past it the least recently used goes
MAX_PEEK = 64 * 1024  # a body larger than this is not read for its site (its handler refuses it anyway)
BURST_S = 2.0  # a site may use this many seconds' worth of its LIMIT_SITE at once
ACTIVE_S = 2.0  # a site that asked for anything this recently is contending for the process
REDIS_TIMEOUT = 0.25  # seconds a request waits for Redis before it is counted in the process alone
REDIS_RETRY_S = 5.0  # after Redis failed, seconds before it is tried again
WARN_EVERY_S = 60.0
_KEY = "guide.limits"

Bucket = tuple[Hashable, int]  # (key, capacity)


@dataclass(frozen=True)
class Refused:
    index: int  # which of the buckets asked for was empty (the one to wait for longest)
    wait: float  # seconds until it holds a token again


class MemoryBuckets:
    """Token buckets in this process's memory, ordered by last use: a bucket unused for a whole
    window is full again, the same as no bucket, and is dropped (memory stays bounded)."""

    def __init__(self, max_keys: int = MAX_KEYS):
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._buckets: OrderedDict[Hashable, list[float]] = OrderedDict()  # key -> [tokens, last taken at]

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, wanted: Sequence[Bucket], window: float, now: float | None = None) -> Refused | None:
        """One token from every bucket of ``wanted``, or, when one is empty, none at all."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._expire(now, window)
            levels, refused = [], None
            for i, (key, capacity) in enumerate(wanted):
                found = self._buckets.get(key)
                tokens = capacity if found is None else min(capacity, found[0] + (now - found[1]) * capacity / window)
                levels.append(tokens)
                if tokens < 1:
                    wait = (1 - tokens) * window / capacity
                    if refused is None or wait > refused.wait:
                        refused = Refused(i, wait)
            if refused is not None:
                return refused
            for (key, _), tokens in zip(wanted, levels):
                self._buckets[key] = [tokens - 1, now]
                self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return None

    def _expire(self, now: float, window: float) -> None:
        while self._buckets:
            key, (_, last) = next(iter(self._buckets.items()))
            if now - last < window:
                return
            del self._buckets[key]


class SiteBudgets:
    """Each site's seconds of answering in this process: ``share`` seconds come back every second,
    up to BURST_S seconds' worth; a site in debt is refused until it is out of it, but only while a
    site that asks less of the process is being answered too (seen in the last ACTIVE_S seconds).

    What a site asks is its demand: the cost of every request it sends, answered or refused
    (decaying over ACTIVE_S), so a flood that is being held still counts as the heavy one.
    Work-conserving: a site alone in the process, or the one asking least, may use all it needs
    (its debt stops at 0, so it is not punished later for what nobody else wanted); when a site
    asking less has requests, the heavier one is held to its share, and its debt is at most BURST_S
    seconds' worth of waiting. A flood never makes the site it crowds out wait."""

    def __init__(self, share: float):
        self.share = share
        self._lock = threading.Lock()
        self._budgets: dict[str, list[float]] = {}  # site -> [seconds left (below 0: debt), at]
        self._seen: dict[str, float] = {}  # site -> when it last asked for anything (monotonic)
        self._use: dict[str, list[float]] = {}  # site -> [seconds asked for per second (decaying), at]

    def _refill(self, site: str, now: float) -> list[float]:
        found = self._budgets.setdefault(site, [self.share * BURST_S, now])
        found[0] = min(self.share * BURST_S, found[0] + (now - found[1]) * self.share)
        found[1] = now
        return found

    def _rate(self, site: str, now: float, add: float = 0.0) -> float:
        found = self._use.setdefault(site, [0.0, now])
        found[0] = found[0] * math.exp(-(now - found[1]) / ACTIVE_S) + add / ACTIVE_S
        found[1] = now
        return found[0]

    def _contended(self, site: str, now: float) -> bool:
        """Another site is being answered, and it asks less of the process than this one."""
        mine = self._rate(site, now)
        return any(other != site and now - seen < ACTIVE_S and self._rate(other, now) < mine
                   for other, seen in self._seen.items())

    def wait(self, site: str, demand: float = 0.0, now: float | None = None) -> float:
        """0 when ``site`` may be answered now, else the seconds until it is out of debt; ``demand``
        is what this request would cost (counted whether it is answered or not)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._seen[site] = now
            self._rate(site, now, demand)
            left = self._refill(site, now)[0]
            if left > 0 or not self._contended(site, now):
                return 0.0
        return max(-left / self.share, 0.001)

    def charge(self, site: str, seconds: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            found = self._refill(site, now)
            floor = -self.share * BURST_S if self._contended(site, now) else 0.0
            found[0] = max(found[0] - seconds, min(found[0], floor))


# KEYS: the buckets; ARGV[1]: the window in ms; ARGV[1 + i]: the capacity of KEYS[i]. Redis's clock,
# so that instances whose clocks differ agree. Returns {0, 0}, or {index of the empty bucket, ms to wait}.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
local levels, refused, wait = {}, 0, 0
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i + 1])
  local found = redis.call('HMGET', key, 't', 'at')
  local tokens = capacity
  if found[1] then
    tokens = math.min(capacity, tonumber(found[1]) + (now - tonumber(found[2])) * capacity / window)
  end
  levels[i] = tokens
  if tokens < 1 and (1 - tokens) * window / capacity > wait then
    refused, wait = i, (1 - tokens) * window / capacity
  end
end
if refused > 0 then return {refused, math.ceil(wait)} end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 't', levels[i] - 1, 'at', now)
  redis.call('PEXPIRE', key, window)
end
return {0, 0}
"""


class RedisBuckets:
    """The same buckets in Redis (one hash per bucket, expiring a window after its last use),
    taken in one script call: atomic across every process and instance that shares the server."""

    def __init__(self, url: str):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # no retries: a request waits at most one timeout before it is counted in the process alone
        self.client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT,
                                           retry=Retry(NoBackoff(), 0))
        self.script = self.client.register_script(_TAKE)

    def take(self, wanted: Sequence[Bucket], window: float) -> Refused | None:
        keys = ["guide:limit:" + json.dumps(key, ensure_ascii=False, separators=(",", ":")) for key, _ in wanted]
        index, wait_ms = self.script(keys=keys, args=[max(1, round(window * 1000)), *(c for _, c in wanted)])
        return Refused(int(index) - 1, int(wait_ms) / 1000) if int(index) else None


def _redis_package() -> None:
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ValueError("REDIS_URL is set but the redis package is not installed: pip install 'guide[redis]'") from None


class Limiter:
    """The limits of one app: its settings, this process's buckets and, with REDIS_URL, Redis."""

    def __init__(self, config):
        self.window = float(config["LIMIT_WINDOW"])
        self.counts = {name: int(config[f"LIMIT_{name.upper()}"]) for name in NAMES}
        self.people_per_address = int(config["LIMIT_PEOPLE_PER_ADDRESS"])
        share = float(config["LIMIT_SITE"])
        for name, value in [*((f"LIMIT_{n.upper()}", c) for n, c in self.counts.items()),
                            ("LIMIT_PEOPLE_PER_ADDRESS", self.people_per_address), ("LIMIT_SITE", share)]:
            if value < 0:
                raise ValueError(f"{name} must be 0 (no limit) or more")
        if self.window <= 0:
            raise ValueError("LIMIT_WINDOW must be more than 0 seconds")
        self.local = MemoryBuckets()
        # a server of one site has no other site to keep capacity for
        self.sites = SiteBudgets(share) if share and len(config["SITES"]) > 1 else None
        self.redis_url = config["REDIS_URL"]
        if self.redis_url:
            _redis_package()  # at start-up, not at the first request
        self._redis: RedisBuckets | None = None
        self._redis_lock = threading.Lock()
        self._redis_back_at = 0.0  # after a failure, Redis is not asked again before this (monotonic)
        self._warned_at = -math.inf

    def check(self, name: str, site: str | None, address: str, person: str | None = None,
              cost: float | None = None) -> None:
        """Take this request's tokens and charge its site ``cost`` (seconds; by default its kind's), or
        raise the 429 to answer with."""
        count = self.counts[name]
        shared: list[Bucket] = []
        scopes: list[str] = []
        if count and person is not None:
            shared.append(((name, site, address, person), count))
            scopes.append("user" if name != "chat" else "socket")
        if count and self.people_per_address:
            shared.append(((name, site, address), count * self.people_per_address))
            scopes.append("address")
        if self.sites is not None and site is not None:
            wait = self.sites.wait(site, COSTS[name] if cost is None else cost)
            if wait:
                raise self._refusal(name, "site", wait)
        if shared:
            refused = self._take_shared(shared)
            if refused is not None:
                raise self._refusal(name, scopes[refused.index], refused.wait)
        if self.sites is not None and site is not None:
            self.sites.charge(site, COSTS[name] if cost is None else cost)

    def _take_shared(self, wanted: list[Bucket]) -> Refused | None:
        if self.redis_url and time.monotonic() >= self._redis_back_at:
            try:
                return self._store().take(wanted, self.window)
            except Exception as exc:  # whatever Redis does, the request is served
                self._redis_failed(exc)
        if self.redis_url:
            metrics.count("guide_rate_limit_redis_unavailable_total")
        return self.local.take(wanted, self.window)

    def _store(self) -> RedisBuckets:
        if self._redis is None:  # made on first use: in each worker, after the fork
            with self._redis_lock:
                if self._redis is None:
                    self._redis = RedisBuckets(self.redis_url)
        return self._redis

    def _redis_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self._redis_back_at = now + REDIS_RETRY_S
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("Redis (REDIS_URL) did not answer (%s: %s): abuse limits are counted in each process alone "
                        "until it does", type(exc).__name__, str(exc)[:200])

    def _refusal(self, name: str, scope: str, wait: float) -> ApiError:
        seconds = max(1, math.ceil(wait))
        metrics.count("guide_rate_limited_total", limit=name, per=scope)
        if scope == "site":
            message = f"this site has used its share of the server for now; try again in {seconds} s"
        else:
            message = f"too many {WORDS.get(name, f'{name} requests')} from this {scope}; try again in {seconds} s"
        return ApiError(message, 429, "rate_limited",
                        details={"limit": name, "per": scope, "retry_after": seconds}, retry_after=seconds)


def limiter(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions[_KEY]


def _known_site(value) -> str | None:
    return value if isinstance(value, str) and value in current_app.config["SITES"] else None


def _person(source) -> str | None:
    for field in ("user", "anon"):
        value = source.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value and len(value) <= MAX_PERSON_ID:
            return f"{field}:{value}"
    return None


def _limit_request() -> None:
    name = RULES.get(request.endpoint or "")
    if name is None or request.method == "OPTIONS":
        return
    payload = inputs.peek_object(MAX_PEEK) if request.method == "POST" else None
    # the site as web.sites.site_key reads it: the body's first, then ?site=, then the header
    named = (payload or {}).get("site") or request.args.get("site") or request.headers.get("X-Guide-Site")
    site = _known_site(named)
    if site is not None:
        g.guide_site = site  # the request log and the CORS headers of a 429 name it too
    person = None if name == "chat" else _person(payload if payload is not None else request.args)
    limiter().check(name, site, request.remote_addr or "-", person, HANDSHAKE_COST if name == "chat" else None)


def new_socket() -> str:
    """An id for one chat socket: its messages are counted together."""
    return uuid.uuid4().hex


def refuse_message(site: str, socket: str) -> ApiError | None:
    """The 429 to send before closing a chat socket past its message rate, or None (within a request
    context of the socket's handshake)."""
    try:
        limiter().check("chat", _known_site(site), request.remote_addr or "-", socket)
    except ApiError as exc:
        return exc
    return None


def register(app: Flask) -> None:
    app.extensions[_KEY] = Limiter(app.config)
    app.before_request(_limit_request)
