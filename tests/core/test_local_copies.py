"""LocalCopies: values shared through the cache and copied in each process, never older
than the shared entry's own lifetime, in any process."""

import threading
from typing import Any

import pytest
from django.core.cache import cache

from core import cache as core_cache
from core.cache import LocalCopies


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(core_cache.time, "time", clock)
    return clock


class Counter:
    """A computation that counts its calls and returns which call it was."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def _shared_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real_get = cache.get

    def get(key: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", get)
    return reads


def test_a_process_computes_once_and_then_reads_its_own_copy(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _shared_reads(monkeypatch)
    copies: LocalCopies[int] = LocalCopies(max_entries=10)
    compute = Counter()
    assert copies.get_or_set("k", 2, compute) == 1
    clock.now += 1.9
    assert [copies.get_or_set("k", 2, compute) for _ in range(5)] == [1] * 5
    assert compute.calls == 1 and reads == ["k"]  # one shared read, when there was no copy
    clock.now += 0.2  # past the value's lifetime: computed again
    assert copies.get_or_set("k", 2, compute) == 2


def test_another_process_keeps_the_shared_value_only_until_it_expires(clock: Clock) -> None:
    first: LocalCopies[int] = LocalCopies(max_entries=10)
    second: LocalCopies[int] = LocalCopies(max_entries=10)  # as another process would have
    compute = Counter()
    assert first.get_or_set("k", 2, compute) == 1
    clock.now += 1.5
    assert second.get_or_set("k", 2, compute) == 1  # from the shared cache, not computed
    assert compute.calls == 1
    clock.now += 0.6  # 2.1 s after computing: neither process may answer with it any more
    assert second.get_or_set("k", 2, compute) == 2
    assert first.get_or_set("k", 2, compute) == 2  # the shared value the second computed
    assert compute.calls == 2


def test_the_least_recently_used_copies_go_first(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    copies: LocalCopies[str] = LocalCopies(max_entries=2)
    for key in ["a", "b"]:
        copies.get_or_set(key, 60, lambda key=key: key)  # type: ignore[misc]
    copies.get_or_set("a", 60, lambda: "recomputed")  # "a" is now the most recent
    copies.get_or_set("c", 60, lambda: "c")  # so "b" goes
    reads = _shared_reads(monkeypatch)
    copies.get_or_set("a", 60, lambda: "recomputed")
    copies.get_or_set("c", 60, lambda: "recomputed")
    assert reads == []
    assert copies.get_or_set("b", 60, lambda: "recomputed") == "b"  # read back from the shared cache
    assert reads == ["b"]


def test_threads_share_one_copy_safely(clock: Clock) -> None:
    copies: LocalCopies[int] = LocalCopies(max_entries=8)
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            for step in range(200):
                key = f"k{(number + step) % 12}"
                assert copies.get_or_set(key, 60, lambda key=key: int(key[1:])) == int(key[1:])  # type: ignore[misc]
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(copies._copies) <= 8


def test_clearing_empties_every_process_copy(clock: Clock) -> None:
    copies: LocalCopies[int] = LocalCopies(max_entries=10)
    compute = Counter()
    copies.get_or_set("k", 60, compute)
    cache.clear()
    core_cache.clear_local_copies()
    assert copies.get_or_set("k", 60, compute) == 2
