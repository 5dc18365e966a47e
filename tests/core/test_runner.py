"""The per-item job runner: one item's failure is recorded and retried later, never
stopping the others; an item that keeps failing is parked where staff see it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from core.errors import AppError
from core.models import JobItemFailure, JobRun
from core.runner import MAX_ATTEMPTS, job_item_release, jobs_health, retry_delay, run_each

pytestmark = pytest.mark.django_db

JOB = "tests.jobs.sample"


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_a_poison_item_is_recorded_and_the_others_pass(clock: Clock) -> None:
    seen: list[int] = []

    def step(key: int) -> int:
        if key == 2:
            raise OperationalError("deadlock detected")
        seen.append(key)
        return key * 10

    due = clock.now - timedelta(hours=5)
    run = run_each(JOB, [(1, due), (2, due), (3, due)], step)

    assert (run.processed, run.failed, run.values, seen) == (2, 1, [10, 30], [1, 3])
    failure = JobItemFailure.objects.get()
    assert (failure.job, failure.item_key, failure.attempts) == (JOB, "2", 1)
    assert failure.last_error == "OperationalError: deadlock detected"
    assert failure.next_attempt_at == clock.now + retry_delay(1)
    assert failure.parked_at is None
    # The run's summary shows what it left undone and since when it was due.
    assert JobRun.objects.get(job=JOB).oldest_undone_due_at == due

    # Before its retry time the item waits; the others are not held up.
    run = run_each(JOB, [(2, due), (4, due)], step)
    assert (run.processed, run.waiting, run.failed) == (1, 1, 0)


def test_an_item_failing_again_and_again_is_parked_then_released_by_staff(clock: Clock) -> None:
    attempts = 0

    def step(key: int) -> None:
        nonlocal attempts
        attempts += 1
        raise OperationalError("could not obtain lock")

    for expected in range(1, MAX_ATTEMPTS + 1):
        run_each(JOB, [(7, None)], step)
        failure = JobItemFailure.objects.get()
        assert failure.attempts == expected
        clock.advance(hours=2)
    assert failure.parked_at is not None
    # Parked: not tried again however long one waits.
    clock.advance(days=3)
    assert run_each(JOB, [(7, None)], step).waiting == 1
    assert attempts == MAX_ATTEMPTS
    assert jobs_health()[JOB]["parked"] == [
        {
            "item": "7",
            "attempts": MAX_ATTEMPTS,
            "last_error": "OperationalError: could not obtain lock",
            "parked_at": failure.parked_at.isoformat(),
        }
    ]

    assert job_item_release(failure_ids=[failure.pk]) == 1
    run = run_each(JOB, [(7, None)], lambda key: "fixed")
    assert (run.processed, run.values) == (1, ["fixed"])
    assert not JobItemFailure.objects.exists()


def test_a_refusal_is_an_answer_not_a_failure(clock: Clock) -> None:
    def step(key: int) -> None:
        raise AppError("no_juror", "No eligible juror yet.")

    run = run_each(JOB, [(1, None)], step)
    assert (run.refused, run.refusals, run.failed) == (1, ["no_juror"], 0)
    assert not JobItemFailure.objects.exists()


def test_a_failed_step_leaves_nothing_half_done(clock: Clock) -> None:
    User = get_user_model()

    def step(key: int) -> None:
        User.objects.create(username=f"half-{key}")
        raise RuntimeError("crash between two writes")

    run_each(JOB, [(1, None)], step)
    assert not User.objects.filter(username="half-1").exists()


def test_the_health_page_reports_the_lag_and_parked_items(clock: Clock) -> None:
    due = clock.now - timedelta(hours=5)

    def step(key: int) -> None:
        if key == 1:
            raise OperationalError("could not obtain lock")

    run_each("disputes.jobs.run_deadlines", [(1, due), (2, clock.now)], step)
    clock.advance(minutes=10)
    body = Client().get("/health/").json()
    report = body["jobs"]["disputes.jobs.run_deadlines"]
    assert report["oldest_due_age_seconds"] == 5 * 3600 + 600
    assert report["seconds_since_last_run"] == 600
    assert (report["failing"], report["parked"]) == (1, [])

    # Once the item goes through, the lag is gone.
    clock.advance(hours=1)
    run_each("disputes.jobs.run_deadlines", [(1, due)], lambda key: None)
    assert Client().get("/health/").json()["jobs"]["disputes.jobs.run_deadlines"]["oldest_due_age_seconds"] == 0


def test_staff_see_the_lag_and_release_a_parked_item_on_their_page(clock: Clock) -> None:
    from tests.factories import UserFactory

    def step(key: int) -> None:
        raise OperationalError("could not obtain lock")

    for _ in range(MAX_ATTEMPTS):
        run_each("disputes.jobs.run_deadlines", [(9, clock.now - timedelta(hours=5))], step)
        clock.advance(hours=2)
    failure = JobItemFailure.objects.get()
    member = Client()
    member.force_login(UserFactory())
    assert member.get("/staff/jobs/").status_code == 403
    assert member.post(f"/staff/jobs/{failure.pk}/release/").status_code == 403
    assert JobItemFailure.objects.get().parked_at is not None

    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    page = staff.get("/staff/jobs/").content.decode()
    assert "disputes.jobs.run_deadlines" in page and "could not obtain lock" in page
    assert "none" not in page.split("disputes.jobs.run_deadlines", 1)[1].split("</tr>", 1)[0]
    staff.post(f"/staff/jobs/{failure.pk}/release/")
    failure.refresh_from_db()
    assert (failure.parked_at, failure.attempts) == (None, 0)
