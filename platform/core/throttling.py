"""API rate limits as fixed-window counters.

DRF's own throttles keep, per client, a list of the time of every request in the window
and read and rewrite all of it on each request: at the production user rate
(20,000 an hour) that is a list of up to 20,000 floats pickled twice per request. These
keep one integer per client and window instead, in the default cache (Redis in
production, where counting is one round trip), so a request costs the same however busy
its client is.

Generous limits (the per-user rate) are counted in batches: each process adds its own
requests to the shared counter once per ``batch_size(limit)`` of them (at most a
thousandth of the limit) and in between decides from the last shared total plus its own
unshared count. That saves the round trip on almost every request. The price: a process
learns of the others' requests only when it adds its own batch, so once the shared
counter passes the limit each process may still let through up to about two batches
(0.2% of the limit per process) before it refuses. Nothing is lost from the count, and
tight limits (sign-in, registration, keys: a batch of one) are counted exactly.

The rates and scopes are DRF's (``DEFAULT_THROTTLE_RATES``, ``throttle_scope`` on a
view), and a refusal is DRF's 429 with ``Retry-After``.
"""

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate format, "<count>/<period>" with a period of s, m, h or d (or a word
    starting with one): the count and the window in seconds."""
    count, period = rate.split("/")
    return int(count), _SECONDS[period[0]]


def count_request(key: str, seconds: int, amount: int = 1) -> int:
    """Adds ``amount`` to counter ``key``, which lives ``seconds``, and returns its new value."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # SET NX (start the window) and INCRBY in one round trip.
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]
        with client.pipeline(transaction=False) as pipe:
            pipe.set(full_key, 0, ex=seconds, nx=True)
            pipe.incrby(full_key, amount)
            return int(pipe.execute()[1])
    if backend.add(key, amount, timeout=seconds):
        return amount
    try:
        return int(backend.incr(key, amount))
    except ValueError:  # expired between the two calls: a new window
        backend.add(key, amount, timeout=seconds)
        return amount


def batch_size(limit: int) -> int:
    """How many of its requests a process may count before adding them to the shared
    counter: a thousandth of the limit, between 1 (exact) and 50."""
    return max(1, min(limit // 1000, 50))


@dataclass(slots=True)
class _Tally:
    shared: int  # the shared counter's total when this process last added to it
    unshared: int  # this process's requests since then
    expires: float  # when the counter's window is over (time.time())


class BatchedCounter:
    """One process's view of shared counters that it adds to in batches (see the module
    docstring). Thread-safe; the module keeps one per process."""

    # Tallies of ended windows are dropped once there are more than this many.
    MAX_TALLIES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[str, _Tally] = {}

    def count(self, key: str, seconds: int, batch: int) -> int:
        """Counts one request on ``key`` and returns this process's estimate of its total:
        exact with a ``batch`` of 1, and otherwise never more than the true total."""
        if batch <= 1:
            return count_request(key, seconds)
        with self._lock:
            tally = self._tallies.get(key)
            if tally is not None and tally.unshared + 1 < batch:
                tally.unshared += 1
                return tally.shared + tally.unshared
            if tally is None:  # this process's first request on the counter: add it at once, to learn the total
                tally = self._tallies[key] = _Tally(shared=0, unshared=0, expires=time.time() + seconds)
            # The batch is taken out under the lock: other threads' requests start the next one.
            adding, tally.unshared = tally.unshared + 1, 0
            tally.shared += adding
        total = count_request(key, seconds, adding)
        with self._lock:
            tally.shared = total
            if len(self._tallies) > self.MAX_TALLIES:
                self._forget_ended()
        return total

    def clear(self) -> None:
        """Forgets every count not yet added (tests, which empty the shared cache too)."""
        with self._lock:
            self._tallies = {}

    def _forget_ended(self) -> None:
        now = time.time()
        self._tallies = {key: tally for key, tally in self._tallies.items() if tally.expires > now}
        if len(self._tallies) > self.MAX_TALLIES:  # still too many: start over (undercounts, never refuses)
            self._tallies = {}


_counter = BatchedCounter()


def _user_or_address(throttle: BaseThrottle, request: Request) -> str:
    ident = getattr(request.user, "throttle_ident", None)  # an organisation's API key
    if ident:
        return str(ident)
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{throttle.get_ident(request)}"


class _CounterThrottle(BaseThrottle, ABC):
    scope = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    @abstractmethod
    def client_key(self, request: Request, view: Any) -> str | None:
        """Who is counted, or None when this throttle does not apply to the request."""

    def scope_for(self, view: Any) -> str:
        return self.scope

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = self.scope_for(view)
        rate = str(api_settings.DEFAULT_THROTTLE_RATES.get(scope) or "") if scope else ""
        client = self.client_key(request, view) if rate else None
        if client is None:
            return True
        limit, seconds = parse_rate(rate)
        now = int(time.time())
        window = now - now % seconds
        if _counter.count(f"throttle:{scope}:{client}:{window}", seconds + 1, batch_size(limit)) <= limit:
            return True
        self._wait = window + seconds - now
        return False

    def wait(self) -> float | None:
        return self._wait


class AnonRateThrottle(_CounterThrottle):
    """Requests without credentials, counted per address (rate ``anon``)."""

    scope = "anon"

    def client_key(self, request: Request, view: Any) -> str | None:
        return None if request.user and request.user.is_authenticated else f"ip:{self.get_ident(request)}"


class UserRateThrottle(_CounterThrottle):
    """Every request, counted per signed-in user or else per address (rate ``user``)."""

    scope = "user"

    def client_key(self, request: Request, view: Any) -> str | None:
        return _user_or_address(self, request)


class ScopedRateThrottle(_CounterThrottle):
    """Views with a ``throttle_scope`` (sign-in, registration, API keys), counted per user
    or address under that scope's own rate."""

    def scope_for(self, view: Any) -> str:
        return str(getattr(view, "throttle_scope", "") or "")

    def client_key(self, request: Request, view: Any) -> str | None:
        return _user_or_address(self, request)
