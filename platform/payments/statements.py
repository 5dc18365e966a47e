"""Receipts and monthly statements of a requester organisation, read from the ledger.

A receipt confirms one deposit that the ledger credited (its transfer ``deposit:<id>``); a
statement sums, for one calendar month (UTC), every ledger movement of the organisation's two
accounts: the available balance and the escrow. Each figure is the sum of ledger transfers, so
opening balance + the month's lines = closing balance, for both accounts, by construction; and
the closing balance of the running month is what the accounts hold now (tested against
``ledger.selectors.balance``). Only reads: nothing here writes.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from core.errors import NotFound
from core.money import platform_currency
from ledger.models import Account, Transfer
from payments.models import Deposit

# A ledger movement on the organisation's accounts, named for people (statement line keys).
LINE_LABELS = {
    "deposits": _("Deposits"),
    "escrow_reserved": _("Reserved in escrow for published work"),
    "escrow_returned": _("Returned from escrow (rejections upheld, slots expired or cancelled, partial outcomes)"),
    "rewards": _("Rewards paid to workers"),
    "coop_fees": _("Co-op fees"),
    "bonuses": _("Bonuses and fair-pay top-ups paid to workers"),
    "card_fees": _("Card processing fees"),
    "card_refunds": _("Refunds to cards"),
    "bank_withdrawals": _("Withdrawals by bank transfer"),
    "card_disputes": _("Card disputes"),
    "other": _("Other movements"),
}
_CODE_LINES = {
    "deposit_stripe": "deposits",
    "deposit_bank": "deposits",
    "escrow_reward": "rewards",
    "escrow_fee": "coop_fees",
    "bonus": "bonuses",
    "stripe_fee": "card_fees",
    "withdrawal_stripe_refund": "card_refunds",
    "withdrawal_refund_failed": "card_refunds",
    "withdrawal_bank": "bank_withdrawals",
    "card_dispute": "card_disputes",
    "card_dispute_won": "card_disputes",
}
RECEIPT_STATUSES = (Deposit.Status.SUCCEEDED, Deposit.Status.CONFIRMED)


@dataclass(frozen=True)
class AccountStatement:
    opening: int
    closing: int
    lines: dict[str, int]  # line key -> signed sum for the month, in minor units


@dataclass(frozen=True)
class Statement:
    organisation: Organisation
    month: date  # the first day
    start: datetime
    end: datetime
    currency: str
    available: AccountStatement
    escrow: AccountStatement
    deposits: list[Deposit] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        """The five figures a requester's books need, each a positive amount."""
        a, e = self.available.lines, self.escrow.lines
        return {
            "deposits": a.get("deposits", 0),
            "escrow_reserved": -a.get("escrow_reserved", 0),
            "escrow_returned": a.get("escrow_returned", 0),
            "escrow_held_at_close": self.escrow.closing,
            "payments_to_workers": -(e.get("rewards", 0) + a.get("bonuses", 0)),
            "fees": -(e.get("coop_fees", 0) + a.get("card_fees", 0)),
            "refunds_and_withdrawals": -(a.get("card_refunds", 0) + a.get("bank_withdrawals", 0)),
        }


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    days = calendar.monthrange(month.year, month.month)[1]
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=UTC)
    assert (end - start).days == days
    return start, end


def _effects(account: Account | None, rows: list[dict[str, Any]], *, holds_pending_credits: bool) -> dict[str, int]:
    """Each group of transfers' effect on the account's figure, by line.

    The figure of the available balance is credits posted - debits posted - debits pending
    (what can still be spent); of the escrow it is credits posted - debits posted + credits
    pending (what it holds). A posting resolves a pending transfer for ``amount`` of its
    ``pending_amount``; the rest returns, which a void does in full."""
    lines: dict[str, int] = defaultdict(int)
    if account is None:
        return lines
    for row in rows:
        kind, code = row["kind"], str(row["code"])
        amount, pending_amount = int(row["amount"] or 0), int(row["pending_amount"] or 0)
        is_debit = row["debit_account"] == account.pk
        line = _CODE_LINES.get(code, "other")
        if code == "escrow_reserve":
            line = "escrow_reserved"
        if kind == Transfer.Kind.POSTED:
            effect = -amount if is_debit else amount
        elif kind == Transfer.Kind.PENDING:
            effect = -amount if is_debit else (amount if holds_pending_credits else 0)
        elif kind == Transfer.Kind.POST_PENDING:
            # The debited account gets back the part not posted; the credited one posts ``amount``.
            effect = pending_amount - amount if is_debit else amount - (pending_amount if holds_pending_credits else 0)
            if code == "escrow_reserve":
                line = "escrow_returned"
        else:  # void_pending
            effect = pending_amount if is_debit else (-pending_amount if holds_pending_credits else 0)
            if code == "escrow_reserve":
                line = "escrow_returned"
        if effect:
            lines[line] += effect
    return lines


