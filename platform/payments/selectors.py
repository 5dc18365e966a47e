"""Reads of deposits, withdrawals and balances, each scoped to who may see them."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.selectors import user_is_treasurer
from core.errors import AppError, NotFound, PermissionDenied
from core.money import platform_currency
from ledger.models import Account
from ledger.selectors import balance as ledger_balance
from ledger.selectors import organisation_balances
from payments.models import Deposit, ReconciliationDifference, Withdrawal


@dataclass(frozen=True, slots=True)
class OrganisationBalance:
    currency: str
    available: int  # can be reserved for new work or withdrawn
    escrowed: int  # reserved for published work, not yet paid out


def organisation_balance(*, organisation: Organisation) -> OrganisationBalance:
    balances = organisation_balances(organisation=organisation)
    escrow = balances["escrow"]
    return OrganisationBalance(
        currency=platform_currency(),
        available=balances["available"].available,
        # Reservations for published work are pending credits of the escrow account.
        escrowed=escrow.posted + escrow.credits_pending,
    )


def deposits_for_organisation(*, organisation: Organisation) -> QuerySet[Deposit]:
    return Deposit.objects.filter(organisation=organisation).order_by("-created_at", "-id")


def access_deposit(*, organisation: Organisation, deposit_id: int) -> Deposit:
    deposit = deposits_for_organisation(organisation=organisation).filter(pk=deposit_id).first()
    if deposit is None:
        raise NotFound("deposit")
    return deposit


def withdrawals_for_organisation(*, organisation: Organisation) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(organisation=organisation).order_by("-created_at", "-id")


def _require_treasurer(user: User) -> None:
    if not user_is_treasurer(user):
        raise PermissionDenied(_("Only the treasurer can do that."))


def treasury_access_deposit(*, user: User, deposit_id: int) -> Deposit:
    """Any deposit, for the treasurer only (403 for everyone else)."""
    _require_treasurer(user)
    deposit = Deposit.objects.select_related("organisation").filter(pk=deposit_id).first()
    if deposit is None:
        raise NotFound("deposit")
    return deposit


def treasury_deposits_awaiting(*, user: User) -> QuerySet[Deposit]:
    _require_treasurer(user)
    return (
        Deposit.objects.select_related("organisation")
        .filter(status=Deposit.Status.AWAITING_TRANSFER)
        .order_by("created_at", "id")
    )


def treasury_withdrawals_awaiting(*, user: User) -> QuerySet[Withdrawal]:
    """Bank withdrawals the treasurer still has to send, oldest first."""
    _require_treasurer(user)
    return (
        Withdrawal.objects.select_related("organisation")
        .filter(method=Withdrawal.Method.BANK, status=Withdrawal.Status.REQUESTED)
        .order_by("created_at", "id")
    )


def treasury_access_withdrawal(*, user: User, withdrawal_id: int) -> Withdrawal:
    _require_treasurer(user)
    withdrawal = Withdrawal.objects.select_related("organisation").filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound("withdrawal")
    return withdrawal


def treasury_open_differences(*, user: User) -> QuerySet[ReconciliationDifference]:
    _require_treasurer(user)
    return ReconciliationDifference.objects.select_related("run").filter(resolved_at__isnull=True).order_by("id")


def treasury_access_difference(*, user: User, difference_id: int) -> ReconciliationDifference:
    _require_treasurer(user)
    difference = ReconciliationDifference.objects.select_related("run").filter(pk=difference_id).first()
    if difference is None:
        raise NotFound("reconciliation difference")
    return difference


def deposit_for_reference(*, organisation_slug: str, reference: str) -> Deposit:
    """The deposit with this reference code of that organisation (the treasurer's shell command)."""
    organisation = Organisation.objects.filter(slug=organisation_slug).first()
    if organisation is None:
        raise AppError(
            "unknown_organisation",
            _("There is no organisation with the slug '%(organisation_slug)s'.")
            % {"organisation_slug": organisation_slug},
            status=404,
        )
    deposit = Deposit.objects.filter(organisation=organisation, reference=reference.strip().upper()).first()
    if deposit is None:
        raise AppError(
            "unknown_reference",
            _("%(organisation_slug)s has no deposit with the reference '%(reference)s'; check the bank statement.")
            % {"organisation_slug": organisation_slug, "reference": reference},
            status=404,
        )
    deposit.organisation = organisation
    return deposit


# The governed rule: how long card-funded balance may leave only as a refund to its card.
CARD_HOLDING_RULE = "card_funds_holding_days"


def card_bound_amount(*, organisation: Organisation) -> int:
    """The part of the available balance that must go back to cards (issue 19 point 9),
    read from the ledger: the organisation's ``org_card_funds`` sub-account (card top-ups
    credited, less what was refunded to cards or released after the governed
    ``card_funds_holding_days``; see ``payments.card_funds``), at most the available
    balance. Spending on work counts against bank money first, so the bound part never
    shrinks by spending while bank money is left: a card top-up can become worker pay or
    go back to its card, never out to an IBAN before the holding period ends."""
    account = Account.objects.filter(
        kind=Account.Kind.ORG_CARD_FUNDS, organisation=organisation, currency=platform_currency()
    ).first()
    if account is None:
        return 0
    bound = ledger_balance(account).available
    available = organisation_balance(organisation=organisation).available
    return max(0, min(available, bound))


def bank_withdrawable_amount(*, organisation: Organisation) -> int:
    """What a bank withdrawal may take: the available balance minus the card-bound part."""
    available = organisation_balance(organisation=organisation).available
    return max(0, available - card_bound_amount(organisation=organisation))
