"""API rate limits as fixed-window counters.

DRF's own throttles keep, per client, a list of the time of every request in the window
and read and rewrite all of it on each request: at the production user rate
(20,000 an hour) that is a list of up to 20,000 floats pickled twice per request. These
keep one integer per client and window instead, in the default cache (Redis in
production, where counting is one round trip), so a request costs the same however busy
its client is.

The rates and scopes are DRF's (``DEFAULT_THROTTLE_RATES``, ``throttle_scope`` on a
view), and a refusal is DRF's 429 with ``Retry-After``.
"""

import time
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


def count_request(key: str, seconds: int) -> int:
    """Adds one to counter ``key``, which lives ``seconds``, and returns its new value."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # SET NX (start the window) and INCR in one round trip.
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]
        with client.pipeline(transaction=False) as pipe:
            pipe.set(full_key, 0, ex=seconds, nx=True)
            pipe.incr(full_key)
            return int(pipe.execute()[1])
    if backend.add(key, 1, timeout=seconds):
        return 1
    try:
        return int(backend.incr(key))
    except ValueError:  # expired between the two calls: a new window
        backend.add(key, 1, timeout=seconds)
        return 1


def _user_or_address(throttle: BaseThrottle, request: Request) -> str:
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{throttle.get_ident(request)}"


class _CounterThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    def client_key(self, request: Request, view: Any) -> str | None:
        """Who is counted, or None when this throttle does not apply to the request."""
        raise NotImplementedError

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
        if count_request(f"throttle:{scope}:{client}:{window}", seconds + 1) <= limit:
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