def _grouped(account: Account | None, period: Q) -> list[dict[str, Any]]:
    if account is None:
        return []
    return list(
        Transfer.objects.filter(period, Q(debit_account=account) | Q(credit_account=account))
        .values("kind", "code", "debit_account")
        .annotate(amount=Sum("amount"), pending_amount=Sum("pending__amount"))
        .order_by()
    )


def _account_statement(account: Account | None, start: datetime, end: datetime, *, escrow: bool) -> AccountStatement:
    before = _effects(account, _grouped(account, Q(created_at__lt=start)), holds_pending_credits=escrow)
    during = _effects(
        account, _grouped(account, Q(created_at__gte=start, created_at__lt=end)), holds_pending_credits=escrow
    )
    opening = sum(before.values())
    lines = {key: during[key] for key in LINE_LABELS if during.get(key)}
    return AccountStatement(opening=opening, closing=opening + sum(lines.values()), lines=lines)


def organisation_statement(*, organisation: Organisation, month: date) -> Statement:
    """The statement of ``organisation`` for the calendar month of ``month`` (UTC), from the
    ledger. ``organisation`` must come from ``accounts.selectors.access_organisation``."""
    start, end = month_bounds(month)
    currency = platform_currency()
    owned = {account.kind: account for account in Account.objects.filter(organisation=organisation, currency=currency)}
    return Statement(
        organisation=organisation,
        month=date(month.year, month.month, 1),
        start=start,
        end=end,
        currency=currency,
        available=_account_statement(owned.get(Account.Kind.ORG_AVAILABLE), start, end, escrow=False),
        escrow=_account_statement(owned.get(Account.Kind.ORG_ESCROW), start, end, escrow=True),
        deposits=list(
            Deposit.objects.filter(
                organisation=organisation,
                status__in=RECEIPT_STATUSES,
                credited_at__gte=start,
                credited_at__lt=end,
            ).order_by("credited_at", "id")
        ),
    )


def statement_months(*, organisation: Organisation) -> list[date]:
    """The months with any ledger movement of the organisation, newest first."""
    accounts = Account.objects.filter(organisation=organisation)
    first = (
        Transfer.objects.filter(Q(debit_account__in=accounts) | Q(credit_account__in=accounts))
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if first is None:
        return []
    today = datetime.now(UTC).date()
    months, cursor = [], date(first.year, first.month, 1)
    while cursor <= today:
        months.append(cursor)
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    return months[::-1]


@dataclass(frozen=True)
class Receipt:
    deposit: Deposit
    number: str
    amount: int  # what the ledger credited
    currency: str
    credited_at: datetime
    transfer_id: str


def deposit_receipt(*, organisation: Organisation, deposit_id: int) -> Receipt:
    """The receipt of a deposit the ledger credited to ``organisation``; any other is
    ``NotFound``. The amount is the ledger transfer's, not the request's."""
    deposit = Deposit.objects.filter(
        pk=deposit_id, organisation=organisation, status__in=RECEIPT_STATUSES, credited_at__isnull=False
    ).first()
    if deposit is None:
        raise NotFound("receipt")
    credited = Transfer.objects.filter(pk=deposit.ledger_transfer_id).first()
    if credited is None or credited.credit_account.organisation_id != organisation.pk:
        raise NotFound("receipt")
    assert deposit.credited_at is not None
    return Receipt(
        deposit=deposit,
        number=f"R-{deposit.reference}",
        amount=credited.amount,
        currency=credited.currency,
        credited_at=deposit.credited_at,
        transfer_id=credited.pk,
    )
