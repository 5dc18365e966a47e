"""API rate limits: fixed-window counters per user or address, DRF's rates and 429."""

import threading
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.models import User
from core.throttling import count_request, parse_rate
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _rates(settings: Any, **rates: str) -> None:
    framework = dict(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = framework


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_user_over_the_rate_gets_429_with_retry_after_and_others_do_not(settings: Any, worker: User) -> None:
    _rates(settings, user="3/minute")
    client = _client(worker)
    assert [client.get("/api/me/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/me/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert _client(UserFactory()).get("/api/me/").status_code == 200


def test_sign_in_attempts_are_limited_per_address(settings: Any, worker: User) -> None:
    _rates(settings, credentials="2/hour")
    wrong = {"username": worker.username, "password": "not the password"}
    attempts = [APIClient(REMOTE_ADDR="203.0.113.7").post("/api/auth/token/", wrong) for _ in range(3)]
    assert [a.status_code for a in attempts] == [400, 400, 429]
    # The right password from that address is refused too until the window ends...
    right = {"username": worker.username, "password": PASSWORD}
    assert APIClient(REMOTE_ADDR="203.0.113.7").post("/api/auth/token/", right).status_code == 429
    # ...while another address is not affected.
    assert APIClient(REMOTE_ADDR="198.51.100.2").post("/api/auth/token/", right).status_code == 200


def test_rates_are_read_as_drf_writes_them() -> None:
    assert parse_rate("20000/hour") == (20_000, 3600)
    assert parse_rate("10/m") == (10, 60)
    assert parse_rate("5/second") == (5, 1)
    assert parse_rate("100/day") == (100, 86_400)


def test_a_counter_outside_redis_counts_and_starts_again_after_its_window() -> None:
    assert [count_request("test:local", 60) for _ in range(4)] == [1, 2, 3, 4]
    caches["default"].delete("test:local")  # the window ended
    assert count_request("test:local", 60) == 1


@pytest.mark.redis
def test_on_redis_a_counter_is_one_integer_counted_atomically(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # production's backend
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "test-throttling",
        }
    }
    backend = caches["default"]
    backend.delete("test:storm")

    def hammer() -> None:
        for _ in range(50):
            count_request("test:storm", 30)

    threads = [threading.Thread(target=hammer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count_request("test:storm", 30) == 1001
    full_key = backend.make_and_validate_key("test:storm")
    client = backend._cache.get_client(full_key)
    assert client.get(full_key) == b"1001"  # one small integer, whatever the count
    assert 0 < client.ttl(full_key) <= 30  # the window's end was set once, when it began
    backend.delete("test:storm")
