"""The marketplace's timers (Celery beat, see coop.schedule). Every job is idempotent:
each item is re-checked under its row lock by the service it calls, so a job run
twice, or racing a person's action, does nothing twice. Items go through
``core.runner.run_each``: one failing item is recorded and retried later, never
stopping the others."""

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Organisation
from core.errors import AppError
from core.runner import blocked_keys, run_each
from tasks import dispatch, searches, selectors, services, states
from tasks.models import Assignment, AssignmentAttempt, Batch, RequesterPayStat
from tasks.states import DATA_REPORTABLE_BATCH

logger = logging.getLogger(__name__)
CHUNK = 500


@shared_task(name="tasks.jobs.expire_assignments")
def expire_assignments() -> int:
    """Reopens accepted slots whose time allotted has passed."""
    due = Assignment.objects.filter(
        status=Assignment.Status.ACCEPTED, deadline_at__lte=timezone.now() - services.late_submission_grace()
    ).order_by("id")
    items = list(due.values_list("id", "deadline_at")[:10_000])
    run = run_each("tasks.jobs.expire_assignments", items, lambda pk: services.assignment_expire(assignment_id=pk))
    return sum(int(value) for value in run.values)


AUTO_APPROVE = "tasks.jobs.auto_approve"


def _approve_one(pk: int) -> int:
    services.assignment_approve(actor=None, assignment=Assignment.objects.get(pk=pk))
    return 1


def _approve_batch(batch_id: int, ids: list[int]) -> int:
    """One batch's due submissions in chunks, each chunk one transaction (a retry skips
    what an earlier chunk approved: only submitted slots are listed). A chunk that fails
    falls back to one item at a time, so one bad submission is isolated and parked
    while the others are paid."""
    batch = Batch.objects.get(pk=batch_id)
    approved = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        try:
            approved += services.assignments_approve_many(actor=None, batch=batch, assignment_ids=chunk)
        except Exception as error:
            if not isinstance(error, AppError):
                logger.warning("auto-approval chunk of batch %s failed (%s); one at a time", batch_id, error)
            items = [(f"assignment:{pk}", None) for pk in chunk]
            run = run_each(AUTO_APPROVE, items, lambda key: _approve_one(int(key.split(":")[1])), record_run=False)
            approved += run.processed
    return approved


@shared_task(name=AUTO_APPROVE)
def auto_approve() -> int:
    """Approves and pays submissions whose review window (``auto_approve_at``) has passed."""
    due = Assignment.objects.filter(status=Assignment.Status.SUBMITTED, auto_approve_at__lte=timezone.now()).order_by(
        "id"
    )
    rows = list(due.values_list("batch_id", "id", "auto_approve_at")[:10_000])
    blocked = blocked_keys(AUTO_APPROVE)
    by_batch: dict[int, list[int]] = {}
    oldest: dict[int, Any] = {}
    for batch_id, pk, due_at in rows:
        if f"assignment:{pk}" in blocked:
            continue  # waiting for its retry or parked: the others go on without it
        by_batch.setdefault(batch_id, []).append(pk)
        oldest.setdefault(batch_id, due_at)
    items = [(f"batch:{batch_id}", oldest[batch_id]) for batch_id in by_batch]
    run = run_each(
        AUTO_APPROVE,
        items,
        lambda key: _approve_batch(int(key.split(":")[1]), by_batch[int(key.split(":")[1])]),
        atomic=False,
    )
    return sum(run.values)


@shared_task(name="tasks.jobs.expire_batches")
def expire_batches() -> int:
    """Ends live batches whose lifetime has passed; their unclaimed escrow returns."""
    due = Batch.objects.filter(status__in=states.LIVE_BATCH, expires_at__lte=timezone.now()).order_by("id")
    items = list(due.values_list("id", "expires_at"))
    run = run_each("tasks.jobs.expire_batches", items, lambda pk: services.batch_expire(batch=Batch.objects.get(pk=pk)))
    return run.processed


@shared_task(name="tasks.jobs.finalise_rejections")
def finalise_rejections() -> int:
    """Rejections not disputed within the contest window become final (escrow returns)."""
    due = Assignment.objects.filter(status=Assignment.Status.REJECTED, rejection_final_at__lte=timezone.now()).order_by(
        "id"
    )
    items = list(due.values_list("id", "rejection_final_at")[:10_000])
    run = run_each(
        "tasks.jobs.finalise_rejections",
        items,
        lambda pk: services.assignment_rejection_lapse(assignment=Assignment.objects.get(pk=pk)),
    )
    return sum(1 for finalised in run.values if finalised)


FAIR_PAY_REVIEWS = "tasks.jobs.fair_pay_reviews"


