"""Stripe Global Payouts (Stripe API v2): from the co-op's US or UK Stripe balance to
the worker's own bank account or debit card, in their local currency.

The worker is a v2 Account with the ``recipient`` configuration; Stripe's hosted
form collects the bank account or card, so we keep only the account id and
Stripe's capability states. A payout is quoted by a PayoutIntent with manual
confirmation (its FX quote and estimated fees are what the worker confirms) and
sent by confirming it (idempotency key ``payout:<id>:confirm``); the
OutboundPayment Stripe makes reports the outcome through v2 thin events
(``payouts.stripe_events``), which we answer by fetching the payment's current
state, so duplicated and out-of-order events settle it once.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import AppError
from ledger import accounts
from payments import stripe_gateway
from payouts.rails.base import Destination, Quote, RailRefused, Submission, offers_countries
from payouts.rails.coverage import offers_for

if TYPE_CHECKING:
    from ledger.models import Account
    from payouts.models import Payout, PayoutMethod

# Source: https://docs.stripe.com/global-payouts/send-money/recipient-countries and
# https://docs.stripe.com/global-payouts/payout-methods (sender US/UK), read 2026-12-06;
# Egypt, Argentina and Colombia from the changelog of 2026-03-25. Countries served only
# by wire or in private preview are left out: workers need a local transfer.
# Re-check against the source before adding a country.
STRIPE_GLOBAL_OFFERS = offers_for(
    "US GB CA AU NZ MX BR IN PH ID TH MY SG HK JP EG AR CO CL PE IL CH NO SE DK PL CZ HU RO "
    "DE FR ES IT NL BE AT IE PT FI",
    method="bank_account",
    arrival=gettext_lazy("1-7 business days (varies by country)"),
) + offers_for("US", method="card", arrival=gettext_lazy("within minutes"))


class StripeGlobalRail:
    name = "stripe_global"
    label = gettext_lazy("Stripe Global Payouts (to your local bank or card)")
    submission: Literal["api", "bank_file"] = "api"
    offers = STRIPE_GLOBAL_OFFERS
    countries = offers_countries(STRIPE_GLOBAL_OFFERS)
    currencies = frozenset({"EUR", "USD", "GBP"})
    required_settings: tuple[str, ...] = (
        "STRIPE_SECRET_KEY",
        "STRIPE_GLOBAL_PAYOUTS_FINANCIAL_ACCOUNT",
        "STRIPE_EVENT_DESTINATION_SECRET",
    )
    # Stripe's per-payout limits differ per country; these are the co-op's own bounds.
    min_amount = 100
    max_amount = 1_000_000
    fee_note = gettext_lazy("Stripe's payout and currency-conversion fees, quoted before you confirm")

    def configured(self) -> bool:
        return all(getattr(settings, name, "") for name in self.required_settings)

    def ledger_account(self) -> "Account":
        return accounts.external_stripe()

    def validate_destination(self, *, country: str, details: Mapping[str, Any]) -> Destination:
        account_id = str(details.get("account") or "")
        if not account_id.startswith("acct_"):
            raise AppError(
                "invalid_destination",
                _("Start Stripe's form to add your bank account or card."),
                fields={"account": [_("Not a Stripe account id.")]},
            )
        offer = next((o for o in self.offers if o.country == country.upper()), None)
        if offer is None:
            raise AppError(
                "rail_not_available",
                _("Stripe Global Payouts does not reach %(upper)s.") % {"upper": country.upper()},
                fields={"rail": [_("Not available in your country.")]},
            )
        return Destination(
            data={"account": account_id, "currency": offer.currency},
            display=f"Stripe recipient …{account_id[-6:]} ({offer.currency})",
        )

    def not_ready_reason(self, *, method: "PayoutMethod") -> str:
        from payouts.models import GlobalRecipient

        recipient = GlobalRecipient.objects.filter(stripe_account_id=method.destination.get("account")).first()
        if recipient is None or not recipient.ready:
            return _("Finish Stripe's form (your bank account or card, and your identity) so that Stripe can pay you.")
        return ""

    def quote(self, *, amount: int, currency: str, method: "PayoutMethod", key: str) -> Quote:
        found = stripe_gateway.payout_intent_quote(
            recipient=method.destination["account"],
            amount=amount,
            currency=currency,
            to_currency=method.destination.get("currency") or currency,
            financial_account=settings.STRIPE_GLOBAL_PAYOUTS_FINANCIAL_ACCOUNT,
            source_currency=settings.STRIPE_GLOBAL_PAYOUTS_SOURCE_CURRENCY,
            idempotency_key=key,
            metadata={"quote": key},
        )
        return Quote(
            amount=amount,
            fee=found.fee,
            rate=found.rate,
            destination_amount=found.destination_amount,
            destination_currency=found.destination_currency,
            expires_at=found.expires_at,
            reference=found.payout_intent_id,
        )

    def submit(self, *, payout: "Payout") -> Submission:
        if not payout.quote_reference:
            raise RailRefused("stripe_no_quote", rail_code="no_quote")
        try:
            sent = stripe_gateway.payout_intent_confirm(
                payout_intent_id=payout.quote_reference, idempotency_key=f"payout:{payout.pk}:confirm"
            )
        except stripe_gateway.QuoteExpired as expired:
            raise RailRefused("quote_expired", rail_code="quote_expired") from expired
        except stripe_gateway.StripeRefused as refused:
            raise RailRefused("stripe_refused", detail=refused.message, rail_code=refused.stripe_code) from refused
        references = {"rail_reference": sent.outbound_payment_id} if sent.outbound_payment_id else {}
        return Submission(references=references)
