"""Wise (Wise Platform API): local bank transfers in Pakistan, Bangladesh, Nigeria and
Kenya, the focus countries that neither Stripe Global Payouts nor PayPal reach with a
local bank account.

The worker's bank details are checked offline, sent once to Wise as a recipient
(``POST /v1/accounts``), and only Wise's recipient id and a masked hint are kept.
A payout is priced by a Wise quote (rate, fee, target amount, rate lock expiry),
sent as a transfer whose ``customerTransactionId`` is derived from the payout id
(Wise makes one transfer per id, so a retry after a lost answer pays once), and
funded from the co-op's Wise balance. Wise's signed ``transfers#state-change``
webhooks are answered by fetching the transfer's current state.
"""

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, InvalidLength, SchwiftyException

from core.errors import AppError
from core.money import format_amount
from ledger import accounts
from payouts.rails import wise_client
from payouts.rails.base import Destination, Quote, RailRefused, Submission, offers_countries
from payouts.rails.coverage import offers_for

if TYPE_CHECKING:
    from ledger.models import Account
    from payouts.models import Payout, PayoutMethod

# Source: https://wise.com/help/articles/2571942 ("What currencies can I send to?") and the
# recipient requirements of https://docs.wise.com/api-reference/recipient, read 2026-12-06.
WISE_OFFERS = offers_for("PK BD NG KE", method="bank_account", arrival=gettext_lazy("same day to 2 business days"))
# Wise's recipient type and the fields each needs, per country.
ACCOUNT_TYPES = {"PK": "pakistan", "BD": "bangladesh", "NG": "nigeria", "KE": "kenya_local"}
FIELDS = {
    "PK": ("iban",),
    "BD": ("bank_code", "branch_code", "account_number"),
    "NG": ("bank_code", "account_number"),
    "KE": ("bank_code", "account_number"),
}
WIRE_NAMES = {
    "iban": "iban",
    "bank_code": "bankCode",
    "branch_code": "branchCode",
    "account_number": "accountNumber",
}
# Every Nigerian bank account number (NUBAN) has ten digits.
NUBAN_DIGITS = 10
# Wise quotes asked at most for one price (see ``WiseRail.quote``). The fee of a re-quote
# moves by the percentage times the last move, so a fee of up to 2% settles to the cent
# on any payout the rail takes within six (usually three: learn, re-quote, confirm).
QUOTE_ATTEMPTS = 6
# The co-op's namespace for transfer ids: uuid5(namespace, "payout:<id>").
TRANSFER_NAMESPACE = uuid.UUID("6f1c5a0e-2b7d-4e0c-9a53-7f0d2c1e9b44")


def customer_transaction_id(payout: "Payout") -> str:
    return str(uuid.uuid5(TRANSFER_NAMESPACE, f"payout:{payout.pk}"))


def transfer_reference(payout: "Payout") -> str:
    return f"COOP PAYOUT {payout.pk}"


def _invalid(field: str, message: str) -> AppError:
    """A refusal shown next to ``field``: one whole sentence saying what to fix."""
    return AppError("invalid_destination", message, fields={field: [message]})


def _missing(name: str) -> str:
    return {
        "iban": _("Enter the IBAN of your bank account."),
        "bank_code": _("Enter the code of your bank."),
        "branch_code": _("Enter the code of your branch."),
        "account_number": _("Enter your account number."),
    }[name]


def _odd_characters(name: str) -> str:
    return {
        "bank_code": _("A bank code has only letters and digits; check it and enter it again."),
        "branch_code": _("A branch code has only letters and digits; check it and enter it again."),
        "account_number": _("An account number has only letters and digits; check it and enter it again."),
    }[name]


def _iban_problem(raw: str, error: SchwiftyException) -> str:
    if isinstance(error, InvalidLength):
        return _(
            "This IBAN has %(count)s characters, which is not the length of an IBAN; "
            "copy it again from your bank statement or banking app."
        ) % {"count": len(raw)}
    if isinstance(error, InvalidChecksumDigits):
        return _(
            "This IBAN has a mistake in it (its check digits do not match); "
            "copy it again from your bank statement or banking app."
        )
    return _("This is not an IBAN; copy it again from your bank statement or banking app.")


