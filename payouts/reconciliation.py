"""Matches the Stripe balance transactions that worker payouts cause with the ledger,
for the daily reconciliation of ``payments.reconciliation`` (``MATCHER_MODULES``).

A transfer to a worker's connected account (``transfer``, source ``tr_``) agrees
when a payout of ours made it and reserved the same amount; a reversal
(``transfer_refund``, source ``trr_``) agrees when the payout failed and the ledger
gave the money back to the worker (void, or credit after a return).
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.models import Transfer
from payments.models import ReconciliationDifference
from payments.reconciliation import Finding
from payments.stripe_gateway import BalanceTransaction
from payouts.models import Payout

Kind = ReconciliationDifference.Kind


def _match_transfer(row: BalanceTransaction) -> Finding:
    payout = Payout.objects.filter(stripe_transfer_id=row.source).first()
    if payout is None:
        return Finding(Kind.UNKNOWN_TRANSACTION, None, "A transfer to a connected account that no payout of ours made.")
    if not Transfer.objects.filter(pk=payout.ledger_pending_id).exists():
        return Finding(Kind.MISSING_IN_LEDGER, None, f"Payout {payout.pk} was transferred but never reserved.")
    if row.amount != -payout.amount:
        return Finding(Kind.AMOUNT_MISMATCH, -payout.amount, f"Payout {payout.pk} reserved another amount.")
    return Finding(None, -payout.amount)


def _match_reversal(row: BalanceTransaction) -> Finding:
    payout = Payout.objects.filter(stripe_reversal_id=row.source).first()
    if payout is None:
        return Finding(Kind.UNKNOWN_TRANSACTION, None, "A transfer reversal that no failed payout of ours recorded.")
    returned = Transfer.objects.filter(
        pk__in=[f"{payout.ledger_pending_id}:void", f"{payout.ledger_pending_id}:returned"]
    ).exists()
    if payout.state != Payout.State.FAILED or not returned:
        return Finding(Kind.MISSING_IN_LEDGER, None, f"Payout {payout.pk} came back but the ledger still pays it.")
    if row.amount != payout.amount:
        return Finding(Kind.AMOUNT_MISMATCH, payout.amount, f"Payout {payout.pk} came back with another amount.")
    return Finding(None, payout.amount)


STRIPE_BALANCE_MATCHERS: dict[str, Callable[[BalanceTransaction], Finding]] = {
    "transfer": _match_transfer,
    "transfer_refund": _match_reversal,
}


# -- every rail: the ledger against each payout's state (ledger_verify) -----------------------


def payouts_ledger_check() -> list[str]:
    """Each payout's ledger rows agree with its state, on every rail: an open
    reservation while created or submitted; posted (and its fee line) once paid;
    voided or credited back once failed. Empty when all agree. ``ledger_verify``
    runs it (``LEDGER_CHECKS``)."""
    problems: list[str] = []
    payouts = Payout.objects.order_by("id").values_list("id", "rail", "state", "amount", "fee")
    ids = {
        transfer_id: (kind, amount, resolved)
        for transfer_id, kind, amount, resolved in Transfer.objects.filter(id__startswith="payout:").values_list(
            "id", "kind", "amount", "resolution"
        )
    }
    for payout_id, rail, state, amount, fee in payouts.iterator():
        key = f"payout:{payout_id}"
        reserved = ids.get(key)
        if reserved is None or reserved[1] != amount:
            problems.append(f"payout {payout_id} ({rail}, {state}): no reservation of {amount} in the ledger")
            continue
        posted, voided, returned = f"{key}:post" in ids, f"{key}:void" in ids, f"{key}:returned" in ids
        if state in (Payout.State.CREATED, Payout.State.SUBMITTED) and (posted or voided):
            problems.append(f"payout {payout_id} ({rail}) is {state} but its reservation is resolved")
        if state == Payout.State.PAID and not posted:
            problems.append(f"payout {payout_id} ({rail}) is paid but its reservation is not posted")
        if state == Payout.State.PAID and fee and f"{key}:fee" not in ids:
            problems.append(f"payout {payout_id} ({rail}) is paid but its rail fee of {fee} is not booked")
        if state == Payout.State.FAILED and not (voided or returned):
            problems.append(f"payout {payout_id} ({rail}) failed but the money is not back in the balance")
        if state == Payout.State.FAILED and posted and not returned:
            problems.append(f"payout {payout_id} ({rail}) failed after paying but was not credited back")
    return problems


LEDGER_CHECKS = (payouts_ledger_check,)


# -- API rails: the providers' word on payouts still on their way -------------------------------


def provider_payouts_reconcile(*, older_than_minutes: int = 60, limit: int = 500) -> dict[str, int]:
    """Asks Stripe (Global Payouts), PayPal and Wise for the current state of every
    payout submitted to them more than ``older_than_minutes`` ago and applies it, as a
    webhook would: a lost webhook can delay a payout, never lose it. Idempotent.
    Returns how many payouts were looked at per rail; a provider that cannot be
    reached is skipped until the next run."""
    from datetime import timedelta

    from django.utils import timezone

    from core.errors import AppError
    from payments import stripe_gateway
    from payouts import provider_events
    from payouts.models import Rail
    from payouts.rails import paypal_client, wise_client

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    seen: dict[str, int] = {}
    waiting = Payout.objects.filter(
        state=Payout.State.SUBMITTED,
        rail__in=[Rail.STRIPE_GLOBAL, Rail.PAYPAL, Rail.WISE],
        submitted_at__lt=cutoff,
        rail_reference__isnull=False,
    ).order_by("id")[:limit]
    for payout in waiting:
        reference = str(payout.rail_reference)
        try:
            if payout.rail == Rail.STRIPE_GLOBAL:
                provider_events.outbound_payment_apply(
                    payment=stripe_gateway.outbound_payment_retrieve(outbound_payment_id=reference)
                )
            elif payout.rail == Rail.WISE:
                provider_events.wise_transfer_apply(transfer=wise_client.transfer_retrieve(transfer_id=reference))
            elif payout.rail == Rail.PAYPAL:
                for item in paypal_client.payout_batch_items(payout_batch_id=reference):
                    provider_events.paypal_item_apply(item=item)
        except AppError:
            continue
        seen[payout.rail] = seen.get(payout.rail, 0) + 1
    return seen
