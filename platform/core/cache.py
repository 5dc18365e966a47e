"""The production cache: Django's Redis backend, with one Redis client per process.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` object for every cache
operation. The connections are pooled, but each client builds its table of response
callbacks (about 170 entries) again: on this platform that was a third of a
millisecond on every cached read or rate-limit count. A ``redis.Redis`` is thread-safe
and takes its connections from the pool per command, so one per pool serves them all.
"""

from typing import Any

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
