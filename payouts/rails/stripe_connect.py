"""Stripe Connect: the worker's Express account receives one transfer per payout
from the platform balance, then pays it out to the worker's bank.

The account uses manual payouts started by us, so each bank payout belongs to
exactly one platform payout (its metadata names it) and its ``payout.paid`` /
``payout.failed`` webhook settles exactly that payout.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import AppError
from ledger import accounts
from payments import stripe_gateway
from payouts.rails.base import Destination, Quote, RailRefused, Submission, offers_countries, same_currency_quote
from payouts.rails.coverage import offers_for

if TYPE_CHECKING:
    from ledger.models import Account
    from payouts.models import Payout, PayoutMethod

# Countries where Stripe offers Express accounts that can receive payouts.
STRIPE_CONNECT_COUNTRIES = frozenset(
    [
        "AU",
        "AT",
        "BE",
        "BG",
        "CA",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GI",
        "GR",
        "HK",
        "HU",
        "IE",
        "IT",
        "JP",
        "LV",
        "LI",
        "LT",
        "LU",
        "MT",
        "MX",
        "NL",
        "NZ",
        "NO",
        "PL",
        "PT",
        "RO",
        "SG",
        "SK",
        "SI",
        "ES",
        "SE",
        "CH",
        "TH",
        "AE",
        "GB",
        "US",
    ]
)


# Source: https://docs.stripe.com/connect/cross-border-payouts ("Availability": platforms in
# the US, UK, EEA, Canada or Switzerland pay connected accounts in those regions), read
# 2026-12-06, limited to the countries above where Express accounts receive payouts.
STRIPE_CONNECT_OFFERS = offers_for(
    " ".join(sorted(STRIPE_CONNECT_COUNTRIES)), method="bank_account", arrival=gettext_lazy("2-5 business days")
)


def transfer_group(payout: "Payout") -> str:
    """Groups the transfer (and any reversal) with its run, or with the payout when asked for."""
    return f"payouts:{payout.run.key}" if payout.run_id and payout.run else f"payouts:request:{payout.pk}"


class StripeConnectRail:
    name = "stripe_connect"
    label = gettext_lazy("Stripe Connect (to your bank)")
    submission: Literal["api", "bank_file"] = "api"
    countries = offers_countries(STRIPE_CONNECT_OFFERS)
    currencies = frozenset({"EUR", "USD", "GBP"})
    offers = STRIPE_CONNECT_OFFERS
    # The Connect webhook secret is needed too in production (README); the key is what the API needs.
    required_settings: tuple[str, ...] = ("STRIPE_SECRET_KEY",)
    min_amount = 100
    max_amount = 10_000_000
    fee_note = gettext_lazy("Stripe's Connect payout fee, paid by the co-op")

    def configured(self) -> bool:
        return all(getattr(settings, name, "") for name in self.required_settings)

    def quote(self, *, amount: int, currency: str, method: "PayoutMethod", key: str) -> Quote:
        # Stripe converts at the payout; the co-op's Connect pricing has no per-payout fee to book.
        return same_currency_quote(amount=amount, currency=currency, fee=0)

    def ledger_account(self) -> "Account":
        return accounts.external_stripe()

    def validate_destination(self, *, country: str, details: Mapping[str, Any]) -> Destination:
        account_id = str(details.get("account") or "")
        if not account_id.startswith("acct_"):
            raise AppError(
                "invalid_destination",
                _("Start the Stripe onboarding to create your payout account."),
                fields={"account": [_("Not a Stripe account id.")]},
            )
        return Destination(data={"account": account_id}, display=f"Stripe account …{account_id[-6:]}")

    def not_ready_reason(self, *, method: "PayoutMethod") -> str:
        from payouts.models import ConnectedAccount

        connected = ConnectedAccount.objects.filter(stripe_account_id=method.destination.get("account")).first()
        if connected is None or not connected.payouts_enabled:
            return _("Finish Stripe's onboarding (bank details and identity) so that Stripe can pay you.")
        return ""

    def transfer(self, *, payout: "Payout") -> stripe_gateway.ConnectTransfer:
        """The payout's one transfer to the connected account: created on the first
        call, Stripe's first answer replayed on every later one (same key, same parameters)."""
        return stripe_gateway.transfer_create(
            amount=payout.amount,
            currency=payout.currency,
            destination=payout.destination["account"],
            transfer_group=transfer_group(payout),
            idempotency_key=f"payout:{payout.pk}:transfer",
            metadata={"payout_id": str(payout.pk)},
        )

    def submit(self, *, payout: "Payout") -> Submission:
        account_id = payout.destination["account"]
        metadata = {"payout_id": str(payout.pk)}
        try:
            transfer = self.transfer(payout=payout)
        except stripe_gateway.StripeRefused as refused:
            raise RailRefused(
                "stripe_transfer_refused", detail=refused.message, rail_code=refused.stripe_code
            ) from refused
        try:
            bank_payout = stripe_gateway.connected_payout_create(
                account_id=account_id,
                amount=payout.amount,
                currency=payout.currency,
                idempotency_key=f"payout:{payout.pk}:bank_payout",
                metadata=metadata,
                description=f"Co-op payout {payout.pk}",
            )
        except stripe_gateway.StripeRefused as refused:
            # The money reached the connected account but cannot go on to the bank:
            # bring it back so that the ledger's void matches the platform balance.
            stripe_gateway.transfer_reverse(
                transfer_id=transfer.id, idempotency_key=f"payout:{payout.pk}:reversal", metadata=metadata
            )
            raise RailRefused(
                "stripe_bank_payout_refused", detail=refused.message, rail_code=refused.stripe_code
            ) from refused
        return Submission(references={"stripe_transfer_id": transfer.id, "stripe_payout_id": bank_payout.id})
