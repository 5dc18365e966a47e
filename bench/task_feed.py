"""The worker's task feed on PostgreSQL: 100,000 open tasks in 1,000 published batches
(a quarter with requirements), paged through ``GET /api/tasks/feed/`` in-process with
the real middleware, authentication and serializers. Median and p95 per page and the
query count on several pages and orderings, against a bare ORM page of 50 batches; with
the market kept for 2 s per process as in production, and with it rebuilt on every page.
"""

import os
import statistics
import time
from datetime import timedelta
from typing import Any

BATCHES = int(os.environ.get("BENCH_FEED_BATCHES", "1000"))
TASKS_PER_BATCH = int(os.environ.get("BENCH_FEED_TASKS", "100"))
REQUESTS = int(os.environ.get("BENCH_FEED_REQUESTS", "200"))


def _seed() -> Any:
    from django.db import connection
    from django.utils import timezone

    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from tasks.models import Assignment, Batch, QualificationRequirement, Task

    def person(name: str, staff: bool = False) -> User:
        user = User.objects.create_user(username=name, email=f"{name}@feed.bench", password="x" * 20, is_staff=staff)
        WorkerProfile.objects.create(user=user, country="DE")
        return user

    staff = person("feed-bench-staff", staff=True)
    organisations = []
    for number in range(20):
        owner = person(f"feed-bench-requester-{number}")
        organisation = accounts_services.organisation_create(
            owner=owner, legal_name=f"Feed {number}", display_name=f"Feed {number}", country="DE",
            contact_email=f"f{number}@feed.example",
        )  # fmt: skip
        accounts_services.organisation_verify(organisation=organisation, verified_by=staff, legal_name=f"Feed {number}")
        organisations.append((organisation, owner))
    # The feed reads batches and slots only, never the ledger, so the seed writes them in
    # bulk (as batch_publish leaves them) instead of reserving 100,000 escrow slots one
    # batch at a time: the benchmark stays a few minutes long.
    now = timezone.now()
    template = '<p>${text}</p><input name="label" required>'
    batches = []
    for number in range(BATCHES):
        organisation, owner = organisations[number % len(organisations)]
        minutes = 1 + number % 5
        reward = 20 * minutes + (number * 7) % 300  # at least the founding 12.00 an hour
        batches.append(
            Batch(
                organisation=organisation, created_by=owner, status="published", title=f"Feed batch {number}",
                description="Label a sentence.", purpose="Benchmarking the feed.", data_use="Discarded after the run.",
                reward=reward, currency="EUR", assignments_per_task=1, estimated_minutes=minutes,
                estimated_hourly_pay=reward * 60 // minutes, time_allotted_minutes=30, lifetime_hours=48,
                template_html=template, answer_fields=[{"name": "label", "required": True}], placeholders=["text"],
                fee_per_assignment=reward // 10, published_at=now - timedelta(seconds=number),
                expires_at=now + timedelta(hours=48),
            )
        )  # fmt: skip
    Batch.objects.bulk_create(batches, batch_size=500)
    batches = list(Batch.objects.filter(title__startswith="Feed batch").order_by("id"))
    requirements = []
    for number, batch in enumerate(batches):
        if number % 4 == 0:
            requirements.append(QualificationRequirement(batch=batch, kind="approval_rate", value=8000))
        if number % 10 == 0:
            requirements.append(
                QualificationRequirement(batch=batch, kind="locale", countries=",AT,DE,", reason="German street signs.")
            )
    QualificationRequirement.objects.bulk_create(requirements)
    Task.objects.bulk_create(
        [
            Task(batch=b, row_number=i + 1, input={"text": f"sentence {i}"})
            for b in batches
            for i in range(TASKS_PER_BATCH)
        ],
        batch_size=5000,
    )
    Assignment.objects.bulk_create(
        [
            Assignment(batch_id=batch_id, task_id=task_id)
            for task_id, batch_id in Task.objects.filter(batch__in=batches).values_list("id", "batch_id")
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:  # the steady state autovacuum keeps in production
        cursor.execute("ANALYZE")
    return person("feed-bench-worker")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def _pages(client: Any, queries: list[str], count: int) -> tuple[list[float], dict[str, set[int]]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: list[float] = []
    counts: dict[str, set[int]] = {"qualified": set(), "all": set()}
    for number in range(count):
        path = "/api/tasks/feed/" + queries[number % len(queries)].format(page=1 + number % 10)
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.content[:200]!r}")
        counts["all" if "qualified_only=false" in path else "qualified"].add(len(captured))
    return timings, counts


def _counts(counts: dict[str, set[int]]) -> str:
    return "qualified only: {}; all: {}".format(*(", ".join(str(c) for c in sorted(counts[k])) for k in counts))


def run() -> list[dict[str, str]]:
    from django.test import override_settings
    from rest_framework.test import APIClient

    from tasks import selectors
    from tasks.models import Batch

    started = time.perf_counter()
    worker = _seed()
    seed_seconds = time.perf_counter() - started
    client = APIClient()
    client.force_authenticate(worker)
    queries = [
        "?page={page}",
        "?ordering=-reward&page={page}",
        "?ordering=-hourly_pay&min_reward=100&page={page}",
        "?ordering=minutes&max_minutes=3&page={page}",
        "?qualified_only=false&ordering=available&page={page}",
    ]
    client.get("/api/tasks/feed/")  # warms the rule cache and connections
    # As in production: each process keeps the market for FEED_SNAPSHOT_SECONDS (its first
    # page here rebuilds it, and that page is counted).
    with override_settings(FEED_SNAPSHOT_SECONDS=2):
        selectors._market = (float("-inf"), [])
        timings, counts = _pages(client, queries, REQUESTS)
    # Every page rebuilding the market: what a page costs when its process's copy is old.
    with override_settings(FEED_SNAPSHOT_SECONDS=0):
        cold, cold_counts = _pages(client, queries, max(10, REQUESTS // 10))
    bare: list[float] = []
    for number in range(REQUESTS):
        began = time.perf_counter()
        offset = 50 * (number % 10)
        list(Batch.objects.filter(status="published").order_by("-id")[offset : offset + 50])
        bare.append((time.perf_counter() - began) * 1000)
    median, p95 = statistics.median(timings), _percentile(timings, 0.95)
    bare_median = statistics.median(bare)
    return [
        {
            "what": f"task feed page (50 of {BATCHES} batches, {BATCHES * TASKS_PER_BATCH:,} open tasks), median",
            "figure": f"{median:.1f} ms",
            "reference": f"bare ORM page of 50 batches: {bare_median:.1f} ms",
            "ratio": f"{median / bare_median:.1f}x",
            "goal": "-",
        },
        {
            "what": "task feed page, p95 (market kept 2 s per process, as in production)",
            "figure": f"{p95:.1f} ms",
            "reference": f"bare ORM page p95: {_percentile(bare, 0.95):.1f} ms",
            "ratio": f"{p95 / _percentile(bare, 0.95):.1f}x",
            "goal": "p95 < 50 ms",
        },
        {
            "what": "task feed page rebuilding the market (a process's first page every 2 s), median / p95",
            "figure": f"{statistics.median(cold):.1f} ms / {_percentile(cold, 0.95):.1f} ms",
            "reference": f"bare ORM page: {bare_median:.1f} ms",
            "ratio": f"{statistics.median(cold) / bare_median:.1f}x",
            "goal": "-",
        },
        {
            "what": f"task feed queries per page ({len(queries)} filter/orderings x 10 pages)",
            "figure": f"{_counts(counts)} (rebuilding: {_counts(cold_counts)})",
            "reference": f"seeded in {seed_seconds:.0f} s; load {os.getloadavg()[0]:.0f} on {os.cpu_count()} CPUs",
            "ratio": "-",
            "goal": "one constant count per kind",
        },
    ]
