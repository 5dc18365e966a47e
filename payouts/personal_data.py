"""What payouts and the ledger hold about a person, for export and erasure
(``accounts.personal_data``). Payouts keep the destination they were paid to (the books
must show where money went); the person's saved payout methods lose their details."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.personal_data import Erasure, PersonalDataSection, personal_data_register
from core.money import format_amount
from ledger.models import Account, Transfer
from ledger.selectors import worker_balance
from payouts.models import Payout, PayoutMethod, PayoutSchedule

_IN_FLIGHT = (Payout.State.CREATED, Payout.State.SUBMITTED)


def _export(user: User) -> dict[str, Any]:
    balance = worker_balance(user=user)
    accounts = list(Account.objects.filter(user=user).values_list("pk", flat=True))
    return {
        "balance": None
        if balance is None
        else {"currency": balance.currency, "available": balance.available, "pending": balance.pending},
        "ledger_transfers": list(
            (Transfer.objects.filter(debit_account__in=accounts) | Transfer.objects.filter(credit_account__in=accounts))
            .order_by("created_at", "id")
            .values("id", "kind", "amount", "currency", "code", "memo", "created_at", "debit_account", "credit_account")
        ),
        "payout_methods": list(
            PayoutMethod.objects.filter(user=user).values(
                "rail", "country", "destination", "display", "created_at", "retired_at"
            )
        ),
        "payout_schedule": PayoutSchedule.objects.filter(user=user).values("frequency", "minimum_amount").first(),
        "payouts": list(
            Payout.objects.filter(user=user)
            .order_by("id")
            .values("id", "rail", "display", "amount", "currency", "state", "created_at", "failure_code")
        ),
    }


def _blockers(user: User) -> list[str]:
    reasons = []
    balance = worker_balance(user=user)
    if balance is not None and (balance.available or balance.pending or balance.posted):
        reasons.append(
            _("Your balance is %(amount)s: ask for a payout first, so that you do not lose money you earned.")
            % {"amount": format_amount(balance.posted, balance.currency)}
        )
    if Payout.objects.filter(user=user, state__in=_IN_FLIGHT).exists():
        reasons.append(_("A payout to you is still on its way: wait until it is paid or has failed."))
    return reasons


def _erase(user: User, erasure: Erasure) -> None:
    PayoutMethod.objects.filter(user=user, retired_at__isnull=True).update(retired_at=timezone.now())
    PayoutMethod.objects.filter(user=user).update(destination={}, display=erasure.label)


personal_data_register(PersonalDataSection(name="payouts", export=_export, erase=_erase, blockers=_blockers))
