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
