"""The ledger's accounts, found or created on first use, in the platform currency.

Which accounts may go negative (credit-normal: balance = credits - debits):

- requester available, requester escrow, worker earnings, co-op fees and the
  co-op reserve never can; the database refuses it.
- the co-op's juror-fee account is an expense: it is debited when jurors are
  paid and so runs below zero until the co-op covers it from its fee income.
- the external rails (Stripe, bank) are debited when money enters the platform
  and credited when it leaves, so they mirror what the rails hold for us.
"""

from django.db import transaction

from accounts.models import Organisation, User
from core.money import platform_currency
from ledger.models import Account

Kind = Account.Kind

_MUST_NOT_GO_NEGATIVE = {
    Kind.ORG_AVAILABLE,
    Kind.ORG_ESCROW,
    Kind.WORKER_EARNINGS,
    Kind.COOP_FEES,
    Kind.COOP_RESERVE,
    Kind.COOP_DIVIDENDS,
    Kind.ORG_CARD_FUNDS,
}


def _account(kind: str, *, organisation: Organisation | None = None, user: User | None = None) -> Account:
    # get_or_create on the unique constraints: two first uses at once still
    # yield one account (the loser re-reads inside its savepoint).
    with transaction.atomic():
        account, _ = Account.objects.get_or_create(
            kind=kind,
            currency=platform_currency(),
            organisation=organisation,
            user=user,
            defaults={"debits_must_not_exceed_credits": kind in _MUST_NOT_GO_NEGATIVE},
        )
    return account


def org_available(organisation: Organisation) -> Account:
    """Money the requester has deposited and not yet reserved or spent."""
    return _account(Kind.ORG_AVAILABLE, organisation=organisation)


def org_escrow(organisation: Organisation) -> Account:
    """Holds reserved pay between approval and payment to worker and co-op."""
    return _account(Kind.ORG_ESCROW, organisation=organisation)


def worker_earnings(user: User) -> Account:
    """What the co-op owes the worker; paid out by the payouts app."""
    return _account(Kind.WORKER_EARNINGS, user=user)


def worker_earnings_many(user_ids: list[int]) -> dict[int, Account]:
    """Earnings accounts for many workers at once (three queries, whatever the count)."""
    currency = platform_currency()
    wanted = set(user_ids)
    found = {
        a.user_id: a for a in Account.objects.filter(kind=Kind.WORKER_EARNINGS, currency=currency, user_id__in=wanted)
    }
    missing = wanted - set(found)
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    kind=Kind.WORKER_EARNINGS, currency=currency, user_id=user_id, debits_must_not_exceed_credits=True
                )
                for user_id in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        found.update(
            {
                a.user_id: a
                for a in Account.objects.filter(kind=Kind.WORKER_EARNINGS, currency=currency, user_id__in=missing)
            }
        )
    return {user_id: found[user_id] for user_id in wanted}  # type: ignore[misc]


def coop_fees() -> Account:
    """The platform fee income of the co-op."""
    return _account(Kind.COOP_FEES)


def coop_reserve() -> Account:
    return _account(Kind.COOP_RESERVE)


def coop_juror_fees() -> Account:
    """Juror fees paid (an expense account: may run below zero, see the module docstring)."""
    return _account(Kind.COOP_JUROR_FEES)


def external_stripe() -> Account:
    return _account(Kind.EXTERNAL_STRIPE)


def external_bank() -> Account:
    return _account(Kind.EXTERNAL_BANK)


def external_paypal() -> Account:
    """The co-op's PayPal balance: worker payouts leave through it (may go negative)."""
    return _account(Kind.EXTERNAL_PAYPAL)


def coop_payout_fees() -> Account:
    """Payout rail fees the co-op bears (an expense account: may run below zero)."""
    return _account(Kind.COOP_PAYOUT_FEES)


def external_wise() -> Account:
    """The co-op's Wise balance: worker payouts leave through it (may go negative)."""
    return _account(Kind.EXTERNAL_WISE)


def coop_dividends() -> Account:
    """Patronage dividends decided by the members and set aside from the fee income,
    until each member's share is booked to their earnings (never negative)."""
    return _account(Kind.COOP_DIVIDENDS)


def org_card_funds(organisation: Organisation) -> Account:
    """The card-funded part of the organisation's balance (issue 19 point 9): credited when
    a card top-up is, debited when it is refunded to its card or the governed holding
    period releases it. Never negative. What may go to a bank is the available balance
    less this (at most the available balance: spending counts against bank money first)."""
    return _account(Kind.ORG_CARD_FUNDS, organisation=organisation)


def card_funds_contra() -> Account:
    """The other side of every ``org_card_funds`` movement (runs below zero by the total
    bound): card-funded balances are a sub-ledger of the available ones, not new money."""
    return _account(Kind.CARD_FUNDS_CONTRA)
