"""Celery jobs of the payouts app. Each is idempotent and safe to run again."""

import logging
from datetime import date, datetime, time, timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from core.errors import AppError
from core.runner import run_each
from payments.stripe_gateway import StripeUnavailable
from payouts import services
from payouts.models import Payout, PayoutRun, PayoutSchedule, Rail
from payouts.rails import enabled_rail_names, rail_get

logger = logging.getLogger(__name__)


@shared_task(name="payouts.jobs.run_daily")
def run_daily() -> int:
    """Pays workers on the daily schedule; returns how many payouts this call created."""
    return services.payout_run_execute(frequency=PayoutSchedule.Frequency.DAILY).payouts_created


@shared_task(name="payouts.jobs.run_weekly")
def run_weekly() -> int:
    """Pays workers on the weekly schedule (the default)."""
    return services.payout_run_execute(frequency=PayoutSchedule.Frequency.WEEKLY).payouts_created


@shared_task(name="payouts.jobs.payout_submit")
def payout_submit(payout_id: int) -> str:
    try:
        return services.payout_submit(payout_id=payout_id).state
    except AppError as error:
        if error.status_code != 503:  # the rail could not be reached (Stripe, PayPal): retry later
            raise
        # Nothing is lost: payouts_resume submits again with the same idempotency keys.
        logger.warning("%s for payout %s; will retry", error.code, payout_id)
        return "retry"


@shared_task(name="payouts.jobs.payouts_resume")
def payouts_resume() -> int:
    """Submits API-rail payouts left ``created`` by a crash or an unreachable rail."""
    api_rails = [name for name in enabled_rail_names() if rail_get(name).submission == "api"]
    stale = timezone.now() - timedelta(minutes=1)
    # Runs left unfinished by a crash first: they create payouts that are then submitted.
    runs = list(
        PayoutRun.objects.filter(finished_at__isnull=True, started_at__lt=stale)
        .order_by("id")
        .values_list("id", "started_at")
    )
    run_each("payouts.jobs.payouts_resume:runs", runs, _run_resume, atomic=False)
    items = list(
        Payout.objects.filter(state=Payout.State.CREATED, rail__in=api_rails, created_at__lt=stale)
        .exclude(held_until__gt=timezone.now())  # a new destination's hold is not over yet
        .order_by("id")
        .values_list("id", "created_at")[:500]
    )
    # Not atomic: a submission talks to the rail between its own transactions.
    run_each("payouts.jobs.payouts_resume", items, payout_submit, atomic=False)
    return len(items)


def _run_moment(key: str) -> datetime:
    """A moment inside the period a run key names (``daily:2026-11-23``, ``weekly:2026-W48``)."""
    period = key.split(":", 1)[1]
    if "-W" in period:
        year, week = period.split("-W")
        day = date.fromisocalendar(int(year), int(week), 1)
    else:
        day = date.fromisoformat(period)
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def _run_resume(run_id: int) -> int:
    """Runs an unfinished scheduled run again, in its own period (the same run key)."""
    run = PayoutRun.objects.get(pk=run_id)
    return services.payout_run_execute(frequency=run.frequency, at=_run_moment(run.key)).payouts_created


@shared_task(name="payouts.jobs.payout_transfer_reverse")
def payout_transfer_reverse(payout_id: int) -> str:
    try:
        return services.payout_transfer_reverse(payout_id=payout_id).stripe_reversal_id
    except StripeUnavailable:
        logger.warning("Stripe unavailable reversing payout %s; reversals_resume retries", payout_id)
        return "retry"


@shared_task(name="payouts.jobs.reversals_resume")
def reversals_resume() -> int:
    """Reverses the transfers of failed Stripe payouts whose reversal job was lost."""
    items = list(
        Payout.objects.filter(state=Payout.State.FAILED, stripe_reversal_id="", rail=Rail.STRIPE_CONNECT)
        .filter(Q(stripe_transfer_id__isnull=False) | Q(stripe_payout_id__isnull=False))
        .order_by("id")
        .values_list("id", "failed_at")[:200]
    )
    run_each("payouts.jobs.reversals_resume", items, payout_transfer_reverse, atomic=False)
    return len(items)


@shared_task(name="payouts.jobs.provider_payouts_reconcile")
def provider_payouts_reconcile() -> dict[str, int]:
    """Settles payouts whose provider webhook was lost, from the provider's current state."""
    from payouts.reconciliation import provider_payouts_reconcile as reconcile

    return reconcile()
