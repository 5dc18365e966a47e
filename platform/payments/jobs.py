"""Celery jobs of the payments app. Each is idempotent and safe to run again."""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from core.runner import run_each
from payments import card_funds, services, webhooks
from payments.models import Deposit, WebhookEvent, Withdrawal
from payments.stripe_gateway import StripeUnavailable

logger = logging.getLogger(__name__)

# Inbox events are retried this many times before a person must look.
MAX_WEBHOOK_ATTEMPTS = 20


@shared_task(name="payments.jobs.webhook_event_process")
def webhook_event_process(webhook_event_id: int) -> str:
    return webhooks.webhook_event_process(webhook_event_id=webhook_event_id).status


@shared_task(name="payments.jobs.webhook_events_retry")
def webhook_events_retry() -> int:
    """Re-runs inbox events that failed or whose job was lost (older than a minute)."""
    stale = timezone.now() - timedelta(minutes=1)
    ids = list(
        WebhookEvent.objects.filter(
            status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED],
            attempts__lt=MAX_WEBHOOK_ATTEMPTS,
            received_at__lt=stale,
        )
        .order_by("id")
        .values_list("id", "received_at")[:500]
    )
    run_each(
        "payments.jobs.webhook_events_retry",
        ids,
        lambda pk: webhooks.webhook_event_process(webhook_event_id=pk),
        atomic=False,
    )
    return len(ids)


@shared_task(name="payments.jobs.withdrawal_process")
def withdrawal_process(withdrawal_id: int) -> str:
    withdrawal = Withdrawal.objects.get(pk=withdrawal_id)
    try:
        return services.withdrawal_refunds_send(withdrawal=withdrawal).status
    except StripeUnavailable:
        # Nothing is lost: withdrawals_resume sends again with the same idempotency keys.
        logger.warning("Stripe unavailable for withdrawal %s; will retry", withdrawal_id)
        return "retry"


@shared_task(name="payments.jobs.withdrawals_resume")
def withdrawals_resume() -> int:
    """Picks up card withdrawals left unfinished by a crash or an unreachable Stripe."""
    stale = timezone.now() - timedelta(minutes=1)
    ids = list(
        Withdrawal.objects.filter(
            status=Withdrawal.Status.REQUESTED, method=Withdrawal.Method.STRIPE_REFUND, created_at__lt=stale
        )
        .order_by("id")
        .values_list("id", "created_at")[:200]
    )
    run_each("payments.jobs.withdrawals_resume", ids, withdrawal_process, atomic=False)
    return len(ids)


@shared_task(name="payments.jobs.reconcile_daily")
def reconcile_daily(day: str | None = None) -> int:
    """Reconciles ``day`` (ISO date), or by default the last two UTC days: a run that
    failed (Stripe unreachable) or a late webhook is caught up the next night.
    Returns the open differences found."""
    from payments.reconciliation import reconciliation_run

    today = timezone.now().date()
    days = [date.fromisoformat(day)] if day else [today - timedelta(days=2), today - timedelta(days=1)]
    return sum(reconciliation_run(day=d).differences.filter(resolved_at__isnull=True).count() for d in days)


@shared_task(name="payments.jobs.deposit_stripe_fee_book")
def deposit_stripe_fee_book(deposit_id: int) -> int:
    """Books Stripe's card fee of a top-up once; Stripe unreachable: ``stripe_fees_book_due``
    tries again."""
    deposit = Deposit.objects.filter(pk=deposit_id).first()
    if deposit is None:
        return 0
    try:
        return services.deposit_stripe_fee_book(deposit=deposit) or 0
    except StripeUnavailable:
        logger.warning("Stripe unreachable; the fee of deposit %s waits", deposit_id)
        return 0


@shared_task(name="payments.jobs.stripe_fees_book_due")
def stripe_fees_book_due() -> int:
    """Books every card fee still unbooked (a lost job, Stripe unreachable, a balance
    transaction not made yet), each on its own, failures recorded with backoff by the
    runner; booking is idempotent, so a fee is never booked twice. Returns how many were
    looked at."""

    def step(deposit_id: int) -> None:
        deposit = Deposit.objects.get(pk=deposit_id)
        services.deposit_stripe_fee_book(deposit=deposit)

    due = services.deposits_stripe_fee_due()
    run_each("payments.jobs.stripe_fees_book_due", due, step, atomic=False)
    return len(due)


@shared_task(name="payments.jobs.card_funds_release")
def card_funds_release() -> int:
    """Releases the card-bound part of every card top-up whose governed holding period is
    over, so it may go by bank too (bank withdrawals also release their own first)."""
    return card_funds.card_funds_release_due()
