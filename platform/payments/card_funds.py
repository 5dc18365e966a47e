"""Card money goes back to cards (issue 19 point 9), kept in the ledger.

Each organisation has a ledger sub-account ``org_card_funds`` beside its available balance:
the card-funded part, which only a refund to the card that paid may take out until the
governed ``card_funds_holding_days`` have passed. Its movements, all in the ledger and each
named after its deposit (so the part still bound of each deposit is a sum of its rows):

- ``deposit:<id>:card-funds`` - a card top-up is credited: its amount becomes bound;
- ``deposit:<id>:card-funds:refund:<withdrawal>`` - a refund to that card takes it out;
- ``deposit:<id>:card-funds:refund:<withdrawal>:failed`` - the refund failed: bound again;
- ``deposit:<id>:card-funds:released:<n>`` - the holding period is over: what is left of
  that deposit may go by bank too (``card_funds_release_due``, run by the periodic job
  ``payments.jobs.card_funds_release`` and before every bank withdrawal).

The other side of each is the co-op's ``card_funds_contra`` account. What a bank transfer
may take is the available balance less the card-bound part, which is the sub-account's
balance at most the available balance: spending on work counts against bank money first,
and money that comes back from escrow (a cancelled batch) is still bound.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Organisation
from core.rules import rule_value
from ledger import accounts as ledger_accounts
from ledger import services as ledger
from ledger.models import Transfer
from payments.models import Deposit

CARD_HOLDING_RULE = "card_funds_holding_days"


def _prefix(deposit_id: int) -> str:
    return f"deposit:{deposit_id}:card-funds"


def deposit_card_bound(*, deposit: Deposit) -> int:
    """What of ``deposit`` the ledger still holds bound to its card."""
    account = ledger_accounts.org_card_funds(deposit.organisation)
    rows = Transfer.objects.filter(
        Q(pk=_prefix(deposit.pk)) | Q(pk__startswith=_prefix(deposit.pk) + ":"),
        kind=Transfer.Kind.POSTED,
    )
    credited = rows.filter(credit_account=account).aggregate(total=Sum("amount"))["total"] or 0
    debited = rows.filter(debit_account=account).aggregate(total=Sum("amount"))["total"] or 0
    return int(credited - debited)


def _expired(deposit: Deposit, now: datetime) -> bool:
    days = rule_value(CARD_HOLDING_RULE, at=now)
    return deposit.credited_at is not None and deposit.credited_at <= now - timedelta(days=days)


def card_funds_bind(*, deposit: Deposit, amount: int, transfer_id: str = "") -> None:
    """``amount`` of ``deposit`` becomes card-bound (a top-up credited, a refund that failed).
    Nothing once the deposit's holding period is over. Idempotent by transfer id. The
    caller holds the deposit's lock."""
    if amount <= 0 or _expired(deposit, timezone.now()):
        return
    ledger.transfer(
        transfer_id=transfer_id or _prefix(deposit.pk),
        debit=ledger_accounts.card_funds_contra(),
        credit=ledger_accounts.org_card_funds(deposit.organisation),
        amount=amount,
        code="card_funds_bound",
        memo=f"Card top-up {deposit.reference}: refundable to its card only",
    )


def card_funds_refund(*, deposit: Deposit, amount: int, withdrawal_id: int) -> int:
    """A refund to the card takes up to ``amount`` of what the deposit still has bound;
    returns what it took. The caller holds the deposit's lock."""
    return _unbind(deposit=deposit, amount=amount, suffix=f"refund:{withdrawal_id}", code="card_funds_refunded")


def card_funds_disputed(*, deposit: Deposit, amount: int, dispute_id: int) -> int:
    """The card's bank took ``amount`` back (a dispute): it is no longer there to refund."""
    return _unbind(deposit=deposit, amount=amount, suffix=f"dispute:{dispute_id}", code="card_funds_disputed")


def card_funds_dispute_won(*, deposit: Deposit, dispute_id: int) -> None:
    """A won dispute gives the money back: what the dispute took is bound again."""
    taken = (
        Transfer.objects.filter(pk=f"{_prefix(deposit.pk)}:dispute:{dispute_id}")
        .values_list("amount", flat=True)
        .first()
    )
    if taken:
        card_funds_bind(
            deposit=deposit, amount=int(taken), transfer_id=f"{_prefix(deposit.pk)}:dispute:{dispute_id}:won"
        )


def _unbind(*, deposit: Deposit, amount: int, suffix: str, code: str) -> int:
    take = min(amount, deposit_card_bound(deposit=deposit))
    if take > 0:
        ledger.transfer(
            transfer_id=f"{_prefix(deposit.pk)}:{suffix}",
            debit=ledger_accounts.org_card_funds(deposit.organisation),
            credit=ledger_accounts.card_funds_contra(),
            amount=take,
            code=code,
            memo=f"Card top-up {deposit.reference}: {suffix}",
        )
    return take


def card_funds_refund_failed(*, deposit: Deposit, withdrawal_id: int) -> None:
    """The refund failed: what it took is bound again (unless the period is over)."""
    taken = (
        Transfer.objects.filter(pk=f"{_prefix(deposit.pk)}:refund:{withdrawal_id}")
        .values_list("amount", flat=True)
        .first()
    )
    if taken:
        card_funds_bind(
            deposit=deposit, amount=int(taken), transfer_id=f"{_prefix(deposit.pk)}:refund:{withdrawal_id}:failed"
        )


def card_funds_release_due(*, organisation: Organisation | None = None, now: datetime | None = None) -> int:
    """Releases what is still bound of every card deposit whose holding period is over
    (of one organisation, or all); returns how much. Each release locks its deposit and
    is written once per amount found (a later re-binding is released again)."""
    moment = now or timezone.now()
    days = rule_value(CARD_HOLDING_RULE, at=moment)
    due = Deposit.objects.filter(
        method=Deposit.Method.STRIPE,
        status=Deposit.Status.SUCCEEDED,
        credited_at__lte=moment - timedelta(days=days),
    )
    if organisation is not None:
        due = due.filter(organisation=organisation)
    released = 0
    for deposit_id in due.order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            deposit = Deposit.objects.select_for_update().select_related("organisation").get(pk=deposit_id)
            bound = deposit_card_bound(deposit=deposit)
            if bound <= 0:
                continue
            count = Transfer.objects.filter(pk__startswith=f"{_prefix(deposit.pk)}:released:").count()
            ledger.transfer(
                transfer_id=f"{_prefix(deposit.pk)}:released:{count + 1}",
                debit=ledger_accounts.org_card_funds(deposit.organisation),
                credit=ledger_accounts.card_funds_contra(),
                amount=bound,
                code="card_funds_released",
                memo=f"Card top-up {deposit.reference}: holding period over",
            )
            released += bound
    return released
