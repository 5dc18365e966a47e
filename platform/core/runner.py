"""The per-item runner every periodic job uses: one item's failure never stops the run.

A periodic job lists its due items and hands them to ``run_each`` with the step that
handles one item (usually one service call, which re-checks the item under its row lock,
so a step run twice does nothing twice). Each step runs in its own transaction; an
application refusal (``AppError``) is an answer, logged and not retried early; any other
exception is recorded on the item (``JobItemFailure``: attempts, last error, next attempt
after a growing delay) and the run moves on. An item that fails ``max_attempts`` times in
a row is parked: it is not tried again until staff release it (admin action), and the
health page lists it. A step that goes through clears the item's failure record.

Each run also records its summary (``JobRun``), from which ``/health/`` reports the age of
the oldest due item the job left undone.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import AppError
from core.models import JobItemFailure, JobRun

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=1)
ERROR_CHARS = 2000

Key = int | str


@dataclass
class RunResult:
    """What one run did. ``values`` holds each successful step's return value in order."""

    processed: int = 0
    refused: int = 0
    failed: int = 0
    waiting: int = 0
    values: list[Any] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def retry_delay(attempts: int) -> timedelta:
    """How long an item waits after its ``attempts``-th failure in a row."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)


def blocked_keys(job: str, *, now: datetime | None = None) -> set[str]:
    """Keys of the job's items that wait for their next attempt or are parked."""
    moment = now or timezone.now()
    return {
        failure.item_key
        for failure in JobItemFailure.objects.filter(job=job)
        if failure.parked_at is not None or failure.next_attempt_at > moment
    }


def _record_failure(job: str, key: str, error: BaseException, *, max_attempts: int) -> JobItemFailure | None:
    now = timezone.now()
    message = f"{type(error).__name__}: {error}"[:ERROR_CHARS]
    try:
        with transaction.atomic():
            failure, _ = JobItemFailure.objects.select_for_update().get_or_create(
                job=job,
                item_key=key,
                defaults={"first_failed_at": now, "last_failed_at": now, "next_attempt_at": now},
            )
            failure.attempts += 1
            failure.last_error = message
            failure.last_failed_at = now
            failure.next_attempt_at = now + retry_delay(failure.attempts)
            if failure.attempts >= max_attempts and failure.parked_at is None:
                failure.parked_at = now
                logger.error("job %s parked item %s after %s attempts: %s", job, key, failure.attempts, message)
            failure.save()
            return failure
    except Exception:
        # The database itself may be what failed; the next run meets the item again.
        logger.exception("job %s could not record the failure of item %s", job, key)
        return None


def run_each(
    job: str,
    items: Iterable[tuple[Key, datetime | None]],
    step: Callable[[Any], Any],
    *,
    atomic: bool = True,
    max_attempts: int = MAX_ATTEMPTS,
    record_run: bool = True,
) -> RunResult:
    """Runs ``step(key)`` for each ``(key, due_at)`` of ``items``, each independently.

    ``atomic`` runs each step in its own transaction (pass False for a step that talks to
    an outside service between its own transactions, such as a payment rail). ``due_at``
    (may be None) is when the item became due, for the health page's lag."""
    result = RunResult()
    now = timezone.now()
    failures = {failure.item_key: failure for failure in JobItemFailure.objects.filter(job=job)}
    oldest_undone: datetime | None = None

    def undone(due_at: datetime | None) -> None:
        nonlocal oldest_undone
        if due_at is not None and (oldest_undone is None or due_at < oldest_undone):
            oldest_undone = due_at

    for raw_key, due_at in items:
        key = str(raw_key)
        known = failures.get(key)
        if known is not None and (known.parked_at is not None or known.next_attempt_at > now):
            result.waiting += 1
            undone(due_at)
            continue
        try:
            if atomic:
                with transaction.atomic():
                    value = step(raw_key)
            else:
                value = step(raw_key)
        except AppError as error:
            result.refused += 1
            result.refusals.append(error.code)
            logger.info("job %s: item %s refused: %s (%s)", job, key, error.code, error.message)
            if known is not None:
                JobItemFailure.objects.filter(pk=known.pk).delete()
        except Exception as error:
            result.failed += 1
            undone(due_at)
            logger.exception("job %s: item %s failed; the run goes on", job, key)
            _record_failure(job, key, error, max_attempts=max_attempts)
        else:
            result.processed += 1
            result.values.append(value)
            if known is not None:
                JobItemFailure.objects.filter(pk=known.pk).delete()
    if record_run:
        job_run_record(job, processed=result.processed, failed=result.failed, oldest_undone_due_at=oldest_undone)
    return result


def job_run_record(job: str, *, processed: int, failed: int, oldest_undone_due_at: datetime | None) -> None:
    try:
        JobRun.objects.update_or_create(
            job=job,
            defaults={
                "last_run_at": timezone.now(),
                "processed": processed,
                "failed": failed,
                "oldest_undone_due_at": oldest_undone_due_at,
            },
        )
    except Exception:
        logger.exception("job %s could not record its run", job)


def job_item_release(*, failure_ids: Iterable[int]) -> int:
    """Staff release parked (or waiting) items: the next run tries them at once, with
    their count of attempts starting again."""
    return JobItemFailure.objects.filter(pk__in=list(failure_ids)).update(
        parked_at=None, attempts=0, next_attempt_at=timezone.now()
    )


def jobs_health(*, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per job: its last run, the age in seconds of the oldest due item it left undone,
    how many items are failing, and the parked ones (for ``/health/`` and staff)."""
    moment = now or timezone.now()
    report: dict[str, dict[str, Any]] = {}
    for run in JobRun.objects.order_by("job"):
        report[run.job] = {
            "last_run_at": run.last_run_at.isoformat(),
            "seconds_since_last_run": int((moment - run.last_run_at).total_seconds()),
            "oldest_due_age_seconds": (
                max(int((moment - run.oldest_undone_due_at).total_seconds()), 0) if run.oldest_undone_due_at else 0
            ),
            "failing": 0,
            "parked": [],
        }
    for failure in JobItemFailure.objects.order_by("job", "first_failed_at"):
        never_run = {"last_run_at": None, "seconds_since_last_run": None, "oldest_due_age_seconds": 0}
        entry = report.setdefault(failure.job, {**never_run, "failing": 0, "parked": []})
        entry["failing"] += 1
        if failure.parked_at is not None:
            entry["parked"].append(
                {
                    "item": failure.item_key,
                    "attempts": failure.attempts,
                    "last_error": failure.last_error[:200],
                    "parked_at": failure.parked_at.isoformat(),
                }
            )
    return report
