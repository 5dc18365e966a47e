"""The marketplace's timers (Celery beat, see coop.schedule). Every job is idempotent:
each item is re-checked under its row lock by the service it calls, so a job run
twice, or racing a person's action, does nothing twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Organisation
from core.errors import AppError
from tasks import selectors, services
from tasks.models import Assignment, AssignmentAttempt, Batch, RequesterPayStat

logger = logging.getLogger(__name__)
CHUNK = 500


@shared_task(name="tasks.jobs.expire_assignments")
def expire_assignments() -> int:
    """Reopens accepted slots whose time allotted has passed."""
    due = Assignment.objects.filter(
        status="accepted", deadline_at__lte=timezone.now() - services.late_submission_grace()
    ).order_by("id")
    expired = 0
    for pk in list(due.values_list("id", flat=True)[:10_000]):
        expired += services.assignment_expire(assignment_id=pk)
    return expired


@shared_task(name="tasks.jobs.auto_approve")
def auto_approve() -> int:
    """Approves and pays submissions whose review window (``auto_approve_at``) has passed."""
    due = Assignment.objects.filter(status="submitted", auto_approve_at__lte=timezone.now()).order_by("id")
    rows = list(due.values_list("batch_id", "id")[:10_000])
    by_batch: dict[int, list[int]] = {}
    for batch_id, pk in rows:
        by_batch.setdefault(batch_id, []).append(pk)
    approved = 0
    for batch_id, ids in by_batch.items():
        batch = Batch.objects.get(pk=batch_id)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            try:
                approved += services.assignments_approve_many(actor=None, batch=batch, assignment_ids=chunk)
            except AppError:
                # Someone reviewed one of them meanwhile: fall back to one at a time.
                for pk in chunk:
                    try:
                        services.assignment_approve(actor=None, assignment=Assignment.objects.get(pk=pk))
                        approved += 1
                    except AppError as error:
                        logger.info("auto-approval skipped assignment %s: %s", pk, error.code)
    return approved


@shared_task(name="tasks.jobs.expire_batches")
def expire_batches() -> int:
    """Ends live batches whose lifetime has passed; their unclaimed escrow returns."""
    due = Batch.objects.filter(status__in=("published", "paused"), expires_at__lte=timezone.now()).order_by("id")
    count = 0
    for batch in due:
        try:
            services.batch_expire(batch=batch)
            count += 1
        except AppError as error:
            logger.info("batch %s not expired: %s", batch.pk, error.code)
    return count


@shared_task(name="tasks.jobs.finalise_rejections")
def finalise_rejections() -> int:
    """Rejections not disputed within the contest window become final (escrow returns)."""
    due = Assignment.objects.filter(status="rejected", rejection_final_at__lte=timezone.now()).order_by("id")
    count = 0
    for assignment in list(due[:10_000]):
        try:
            if services.assignment_rejection_lapse(assignment=assignment):
                count += 1
        except AppError as error:
            logger.info("rejection of %s not finalised: %s", assignment.pk, error.code)
    return count


@shared_task(name="tasks.jobs.fair_pay_reviews")
def fair_pay_reviews() -> int:
    """Measures every finished batch once (no slot accepted or awaiting review) and pays
    top-ups where the median hourly pay fell below the floor; retries owed top-ups."""
    in_progress = Assignment.objects.filter(batch=OuterRef("pk"), status__in=("accepted", "submitted"))
    due = (
        Batch.objects.filter(status__in=("completed", "cancelled", "expired"), fair_pay_reviewed_at__isnull=True)
        .filter(~Exists(in_progress))
        .exclude(fair_pay_retry_at__gt=timezone.now())
    )
    count = 0
    for batch in due.order_by("id")[:1000]:
        # One batch's failure never stops the others: it is recorded on the batch and retried.
        try:
            if services.batch_fair_pay_review(batch=batch) is not None:
                count += 1
        except Exception as error:
            logger.exception("fair-pay review of batch %s failed; recorded for retry", batch.pk)
            services.batch_fair_pay_review_failed(batch_id=batch.pk, error=error)
    owing = Batch.objects.filter(fair_pay_review__top_ups_owed__gt=0).order_by("id")
    for batch in owing[:1000]:
        try:
            services.fair_pay_collect_owed(batch=batch)
        except Exception:
            logger.exception("owed top-ups of batch %s not collected; the next run retries", batch.pk)
    return count


@shared_task(name="tasks.jobs.grow_short_clocks")
def grow_short_clocks() -> int:
    """Gives live batches whose measured work time nears their time allotted more time
    (``services.batch_time_allotted_grow``); each batch on its own."""
    grown = 0
    for batch in Batch.objects.filter(status__in=("published", "paused")).order_by("id")[:5000]:
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
        AssignmentAttempt.objects.filter(outcome="submitted", ended_at__gte=since)
        .values_list("batch__organisation_id", flat=True)
        .distinct()
    )
    count = 0
    for organisation in Organisation.objects.filter(pk__in=list(organisation_ids)):
        pay, sample = selectors.requester_measured_pay(organisation=organisation)
        if pay is None:
            continue
        RequesterPayStat.objects.update_or_create(
            organisation=organisation,
            defaults={"median_hourly_pay": pay, "sample_size": sample, "computed_at": timezone.now()},
        )
        count += 1
    return count
