"""The production cache: Django's Redis backend, with one Redis client per process; and
``LocalCopies``, a process's own copies of values shared through the cache.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` object for every cache
operation. The connections are pooled, but each client builds its table of response
callbacks (about 170 entries) again: on this platform that was a third of a
millisecond on every cached read or rate-limit count. A ``redis.Redis`` is thread-safe
and takes its connections from the pool per command, so one per pool serves them all.
"""

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _SharedClientCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, Any] = {}  # connection pool -> its one client

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's pool for this read or write (one pool per server, kept for the process).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClientCacheClient


T = TypeVar("T")

# Every LocalCopies of this process, so that the tests can empty them with the cache.
_all_copies: "weakref.WeakSet[LocalCopies[Any]]" = weakref.WeakSet()


class LocalCopies(Generic[T]):
    """Values computed once for every process and kept in each process too, each copy no
    longer than the shared entry lives.

    ``get_or_set(key, seconds, compute)`` answers from this process's copy while it is
    fresh; else from the shared cache (one round trip), keeping a copy until the moment the
    shared entry expires; else computes the value and shares it for ``seconds``. So a value
    is never older than ``seconds`` from when it was computed, in any process, as with the
    shared cache alone (give or take the difference between hosts' clocks), while a process
    asked for it again and again makes no round trip. At most ``max_entries`` copies are
    kept, the least recently used going first.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._copies: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        _all_copies.add(self)

    def get_or_set(self, key: str, seconds: float, compute: Callable[[], T]) -> T:
        now = time.time()
        with self._lock:
            copy = self._copies.get(key)
            if copy is not None and copy[0] > now:
                self._copies.move_to_end(key)
                return copy[1]
        shared = cache.get(key)
        if isinstance(shared, tuple) and len(shared) == 2 and shared[0] > now:
            expires_at, value = shared
        else:
            value = compute()
            expires_at = now + seconds
            cache.set(key, (expires_at, value), timeout=seconds)
        with self._lock:
            self._copies[key] = (expires_at, value)
            self._copies.move_to_end(key)
            while len(self._copies) > self.max_entries:
                self._copies.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()


def clear_local_copies() -> None:
    """Empties every ``LocalCopies`` of this process (the tests do, with the cache)."""
    for copies in _all_copies:
        copies.clear()
