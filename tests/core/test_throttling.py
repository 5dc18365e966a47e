"""API rate limits: fixed-window counters per user or address, DRF's rates and 429."""

import threading
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.models import User
from core.throttling import BatchedCounter, UserRateThrottle, batch_size, count_request, parse_rate
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


@pytest.mark.redis
def test_on_redis_threads_counting_in_batches_lose_no_request(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": settings.REDIS_URL, "KEY_PREFIX": "test-batches"}
    }
    backend = caches["default"]
    backend.delete("test:batched-storm")
    counter = BatchedCounter()
    estimates: list[int] = []

    def hammer() -> None:
        for _ in range(50):
            estimates.append(counter.count("test:batched-storm", 30, 7))

    threads = [threading.Thread(target=hammer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(estimates) <= 1000
    shared = int(backend._cache.get_client(None).get(backend.make_and_validate_key("test:batched-storm")))
    assert shared + counter._tallies["test:batched-storm"].unshared == 1000
    backend.delete("test:batched-storm")

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


def test_generous_limits_are_counted_in_batches_and_tight_ones_exactly() -> None:
    assert batch_size(20) == 1  # sign-in: every attempt reaches the shared counter
    assert batch_size(1_999) == 1
    assert batch_size(20_000) == 20  # the per-user rate: one round trip in twenty
    assert batch_size(10**9) == 50


def test_one_process_counting_in_batches_sees_its_own_every_request() -> None:
    counter = BatchedCounter()
    assert [counter.count("test:batched", 60, 5) for _ in range(12)] == list(range(1, 13))
    # The shared counter holds whole batches only: the first request, then two batches of five.
    assert caches["default"].get("test:batched") == 11


def test_processes_counting_in_batches_lose_nothing_and_overshoot_by_two_batches_each_at_most() -> None:
    first, second = BatchedCounter(), BatchedCounter()  # two processes, one shared counter
    limit, batch, accepted = 50, 4, 0
    for number in range(1, 201):
        counter = first if number % 3 else second  # one process twice as busy as the other
        estimate = counter.count("test:two", 60, batch)
        assert estimate <= number  # never more than the truth: no one is refused early
        accepted += estimate <= limit
    assert limit <= accepted <= limit + 2 * 2 * batch
    unshared = sum(c._tallies["test:two"].unshared for c in (first, second))
    assert caches["default"].get("test:two") + unshared == 200


def test_a_generous_limit_still_refuses_the_request_past_it(settings: Any, worker: User) -> None:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    _rates(settings, user="2000/minute")  # batches of two
    request = Request(APIRequestFactory().get("/api/me/"))
    request.user = worker
    throttle = UserRateThrottle()
    answers = [throttle.allow_request(request, None) for _ in range(2001)]
    assert answers.count(True) == 2000
    assert answers[-1] is False
    assert 1 <= throttle.wait() <= 60  # type: ignore[operator]
