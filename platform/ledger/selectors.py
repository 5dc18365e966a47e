"""Reads of the ledger: balances, and the proof that the totals match the transfers."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, Q, Sum

from accounts.models import Organisation, User
from ledger.models import Account, Transfer


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's figures in minor units, read credit-normal (credits - debits).

    ``posted`` is what the account holds for good; ``pending`` the net of
    reservations still open (negative when the account has promised money);
    ``available`` what can still be reserved or spent: posted minus the pending
    debits. For a requester, ``available`` is the balance left to publish with.
    """

    currency: str
    posted: int
    pending: int
    available: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


def _balance_of(account: Account) -> Balance:
    return Balance(
        currency=account.currency,
        posted=account.credits_posted - account.debits_posted,
        pending=account.credits_pending - account.debits_pending,
        available=account.credits_posted - account.debits_posted - account.debits_pending,
        debits_pending=account.debits_pending,
        debits_posted=account.debits_posted,
        credits_pending=account.credits_pending,
        credits_posted=account.credits_posted,
    )


def balance(account: Account) -> Balance:
    """The account's current figures, read fresh from the database."""
    return _balance_of(Account.objects.get(pk=account.pk))


def organisation_balances(*, organisation: Organisation) -> dict[str, Balance]:
    """The requester's ``available`` and ``escrow`` balances (zero before first use), one query.

    The caller has already checked access (``accounts.selectors.access_organisation``).
    """
    found = {a.kind: a for a in Account.objects.filter(organisation=organisation)}
    empty = Balance(currency="", posted=0, pending=0, available=0, **dict.fromkeys(_TOTALS, 0))
    return {
        "available": _balance_of(found[Account.Kind.ORG_AVAILABLE]) if Account.Kind.ORG_AVAILABLE in found else empty,
        "escrow": _balance_of(found[Account.Kind.ORG_ESCROW]) if Account.Kind.ORG_ESCROW in found else empty,
    }


def worker_balance(*, user: User) -> Balance | None:
    """The worker's own earnings, or None before anything was earned."""
    account = Account.objects.filter(kind=Account.Kind.WORKER_EARNINGS, user=user).first()
    return _balance_of(account) if account else None


_TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


def _sums(queryset: "object", column: str) -> dict[int, int]:
    rows = queryset.values(column).annotate(total=Sum("amount")).values_list(column, "total")  # type: ignore[attr-defined]
    return {account_id: int(total or 0) for account_id, total in rows}


def ledger_check() -> list[str]:
    """Recomputes every account's totals from the transfers and lists each disagreement.

    Also checks that resolutions stay within what was reserved, that currencies
    match, that no account that must not go negative is, and that the ledger
    sums to zero. An empty list means the ledger is consistent.
    """
    problems: list[str] = []
    posted = Transfer.objects.filter(kind__in=[Transfer.Kind.POSTED, Transfer.Kind.POST_PENDING])
    open_pending = Transfer.objects.filter(kind=Transfer.Kind.PENDING, resolution__isnull=True)
    recomputed: dict[str, dict[int, int]] = {
        "debits_posted": _sums(posted, "debit_account_id"),
        "credits_posted": _sums(posted, "credit_account_id"),
        "debits_pending": _sums(open_pending, "debit_account_id"),
        "credits_pending": _sums(open_pending, "credit_account_id"),
    }
    grand: dict[str, int] = defaultdict(int)
    for account in Account.objects.order_by("id"):
        for field in _TOTALS:
            stored = getattr(account, field)
            grand[field] += stored
            expected = recomputed[field].get(account.pk, 0)
            if stored != expected:
                problems.append(f"account {account.pk} ({account}): {field} is {stored}, transfers give {expected}")
        if account.debits_must_not_exceed_credits and (
            account.debits_pending + account.debits_posted > account.credits_posted
        ):
            problems.append(f"account {account.pk} ({account}) is overdrawn")
        if account.credits_must_not_exceed_debits and (
            account.credits_pending + account.credits_posted > account.debits_posted
        ):
            problems.append(f"account {account.pk} ({account}) is overdrawn")
    if grand["debits_posted"] != grand["credits_posted"] or grand["debits_pending"] != grand["credits_pending"]:
        problems.append(f"the ledger does not sum to zero: {dict(grand)}")
    for transfer_id, kind, amount, reserved in Transfer.objects.filter(
        Q(kind=Transfer.Kind.POST_PENDING, amount__gt=F("pending__amount"))
        | Q(kind=Transfer.Kind.VOID_PENDING) & ~Q(amount=F("pending__amount"))
    ).values_list("id", "kind", "amount", "pending__amount"):
        problems.append(f"transfer {transfer_id} ({kind}) moves {amount} of a reservation of {reserved}")
    for transfer_id in Transfer.objects.filter(
        ~Q(currency=F("debit_account__currency")) | ~Q(currency=F("credit_account__currency"))
    ).values_list("id", flat=True):
        problems.append(f"transfer {transfer_id} is not in its accounts' currency")
    return problems