@shared_task(name=FAIR_PAY_REVIEWS)
def fair_pay_reviews() -> int:
    """Measures every finished batch once (no slot accepted or awaiting review) and pays
    top-ups where the median hourly pay fell below the floor; retries owed top-ups.
    Each batch is one item of the runner: a batch that fails is retried later alone."""
    in_progress = Assignment.objects.filter(
        batch=OuterRef("pk"), status__in=(Assignment.Status.ACCEPTED, Assignment.Status.SUBMITTED)
    )
    due = (
        # A sandbox batch paid play money: never measured, never topped up (issue 24.6).
        Batch.objects.filter(status__in=states.FINISHED_BATCH, fair_pay_reviewed_at__isnull=True, is_sandbox=False)
        .filter(~Exists(in_progress))
        .exclude(fair_pay_retry_at__gt=timezone.now())
    )
    reviews = [(f"review:{pk}", None) for pk in due.order_by("id").values_list("id", flat=True)[:1000]]

    def items() -> Iterator[tuple[str, None]]:
        yield from reviews
        # Read after the reviews ran, so a batch reviewed now has its top-ups paid in this run.
        owing = Batch.objects.filter(fair_pay_review__top_ups_owed__gt=0).order_by("id")
        yield from ((f"owed:{pk}", None) for pk in owing.values_list("id", flat=True)[:1000])

    def step(key: str) -> bool:
        kind, pk = key.split(":")
        batch = Batch.objects.get(pk=int(pk))
        if kind == "review":
            try:
                return services.batch_fair_pay_review(batch=batch) is not None
            except Exception as error:
                # Recorded on the batch too (its retry delay), then the runner records the item.
                services.batch_fair_pay_review_failed(batch_id=batch.pk, error=error)
                raise
        services.fair_pay_collect_owed(batch=batch)
        return False

    # Not one transaction per batch: the review commits before its top-ups are paid
    # (the fairness logic decides its own transactions).
    run = run_each(FAIR_PAY_REVIEWS, items(), step, atomic=False)
    return sum(1 for reviewed in run.values if reviewed)


@shared_task(name="tasks.jobs.grow_short_clocks")
def grow_short_clocks() -> int:
    """Gives live batches whose measured work time nears their time allotted more time
    (``services.batch_time_allotted_grow``); each batch on its own."""
    grown = 0
    for batch in Batch.objects.filter(status__in=states.LIVE_BATCH).order_by("id")[:5000]:
        try:
            grown += services.batch_time_allotted_grow(batch=batch) is not None
        except Exception:
            logger.exception("time allotted of batch %s not reviewed; the next run retries", batch.pk)
    return grown


@shared_task(name="tasks.jobs.refresh_requester_pay")
def refresh_requester_pay() -> int:
    """Recomputes each active requester's measured hourly pay for the feed."""
    since = timezone.now() - timedelta(days=90)
    organisation_ids = (
        AssignmentAttempt.objects.filter(
            outcome=AssignmentAttempt.Outcome.SUBMITTED, ended_at__gte=since, batch__is_sandbox=False
        )
        .values_list("batch__organisation_id", flat=True)
        .distinct()
    )

    def step(pk: int) -> bool:
        organisation = Organisation.objects.get(pk=pk)
        pay, sample = selectors.requester_measured_pay(organisation=organisation)
        if pay is None:
            return False
        RequesterPayStat.objects.update_or_create(
            organisation=organisation,
            defaults={"median_hourly_pay": pay, "sample_size": sample, "computed_at": timezone.now()},
        )
        return True

    run = run_each("tasks.jobs.refresh_requester_pay", [(pk, None) for pk in sorted(set(organisation_ids))], step)
    return sum(1 for refreshed in run.values if refreshed)


@shared_task(name="tasks.jobs.saved_search_alerts")
def saved_search_alerts(batch_id: int) -> int:
    """Alerts the workers whose saved searches match a newly published batch."""
    return searches.saved_search_alerts(batch_id=batch_id)


@shared_task(name="tasks.jobs.data_reports_overdue")
def data_reports_overdue() -> int:
    """Marks every closed batch whose data report is past due and not filed (each once, in
    its own transaction; a batch already marked or reported is left alone)."""
    now = timezone.now()
    # The governed deadline is at least a day: batches closed less than a day ago cannot be due.
    candidates = (
        Batch.objects.filter(
            status__in=DATA_REPORTABLE_BATCH,
            data_report__isnull=True,
            data_report_overdue_at__isnull=True,
            ended_at__lte=now - timedelta(days=1),
        )
        .order_by("ended_at", "id")
        .values_list("id", "ended_at")
    )
    run = run_each(
        "tasks.jobs.data_reports_overdue",
        list(candidates),
        lambda pk: services.batch_data_report_mark_overdue(batch_id=pk, now=now),
    )
    return run.processed


DISPATCH_DRAW = "tasks.jobs.dispatch_draw_due_waves"


@shared_task(name=DISPATCH_DRAW)
def dispatch_draw_due_waves() -> int:
    """Draws every wave whose application window has closed (fair dispatch). Each wave is
    one transaction in ``services.dispatch_wave_draw``, which locks the wave and does
    nothing to a wave already drawn: a run repeated, overlapping or resumed after a crash
    gives no slot twice. Returns how many slots were given."""
    items = dispatch.due_waves()
    run = run_each(DISPATCH_DRAW, items, lambda pk: services.dispatch_wave_draw(wave_id=pk).slots_given)
    return sum(int(value) for value in run.values)


@shared_task(name="tasks.jobs.activity_prune")
def activity_prune() -> int:
    """Deletes workers' hourly activity older than the dispatch measure reads (daily), so
    the table holds at most ``tasks.activity.ACTIVITY_KEEP_DAYS`` rows a worker."""
    return services.worker_activity_prune()
