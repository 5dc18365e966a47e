"""The production cache backend: Django's Redis cache with one client per process."""

import threading
from typing import Any

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.redis


def test_one_client_serves_every_operation_and_thread(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": settings.REDIS_URL, "KEY_PREFIX": "test-cache"}
    }
    cache = caches["default"]
    clients: list[Any] = []
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            for step in range(50):
                key = f"k{number}:{step}"
                cache.set(key, {"n": number, "step": step}, 30)
                assert cache.get(key) == {"n": number, "step": step}
                assert cache.add(key, "other", 30) is False
                cache.incr(f"count{number}")
                clients.append(cache._cache.get_client(key))
                clients.append(cache._cache.get_client(key, write=True))
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    for number in range(8):
        cache.set(f"count{number}", 0, 30)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert all(client is clients[0] for client in clients)  # one server: one client, built once
    assert [cache.get(f"count{n}") for n in range(8)] == [50] * 8
    cache.delete_many([f"k{n}:{s}" for n in range(8) for s in range(50)] + [f"count{n}" for n in range(8)])
    assert cache.get("k0:0") is None
