"""PayPal Payouts: the worker's PayPal wallet, for countries no bank rail reaches.

One payout is one batch of one item (``POST /v1/payments/payouts``), its
``sender_batch_id`` derived from the payout id (``coop-payout-<id>``): PayPal
refuses to pay a ``sender_batch_id`` twice, and the same id as
``PayPal-Request-Id`` replays the first answer after a lost response. PayPal's
``PAYMENT.PAYOUTS-ITEM.*`` webhooks are verified through PayPal's own
verify-webhook-signature endpoint, stored once by event id, and answered by
fetching the item's current status, so duplicates and any order settle a payout once.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import AppError
from core.money import basis_points, format_amount, major_text, platform_currency
from ledger import accounts
from payouts.rails import paypal_client
from payouts.rails.base import Destination, Quote, RailRefused, Submission, offers_countries, same_currency_quote
from payouts.rails.coverage import offers_for

if TYPE_CHECKING:
    from ledger.models import Account
    from payouts.models import Payout, PayoutMethod

# Source: https://developer.paypal.com/docs/payouts/standard/reference/countries-supported-features/
# ("Countries and supported features", last updated 2026-06-30), read 2026-12-06: countries
# whose PayPal account holders can receive and withdraw payouts. The money lands in the
# worker's PayPal wallet in the platform currency; PayPal converts it when they withdraw
# to a local bank (or to M-Pesa in Kenya). Pakistan and Bangladesh are not on the list.
PAYPAL_OFFERS = offers_for(
    "US CA GB DE FR ES IT NL BE AT IE PT FI AU MX BR AR CL CO PE VE IN PH ID MY TH SG HK JP "
    "KE NG EG MA ZA UA RS PL CZ HU RO SE DK NO CH IL",
    method="wallet",
    arrival=gettext_lazy("within minutes to your PayPal balance"),
    currency="*",
)
# Source: https://www.paypal.com/us/business/paypal-business-fees (Payouts), read 2026-12-06:
# the sender pays 2% of each international payout, capped (here in platform minor units).
PAYPAL_FEE_BPS = 200
PAYPAL_FEE_CAP = 2000
PAYPAL_DOMESTIC_FEE = 25


class PaypalRail:
    name = "paypal"
    label = gettext_lazy("PayPal Payouts (to your PayPal wallet)")
    submission: Literal["api", "bank_file"] = "api"
    offers = PAYPAL_OFFERS
    countries = offers_countries(PAYPAL_OFFERS)
    currencies = frozenset({"EUR", "USD", "GBP"})
    required_settings: tuple[str, ...] = ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID")
    min_amount = 100
    # PayPal's default per-item limit is USD 20,000; the co-op keeps well below it.
    max_amount = 1_000_000

    @property
    def fee_note(self) -> str:
        """Written when read: the cap in the platform's currency and the reader's number format."""
        return _("PayPal's 2%% payout fee (at most %(cap)s), shown before you confirm") % {
            "cap": format_amount(PAYPAL_FEE_CAP, platform_currency())
        }

    def configured(self) -> bool:
        return paypal_client.configured()

    def ledger_account(self) -> "Account":
        # Money leaves through the co-op's PayPal balance.
        return accounts.external_paypal()

    def validate_destination(self, *, country: str, details: Mapping[str, Any]) -> Destination:
        email = str(details.get("email") or "").strip()
        try:
            validate_email(email)
        except ValidationError:
            raise AppError(
                "invalid_destination",
                _("Enter the email address of your PayPal account."),
                fields={"email": [_("Not an email address.")]},
            ) from None
        user, _unused, domain = email.partition("@")
        return Destination(data={"email": email.lower()}, display=f"PayPal {user[:2]}…@{domain}")

    def not_ready_reason(self, *, method: "PayoutMethod") -> str:
        return ""

    def quote(self, *, amount: int, currency: str, method: "PayoutMethod", key: str) -> Quote:
        fee = (
            PAYPAL_DOMESTIC_FEE
            if method.country == "US" and currency == "USD"
            else min(basis_points(amount, PAYPAL_FEE_BPS), PAYPAL_FEE_CAP)
        )
        return same_currency_quote(amount=amount, currency=currency, fee=fee)

    def submit(self, *, payout: "Payout") -> Submission:
        try:
            batch = paypal_client.payout_batch_create(body=payout_batch_body(payouts=[payout]))
        except paypal_client.PaypalRefused as refused:
            raise RailRefused("paypal_refused", detail=refused.reason, rail_code=refused.name) from refused
        return Submission(references={"rail_reference": batch.payout_batch_id})


def sender_batch_id(payout: "Payout") -> str:
    return f"coop-payout-{payout.pk}"


def payout_batch_body(*, payouts: Sequence["Payout"]) -> dict[str, Any]:
    """The body of ``POST /v1/payments/payouts``: one item per payout, each named
    ``payout:<id>`` (``sender_item_id``), so a webhook names our payout."""
    return {
        "sender_batch_header": {
            "sender_batch_id": sender_batch_id(payouts[0]),
            "email_subject": "You have a payout from the crowdwork co-op",
            "recipient_type": "EMAIL",
        },
        "items": [
            {
                "recipient_type": "EMAIL",
                "receiver": payout.destination["email"],
                "amount": {"value": major_text(payout.amount, payout.currency), "currency": payout.currency},
                "sender_item_id": f"payout:{payout.pk}",
                "note": f"Co-op payout {payout.pk}",
            }
            for payout in payouts
        ],
    }
