"""Daily reconciliation: do the rails agree with the ledger's external accounts?

For one UTC day it compares

- every Stripe balance transaction of the day with the ledger transfer our
  records say it caused (a charge with ``deposit:<id>`` and its fee with
  ``deposit:<id>:stripe-fee``, a refund with the post of
  ``withdrawal:<id>``), and every card deposit and refund the ledger booked that
  day with Stripe's list;
- every bank deposit the treasurer confirmed and every bank withdrawal sent that
  day with the ledger transfer booked for it.

Each disagreement becomes a ``ReconciliationDifference`` for the treasurer
(nothing is corrected automatically: a person decides). Running a day again
refreshes its open differences and keeps the resolved ones.

Stripe balance transaction types other than charges and refunds (transfers and
payouts to workers) are matched by other apps: a module listed in
``MATCHER_MODULES`` defines ``STRIPE_BALANCE_MATCHERS: dict[str, Matcher]`` by type.
A type nobody matches is reported as ``unknown_transaction``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import user_is_treasurer
from core.audit import audit_record
from core.errors import AppError, PermissionDenied
from ledger.models import Transfer
from payments import stripe_gateway
from payments.models import (
    CardDispute,
    Deposit,
    ReconciliationDifference,
    ReconciliationRun,
    Withdrawal,
    WithdrawalRefund,
)
from payments.stripe_gateway import BalanceTransaction

Kind = ReconciliationDifference.Kind
Rail = ReconciliationDifference.Rail


@dataclass(frozen=True, slots=True)
class Finding:
    """What a matcher concluded about one rail movement: ``None`` kind means it agrees."""

    kind: str | None
    ledger_amount: int | None
    note: str = ""


Matcher = Callable[[BalanceTransaction], Finding]
MATCHER_MODULES: tuple[str, ...] = ("payouts.reconciliation",)


def _posted_amount(transfer_id: str) -> int | None:
    row = Transfer.objects.filter(pk=transfer_id).values_list("amount", flat=True).first()
    return None if row is None else int(row)


def _match_charge(row: BalanceTransaction) -> Finding:
    deposit = Deposit.objects.filter(stripe_charge_id=row.source, method=Deposit.Method.STRIPE).first()
    if deposit is None:
        return Finding(Kind.UNKNOWN_TRANSACTION, None, "A card payment no deposit of ours started.")
    booked = _posted_amount(deposit.ledger_transfer_id)
    if booked is None:
        return Finding(Kind.MISSING_IN_LEDGER, None, f"Deposit {deposit.reference} was paid but never credited.")
    if booked != row.amount:
        return Finding(Kind.AMOUNT_MISMATCH, booked, f"Deposit {deposit.reference} was credited another amount.")
    # Stripe keeps its card fee out of the charge: the ledger must have booked it too.
    fee_id = f"{deposit.ledger_transfer_id}:stripe-fee"
    fee_booked = (_posted_amount(fee_id) or 0) + (_posted_amount(f"{fee_id}:reserve") or 0)
    if fee_booked != row.fee:
        return Finding(
            Kind.AMOUNT_MISMATCH,
            booked,
            f"Stripe's fee for deposit {deposit.reference} is {row.fee}; the ledger booked {fee_booked}.",
        )
    return Finding(None, booked)


def _match_refund(row: BalanceTransaction) -> Finding:
    part = WithdrawalRefund.objects.select_related("withdrawal").filter(stripe_refund_id=row.source).first()
    if part is None:
        return Finding(Kind.UNKNOWN_TRANSACTION, None, "A refund no withdrawal of ours made.")
    returned = _posted_amount(f"{part.withdrawal.ledger_transfer_id}:refund-failed:{part.deposit_id}")
    if part.status == WithdrawalRefund.Status.FAILED:
        # Stripe lists the refund and its failure; the ledger booked both or neither.
        booked = 0 if returned is None else part.amount
        return Finding(None, -booked if row.type == "refund" else booked)
    if row.type == "refund_failure":
        return Finding(Kind.MISSING_IN_LEDGER, None, f"Refund for withdrawal {part.withdrawal_id} failed at Stripe.")
    if _posted_amount(f"{part.withdrawal.ledger_transfer_id}:post") is None:
        return Finding(
            Kind.MISSING_IN_LEDGER, None, f"Withdrawal {part.withdrawal_id} was refunded but not booked as paid."
        )
    if part.amount != -row.amount:
        return Finding(Kind.AMOUNT_MISMATCH, -part.amount, f"Refund for withdrawal {part.withdrawal_id}.")
    return Finding(None, -part.amount)


def _match_dispute(row: BalanceTransaction) -> Finding:
    """A card dispute's money leaving (negative) or coming back (positive) against the
    ``card-dispute:<id>`` transfers: what the requester and the reserve paid."""
    dispute = CardDispute.objects.filter(stripe_dispute_id=row.source).first()
    if dispute is None:
        return Finding(Kind.UNKNOWN_TRANSACTION, None, "An adjustment no card dispute of ours explains.")
    base = dispute.ledger_transfer_id
    if row.amount < 0:
        booked = -((_posted_amount(f"{base}:requester") or 0) + (_posted_amount(f"{base}:reserve") or 0))
    else:
        booked = (_posted_amount(f"{base}:requester:reinstated") or 0) + (
            _posted_amount(f"{base}:reserve:reinstated") or 0
        )
    if booked != row.amount:
        return Finding(
            Kind.AMOUNT_MISMATCH,
            booked,
            f"Card dispute {dispute.stripe_dispute_id}: Stripe moved {row.amount}, the ledger booked {booked}"
            + (f" ({dispute.uncovered} uncovered)." if dispute.uncovered else "."),
        )
    # Stripe's dispute fee on this transaction (e.g. 15.00 with the money taken back).
    fee_booked = _dispute_fee_booked(dispute, row.id)
    if fee_booked != row.fee:
        uncovered = int((dispute.fee_bookings.get(row.id) or {}).get("uncovered") or 0)
        return Finding(
            Kind.AMOUNT_MISMATCH,
            booked,
            f"Card dispute {dispute.stripe_dispute_id}: Stripe's dispute fee is {row.fee}, the ledger booked "
            f"{fee_booked}" + (f" ({uncovered} uncovered)." if uncovered else "."),
        )
    return Finding(None, booked)


def _dispute_fee_booked(dispute: CardDispute, balance_transaction_id: str) -> int:
    """The fee the ledger booked for one of the dispute's balance transactions, signed as
    Stripe signs it (positive: charged)."""
    base = f"{dispute.ledger_transfer_id}:fee:{balance_transaction_id}"
    moved = (_posted_amount(base) or 0) + (_posted_amount(f"{base}:reserve") or 0)
    booking = dispute.fee_bookings.get(balance_transaction_id)
    if booking is None:
        return 0
    return moved if int(booking["fee"]) > 0 else -moved


MATCHERS: dict[str, Matcher] = {
    "charge": _match_charge,
    "payment": _match_charge,
    "refund": _match_refund,
    "refund_failure": _match_refund,
    "adjustment": _match_dispute,
}


def matchers() -> dict[str, Matcher]:
    table = dict(MATCHERS)
    for module_name in MATCHER_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise
            continue
        table.update(getattr(module, "STRIPE_BALANCE_MATCHERS", {}))
    return table


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def reconciliation_run(*, day: date) -> ReconciliationRun:
    """Reconciles ``day`` (UTC) and returns its run with ``differences``. Safe to repeat.

    Raises ``StripeUnavailable`` when Stripe cannot be listed (the job runs again).
    """
    start, end = _day_bounds(day)
    # Stripe's side over a wider window: a charge made just before midnight is
    # credited just after it, when its webhook arrives.
    stripe_rows = list(
        stripe_gateway.balance_transactions_between(start=start - timedelta(days=1), end=end + timedelta(days=1))
        if stripe_gateway.configured()
        else []
    )
    of_the_day = [row for row in stripe_rows if start <= row.created < end]
    found: dict[tuple[str, str], tuple[str, int | None, int | None, str]] = {}
    table = matchers()
    reported = booked = 0
    for row in of_the_day:
        matcher = table.get(row.type)
        if matcher is None:
            found[(Rail.STRIPE, row.id)] = (Kind.UNKNOWN_TRANSACTION, None, row.amount, f"Unmatched {row.type}.")
            continue
        finding = matcher(row)
        reported += row.amount
        booked += finding.ledger_amount or 0
        if finding.kind is not None:
            found[(Rail.STRIPE, row.id)] = (finding.kind, finding.ledger_amount, row.amount, finding.note)

    seen_sources = {row.source for row in stripe_rows}
    for deposit in Deposit.objects.filter(
        method=Deposit.Method.STRIPE, status=Deposit.Status.SUCCEEDED, credited_at__gte=start, credited_at__lt=end
    ):
        if deposit.stripe_charge_id not in seen_sources:
            found[(Rail.STRIPE, deposit.reference)] = (
                Kind.MISSING_AT_RAIL,
                _posted_amount(deposit.ledger_transfer_id),
                None,
                f"Credited for charge '{deposit.stripe_charge_id}', which Stripe does not list.",
            )
    for part in WithdrawalRefund.objects.filter(
        status=WithdrawalRefund.Status.SUCCEEDED, withdrawal__completed_at__gte=start, withdrawal__completed_at__lt=end
    ):
        if part.stripe_refund_id not in seen_sources:
            found[(Rail.STRIPE, part.stripe_refund_id or f"withdrawal:{part.withdrawal_id}")] = (
                Kind.MISSING_AT_RAIL,
                -part.amount,
                None,
                f"Refund for withdrawal {part.withdrawal_id} that Stripe does not list.",
            )

    bank_confirmed = bank_booked = 0
    for deposit in Deposit.objects.filter(
        method=Deposit.Method.BANK, status=Deposit.Status.CONFIRMED, credited_at__gte=start, credited_at__lt=end
    ):
        posted = _posted_amount(deposit.ledger_transfer_id)
        bank_confirmed += deposit.credited_amount
        bank_booked += posted or 0
        if posted != deposit.credited_amount:
            found[(Rail.BANK, deposit.reference)] = (
                Kind.MISSING_IN_LEDGER if posted is None else Kind.AMOUNT_MISMATCH,
                posted,
                deposit.credited_amount,
                "The treasurer confirmed this transfer; the ledger booked something else.",
            )
    for withdrawal in Withdrawal.objects.filter(
        method=Withdrawal.Method.BANK,
        status=Withdrawal.Status.COMPLETED,
        completed_at__gte=start,
        completed_at__lt=end,
    ):
        posted = _posted_amount(f"{withdrawal.ledger_transfer_id}:post")
        bank_confirmed -= withdrawal.paid_amount
        bank_booked -= posted or 0
        if posted != withdrawal.paid_amount:
            found[(Rail.BANK, f"withdrawal:{withdrawal.pk}")] = (
                Kind.MISSING_IN_LEDGER if posted is None else Kind.AMOUNT_MISMATCH,
                None if posted is None else -posted,
                -withdrawal.paid_amount,
                "The treasurer sent this withdrawal; the ledger booked something else.",
            )

    with transaction.atomic():
        run, _created = ReconciliationRun.objects.select_for_update().get_or_create(day=day)
        run.finished_at = timezone.now()
        run.stripe_transactions = len(of_the_day)
        run.stripe_net_reported = reported
        run.stripe_net_booked = booked
        run.bank_net_confirmed = bank_confirmed
        run.bank_net_booked = bank_booked
        run.save()
        run.differences.filter(resolved_at__isnull=True).exclude(
            reference__in=[reference for _unused, reference in found]
        ).delete()
        for (rail, reference), (kind, ledger_amount, rail_amount, note) in found.items():
            ReconciliationDifference.objects.update_or_create(
                run=run,
                rail=rail,
                reference=reference,
                defaults={"kind": kind, "ledger_amount": ledger_amount, "rail_amount": rail_amount, "note": note[:300]},
            )
    return run


def reconciliation_difference_resolve(
    *, difference: ReconciliationDifference, actor: User, resolution: str
) -> ReconciliationDifference:
    """The treasurer explains a difference (and has corrected it where needed) and closes it.

    Treasurer only; the explanation is required; closing twice is refused with
    ``invalid_state`` (409). The ledger is never touched here: corrections are
    made through the services that move money, so they stay auditable.
    """
    if not user_is_treasurer(actor):
        raise PermissionDenied(_("Only the treasurer can resolve reconciliation differences."))
    if not resolution.strip():
        raise AppError(
            "invalid", _("Say how the difference was resolved."), fields={"resolution": [_("This field is required.")]}
        )
    with transaction.atomic():
        difference = ReconciliationDifference.objects.select_for_update().get(pk=difference.pk)
        if difference.resolved_at is not None:
            raise AppError("invalid_state", _("This difference is already resolved."), status=409)
        difference.resolved_at = timezone.now()
        difference.resolved_by = actor
        difference.resolution = resolution.strip()[:500]
        difference.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        audit_record(
            actor=actor,
            action="reconciliation.difference_resolved",
            target=difference,
            after={"reference": difference.reference, "resolution": difference.resolution},
        )
    return difference