class WiseRail:
    name = "wise"
    label = gettext_lazy("Wise (to your local bank account)")
    submission: Literal["api", "bank_file"] = "api"
    offers = WISE_OFFERS
    countries = offers_countries(WISE_OFFERS)
    currencies = frozenset({"EUR", "USD", "GBP"})
    required_settings: tuple[str, ...] = ("WISE_API_TOKEN", "WISE_PROFILE_ID", "WISE_WEBHOOK_PUBLIC_KEY")
    min_amount = 100
    max_amount = 1_000_000
    fee_note = gettext_lazy("Wise's transfer fee, quoted before you confirm")

    def configured(self) -> bool:
        return wise_client.configured()

    def ledger_account(self) -> "Account":
        return accounts.external_wise()

    def validate_destination(self, *, country: str, details: Mapping[str, Any]) -> Destination:
        country = country.upper()
        if country not in FIELDS:
            raise AppError(
                "rail_not_available", _("Wise does not pay bank accounts in %(country)s here.") % {"country": country}
            )
        holder = " ".join(str(details.get("account_holder") or "").split())
        if not holder:
            raise _invalid("account_holder", _("Enter the account holder's name as the bank knows it."))
        values: dict[str, str] = {}
        for name in FIELDS[country]:
            raw = re.sub(r"\s+", "", str(details.get(name) or ""))
            if not raw:
                raise _invalid(name, _missing(name))
            if name == "iban":
                try:
                    raw = IBAN(raw).compact
                except SchwiftyException as error:
                    raise _invalid("iban", _iban_problem(raw, error)) from None
                if not raw.startswith(country):
                    raise _invalid(
                        "iban",
                        _("This IBAN is of a bank outside %(country)s; enter your account in %(country)s.")
                        % {"country": country},
                    )
            elif not raw.isalnum():
                raise _invalid(name, _odd_characters(name))
            elif name == "account_number" and country == "NG" and not (raw.isdigit() and len(raw) == NUBAN_DIGITS):
                raise _invalid(
                    name,
                    _("An account number in Nigeria (NUBAN) has 10 digits; this one has %(count)s characters.")
                    % {"count": len(raw)},
                )
            values[name] = raw
        shown = values.get("iban") or values["account_number"]
        currency = next(o.currency for o in self.offers if o.country == country)
        return Destination(
            data={"country": country, "currency": currency, "account_holder": holder, **values},
            display=f"{country} bank …{shown[-4:]} ({holder})"[:80],
        )

    def register_destination(self, *, destination: Destination) -> Destination:
        """Sends the account to Wise once and keeps only Wise's recipient id and the hint."""
        data = destination.data
        recipient = wise_client.recipient_create(
            currency=data["currency"],
            account_holder=data["account_holder"],
            account_type=ACCOUNT_TYPES[data["country"]],
            details={WIRE_NAMES[name]: data[name] for name in FIELDS[data["country"]]},
        )
        return Destination(
            data={"recipient": recipient, "currency": data["currency"], "country": data["country"]},
            display=destination.display,
        )

    def not_ready_reason(self, *, method: "PayoutMethod") -> str:
        if not method.destination.get("recipient"):
            return _("Enter your bank account again: Wise does not know it yet.")
        return ""

    def quote(self, *, amount: int, currency: str, method: "PayoutMethod", key: str) -> Quote:
        """A Wise quote whose ``sourceAmount`` is ``amount`` plus Wise's fee, so the
        worker's ``amount`` is converted whole and the fee is on top, as on every rail.

        Wise takes its fee out of the source amount, so the fee of ``amount`` is learnt
        first and ``amount + fee`` quoted again, until the fee stops moving (a
        percentage fee grows a little with the sum). Should it not settle within
        ``QUOTE_ATTEMPTS``, the last quote is taken as Wise split it (``amount`` =
        source - fee, a little less than asked), which is always what Wise debits and
        converts. Either way ``amount + fee`` is exactly what leaves the co-op's Wise
        balance and ``destination_amount`` is Wise's own figure for what arrives."""
        fee = 0
        for _attempt in range(QUOTE_ATTEMPTS):
            found = wise_client.quote_create(
                source_currency=currency,
                target_currency=method.destination["currency"],
                amount=amount + fee,
                recipient=method.destination["recipient"],
            )
            if found.fee == fee:
                break
            fee = found.fee
        sent = found.source_amount - found.fee
        if sent <= 0:
            raise AppError(
                "amount_below_rail_minimum",
                _("The fee of %(amount)s is more than the payout; ask for more.")
                % {"amount": format_amount(found.fee, currency)},
                status=409,
            )
        expires = datetime.fromisoformat(found.expires_at.replace("Z", "+00:00")) if found.expires_at else None
        return Quote(
            amount=sent,
            fee=found.fee,
            rate=found.rate,
            destination_amount=found.target_amount,
            destination_currency=found.target_currency,
            expires_at=expires,
            reference=found.id,
        )

    def submit(self, *, payout: "Payout") -> Submission:
        if not payout.quote_reference:
            raise RailRefused("wise_no_quote", rail_code="no_quote")
        try:
            transfer = wise_client.transfer_create(
                recipient=payout.destination["recipient"],
                quote_id=payout.quote_reference,
                customer_transaction_id=customer_transaction_id(payout),
                reference=transfer_reference(payout),
            )
            wise_client.transfer_fund(transfer_id=transfer.id)
        except wise_client.WiseRefused as refused:
            code = "quote_expired" if "expired" in refused.reason.lower() else refused.wise_code
            raise RailRefused("wise_refused", detail=refused.reason, rail_code=code) from refused
        return Submission(references={"rail_reference": transfer.id})
