"""Worker activity by hour of the day: the measure fair dispatch sizes its waves by.

What is recorded (``tasks.services.activity.worker_activity_record``): a worker who opens the
feed (page or API) or a batch's page is active in that UTC hour. One row a worker a UTC day
(``WorkerActivity``), whose 24 bits are the hours they were active. A web process writes a
worker's hour once (it remembers whom it wrote this hour), so the cost is one small upsert a
worker an hour a process, none on every other page. Rows older than ``ACTIVITY_KEEP_DAYS``
are deleted daily (``tasks.jobs.activity_prune``): the table never holds more than that many
rows a worker, whatever the traffic.

The measure (``activity_measure``): for each UTC hour of the day, how many of the workers
who could take a given batch were active in that hour, summed over the ``ACTIVITY_DAYS``
whole UTC days before the day of publication (a worker active in that hour on 5 of the 7
days counts 5; divided by 7 it is the average number of such workers in that hour of a day).
"Could take the batch" applies what can be read in one query: the account is active and
not suspended, not the requester's staff (present, or former within ``former_staff_days``),
not blocked by it, and meeting its location and qualification requirements. Approval-rate
and approved-count requirements are not applied (each needs the worker's whole record;
nothing ties them to an hour of the day, so they scale every hour alike).

One aggregate query over at most ``ACTIVITY_DAYS`` rows a worker, at publication only.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet, Sum

from accounts.models import WorkerProfile
from accounts.selectors import organisation_staff_ids
from tasks.models import Batch, BlockedWorker, QualificationGrant, QualificationRequirement, WorkerActivity

ACTIVITY_DAYS = 7
ACTIVITY_KEEP_DAYS = ACTIVITY_DAYS + 1  # the day being written, and the seven measured
HOURS = 24


def hour_mask(hours: list[int] | set[int] | range) -> int:
    """The ``WorkerActivity.hours`` value of a day active in ``hours`` (UTC, 0-23)."""
    mask = 0
    for hour in hours:
        if not 0 <= hour < HOURS:
            raise ValueError(f"hour {hour} is not 0-23")
        mask |= 1 << hour
    return mask


def mask_hours(mask: int) -> list[int]:
    """The hours set in a ``WorkerActivity.hours`` value."""
    return [hour for hour in range(HOURS) if mask >> hour & 1]


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def utc_hour(at: datetime) -> int:
    return at.astimezone(UTC).hour


@dataclass(frozen=True)
class ActivityMeasure:
    """Per UTC hour (0 first), eligible workers active then, summed over the days measured."""

    first_day: date
    last_day: date
    hours: list[int]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def stored(self, *, floor: int, equal: bool) -> dict[str, Any]:
        """What the batch keeps (``Batch.dispatch_activity``), with the plan's floor weight."""
        return {
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "days": self.days,
            "hours": list(self.hours),
            "floor": floor,
            "equal": equal,
        }


def measure_days(at: datetime) -> tuple[date, date]:
    """The first and last day measured for a plan made at ``at``: the ``ACTIVITY_DAYS``
    whole UTC days before ``at``'s day, so every hour of the day is counted as often."""
    today = utc_day(at)
    return today - timedelta(days=ACTIVITY_DAYS), today - timedelta(days=1)


def eligible_activity(*, batch: Batch, first_day: date, last_day: date, at: datetime) -> QuerySet[WorkerActivity]:
    """The activity rows of the days measured, of the workers who could take ``batch`` (the
    conditions in the module's docstring)."""
    rows = WorkerActivity.objects.filter(
        day__gte=first_day, day__lte=last_day, worker__is_active=True, worker__suspended_at__isnull=True
    )
    staff = organisation_staff_ids(organisation_id=batch.organisation_id, at=at)
    if staff:
        rows = rows.exclude(worker_id__in=staff)
    rows = rows.exclude(
        worker_id__in=BlockedWorker.objects.filter(organisation_id=batch.organisation_id).values("worker_id")
    )
    for requirement in QualificationRequirement.objects.filter(batch=batch).order_by("id"):
        if requirement.kind == QualificationRequirement.Kind.LOCALE:
            rows = rows.filter(
                Exists(
                    WorkerProfile.objects.filter(user_id=OuterRef("worker_id"), country__in=requirement.country_list)
                )
            )
        elif requirement.kind == QualificationRequirement.Kind.QUALIFICATION:
            rows = rows.filter(
                Exists(
                    QualificationGrant.objects.filter(
                        worker_id=OuterRef("worker_id"),
                        qualification_id=requirement.qualification_id or 0,  # none named: nobody meets it
                        value__gte=requirement.value,
                    )
                )
            )
    return rows


def activity_measure(*, batch: Batch, at: datetime) -> ActivityMeasure:
    """The measure a plan made at ``at`` for ``batch`` reads (one query)."""
    first_day, last_day = measure_days(at)
    rows = eligible_activity(batch=batch, first_day=first_day, last_day=last_day, at=at)
    sums = rows.aggregate(**{f"h{hour}": Sum(F("hours").bitrightshift(hour).bitand(1)) for hour in range(HOURS)})
    return ActivityMeasure(
        first_day=first_day, last_day=last_day, hours=[int(sums[f"h{hour}"] or 0) for hour in range(HOURS)]
    )
