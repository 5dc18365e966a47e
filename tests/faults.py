"""Fault injection for the jobs' tests: the n-th database write of a block fails once,
as a crash between two writes of a step would."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import OperationalError, connection

WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Fault:
    at: int
    writes: int = 0
    fired: bool = False


@contextmanager
def write_fails_once(at: int, *, only: Callable[[str], bool] = lambda sql: True) -> Iterator[Fault]:
    """The ``at``-th write statement (INSERT/UPDATE/DELETE, counted from 1, filtered by
    ``only``) raises ``OperationalError`` instead of running; every other runs. After the
    block, ``fault.fired`` says whether the block reached that write at all."""
    fault = Fault(at=at)

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith(WRITES) and only(sql):
            fault.writes += 1
            if fault.writes == fault.at and not fault.fired:
                fault.fired = True
                raise OperationalError(f"injected fault at write {fault.at}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield fault


def every_write(
    *,
    setup: Callable[[], Any],
    run: Callable[[], Any],
    retry: Callable[[], Any],
    check: Callable[[Any], None],
    limit: int = 300,
    only: Callable[[str], bool] = lambda sql: True,
) -> int:
    """For k = 1, 2, ...: ``setup()`` fresh items, ``run()`` with the k-th write failing
    once, ``retry()`` with no fault (the next tick), then ``check(items)``, until a run no
    longer reaches a k-th write. Returns how many fault points were tried (at least one)."""
    for at in range(1, limit + 1):
        items = setup()
        with write_fails_once(at, only=only) as fault:
            run()
        retry()
        check(items)
        if not fault.fired:
            assert at > 1, "the run wrote nothing: nothing was tested"
            return at - 1
    raise AssertionError(f"more than {limit} writes: raise the limit")
