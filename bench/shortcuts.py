"""Benchmark: each speed shortcut that reaches into another library's internals, timed
against the library's own way of doing the same thing (docs/performance.md lists them).

- timestamps: ``core.postgresql``'s loader against Django's own, reading 20,000 values;
- Redis client: ``core.cache``'s one client per process against Django's client per call
  (building the client only: no server is needed);
- JSON: ``core.renderers.JSONRenderer`` against DRF's, on a feed-like page;
- organisation access: ``accounts.selectors.access_organisation`` (one join) against
  guardian's ``get_objects_for_user``.

A shortcut earns its place with a ratio of at least 1.5x (the goal column); one that falls
below should be removed. Runs inside a rolled-back transaction.

    DATABASE_URL=postgres://... .venv/bin/python bench/run.py shortcuts
"""

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 1.5


class _Rollback(Exception):
    pass


def _setup() -> None:
    for entry in (str(ROOT), str(ROOT / "platform")):
        if entry not in sys.path:
            sys.path.append(entry)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
    import django

    django.setup()


def _best(work: Callable[[], Any], repeat: int = 5) -> float:
    """The best of ``repeat`` timings of ``work``, in seconds (the least disturbed run)."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def _row(what: str, ours: float, theirs: float, unit: str) -> dict[str, str]:
    ratio = theirs / ours if ours else float("inf")
    return {
        "what": what,
        "figure": f"{ours:.2f} {unit}",
        "reference": f"library's own: {theirs:.2f} {unit}",
        "ratio": f"{ratio:.1f}x",
        "goal": f">= {GOAL_RATIO}x: {'met' if ratio >= GOAL_RATIO else 'NOT met, remove the shortcut'}",
    }


def _timestamps() -> dict[str, str]:
    from django.db import connection
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    values = 20_000
    sql = "SELECT now() + (i || ' seconds')::interval FROM generate_series(1, %s) AS i"

    def read(cursor: Any) -> Callable[[], Any]:
        def work() -> Any:
            cursor.execute(sql, [values])
            return cursor.fetchall()

        return work

    with connection.cursor() as ours, connection.cursor() as djangos:
        register_tzloader(connection.timezone, djangos.cursor)
        # The query's own time is in both; the difference is the parsing.
        ours_s = _best(read(ours))
        theirs_s = _best(read(djangos))
    return _row(f"timestamps: {values:,} timestamptz values read", ours_s * 1e3, theirs_s * 1e3, "ms")


def _redis_client() -> dict[str, str]:
    from django.core.cache.backends.redis import RedisCacheClient

    from core.cache import _SharedClientCacheClient

    calls = 20_000
    server = ["redis://127.0.0.1:6379/15"]
    ours, theirs = _SharedClientCacheClient(server), RedisCacheClient(server)

    def many(client: Any) -> Callable[[], None]:
        def work() -> None:
            for _ in range(calls):
                client.get_client("key")

        return work

    ours_us = _best(many(ours)) / calls * 1e6
    theirs_us = _best(many(theirs)) / calls * 1e6
    return _row("Redis: the client for one cache operation", ours_us, theirs_us, "µs")


def _json() -> dict[str, str]:
    from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

    from core.renderers import JSONRenderer

    page = {
        "count": 50,
        "next": "https://coop.example/api/tasks/feed/?page=2",
        "results": [
            {
                "id": n,
                "title": f"Label the pictures of set {n}",
                "requester": {"slug": f"org-{n}", "display_name": "Lab of Things", "approval_rate": 98.25},
                "reward": "0.50",
                "hourly": "15.00",
                "estimated_minutes": 2,
                "purpose": "Train a classifier on street signs." * 3,
                "warnings": [],
                "available": 120 - n,
                "qualified": True,
            }
            for n in range(50)
        ],
    }
    renders = 2_000
    ours_renderer, theirs_renderer = JSONRenderer(), DRFJSONRenderer()
    assert ours_renderer.render(page) == theirs_renderer.render(page)

    def many(renderer: Any) -> Callable[[], None]:
        def work() -> None:
            for _ in range(renders):
                renderer.render(page)

        return work

    ours_us = _best(many(ours_renderer)) / renders * 1e6
    theirs_us = _best(many(theirs_renderer)) / renders * 1e6
    return _row("JSON: a feed page of 50 tasks written", ours_us, theirs_us, "µs")


def _organisation_access() -> dict[str, str]:
    from django.db import transaction
    from guardian.shortcuts import get_objects_for_user

    from accounts import services as account_services
    from accounts.models import Organisation, User
    from accounts.selectors import access_organisation

    calls = 300
    timings: dict[str, float] = {}
    try:
        with transaction.atomic():
            owner = User.objects.create_user(username="shortcut-owner", email="o@example.org", password="x" * 12)
            organisation = account_services.organisation_create(
                owner=owner,
                legal_name="Shortcut Lab",
                display_name="Shortcut Lab",
                slug="shortcut-lab",
                country="DE",
                contact_email="o@example.org",
            )

            def ours() -> None:
                for _ in range(calls):
                    access_organisation(user=owner, slug=organisation.slug)

            def guardians() -> None:
                for _ in range(calls):
                    get_objects_for_user(
                        owner, "accounts.manage_organisation", klass=Organisation, accept_global_perms=False
                    ).get(slug=organisation.slug)

            timings["ours"] = _best(ours, 3) / calls * 1e3
            timings["theirs"] = _best(guardians, 3) / calls * 1e3
            raise _Rollback
    except _Rollback:
        pass
    return _row("organisation access: one requester endpoint's check", timings["ours"], timings["theirs"], "ms")


def run() -> list[dict[str, str]]:
    _setup()
    started = datetime.now(UTC)
    rows = [_timestamps(), _redis_client(), _json(), _organisation_access()]
    print(f"[shortcuts] measured from {started:%H:%M:%S} UTC", file=sys.stderr)
    return rows


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row.values()))
