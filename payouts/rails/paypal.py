"""PayPal Payouts, designed behind the rail interface and not enabled by default.

Destinations (a PayPal email address) are validated and the Payouts API request
body is built here; what is still missing before it can be enabled is the HTTP
client with the co-op's PayPal credentials and the ``PAYMENT.PAYOUTS-ITEM.*``
webhook verification. Until then ``submit`` refuses clearly and the rail is
absent from ``PAYOUT_RAILS_ENABLED``, so no worker can choose it.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import AppError
from core.money import to_major
from ledger import accounts
from payouts.rails.base import Destination, Submission

if TYPE_CHECKING:
    from ledger.models import Account
    from payouts.models import Payout, PayoutMethod

# Where PayPal lets residents receive payouts to a PayPal balance and withdraw to a bank
# (including countries whose workers were paid in gift cards elsewhere).
PAYPAL_COUNTRIES = frozenset(
    ["IN", "KE", "PH", "NG", "BR", "MX", "CO", "PE", "CL", "AR", "ZA", "EG", "MA", "US", "CA", "GB", "AU"]
)


class PaypalRail:
    name = "paypal"
    label = "PayPal Payouts"
    submission: Literal["api", "bank_file"] = "api"
    countries = PAYPAL_COUNTRIES
    currencies = frozenset({"EUR", "USD", "GBP"})

    def ledger_account(self) -> "Account":
        # Money would leave through the co-op's PayPal balance, funded from its bank.
        return accounts.external_bank()

    def validate_destination(self, *, country: str, details: Mapping[str, Any]) -> Destination:
        email = str(details.get("email") or "").strip()
        try:
            validate_email(email)
        except ValidationError:
            raise AppError(
                "invalid_destination",
                "Enter the email address of your PayPal account.",
                fields={"email": ["Not an email address."]},
            ) from None
        user, _, domain = email.partition("@")
        return Destination(data={"email": email.lower()}, display=f"PayPal {user[:2]}…@{domain}")

    def not_ready_reason(self, *, method: "PayoutMethod") -> str:
        return ""

    def submit(self, *, payout: "Payout") -> Submission:
        raise AppError(
            "rail_not_connected",
            "PayPal payouts are not connected on this platform yet; choose another payout method.",
            status=503,
        )


def payout_batch_body(*, batch_id: str, payouts: Sequence["Payout"]) -> dict[str, Any]:
    """The body of ``POST /v1/payments/payouts``. ``sender_batch_id`` is PayPal's
    idempotency key (a repeated id is refused), so it must be deterministic."""
    return {
        "sender_batch_header": {
            "sender_batch_id": batch_id,
            "email_subject": "You have a payout from the crowdwork co-op",
        },
        "items": [
            {
                "recipient_type": "EMAIL",
                "receiver": payout.destination["email"],
                "amount": {"value": f"{to_major(payout.amount, payout.currency)}", "currency": payout.currency},
                "sender_item_id": f"payout:{payout.pk}",
                "note": f"Co-op payout {payout.pk}",
            }
            for payout in payouts
        ],
    }
