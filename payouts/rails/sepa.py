"""SEPA credit transfer: IBANs checked offline with schwifty, paid by a pain.001
file (built with sepaxml) that the treasurer sends from the co-op's bank account."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal
from xml.etree import ElementTree

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer

from core.errors import AppError
from ledger import accounts
from payouts.rails.base import Destination, Quote, Submission, offers_countries, same_currency_quote
from payouts.rails.coverage import country_name, offers_for

if TYPE_CHECKING:
    from ledger.models import Account
    from payouts.models import Payout, PayoutMethod

# The countries of the SEPA scheme whose residents we pay by SEPA credit transfer.
SEPA_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
        "CH",
        "GB",
        "MC",
        "SM",
        "VA",
        "AD",
    ]
)
# Source: the European Payments Council's register of SEPA scheme countries
# (https://www.europeanpaymentscouncil.eu/document-library/other/epc-list-sepa-scheme-countries),
# read 2026-12-06. Paid in euro to any account in the scheme, whatever its local currency.
SEPA_OFFERS = offers_for(
    " ".join(sorted(SEPA_COUNTRIES)), method="bank_account", arrival=gettext_lazy("1-2 business days"), currency="EUR"
)
SCHEMA = "pain.001.001.03"
MAX_NAME = 70  # the scheme's limit for a creditor name


def _invalid(field: str, problem: str, message: str) -> AppError:
    return AppError("invalid_destination", message, fields={field: [problem]})


class SepaRail:
    name = "sepa"
    label = gettext_lazy("SEPA credit transfer")
    submission: Literal["api", "bank_file"] = "bank_file"
    countries = offers_countries(SEPA_OFFERS)
    currencies = frozenset({"EUR"})
    offers = SEPA_OFFERS
    # Paid from the co-op's own bank account through a file: nothing to configure.
    required_settings: tuple[str, ...] = ()
    min_amount = 1
    max_amount = 99_999_999  # pain.001's limit per transaction is far above any payout
    fee_note = gettext_lazy("No fee: the co-op's bank sends SEPA transfers free")

    def configured(self) -> bool:
        return True

    def quote(self, *, amount: int, currency: str, method: "PayoutMethod", key: str) -> Quote:
        return same_currency_quote(amount=amount, currency=currency, fee=0)

    def ledger_account(self) -> "Account":
        return accounts.external_bank()

    def validate_destination(self, *, country: str, details: Mapping[str, Any]) -> Destination:
        raw_iban = str(details.get("iban") or "").strip()
        name = " ".join(str(details.get("account_holder") or "").split())
        if not raw_iban:
            raise _invalid("iban", _("Required."), _("Enter the IBAN of the account to be paid into."))
        try:
            iban = IBAN(raw_iban)
        except SchwiftyException as error:
            raise _invalid(
                "iban",
                _("Not a valid IBAN."),
                _("'%(iban)s' is not a valid IBAN (%(error)s). Copy it from your bank statement and try again.")
                % {"iban": raw_iban, "error": error},
            ) from None
        if iban.country_code not in SEPA_COUNTRIES:
            raise _invalid(
                "iban",
                _("Not a SEPA account."),
                _("The IBAN belongs to a bank in %(country)s, outside the SEPA area; choose another payout service.")
                % {"country": country_name(iban.country_code)},
            )
        if not name:
            raise _invalid("account_holder", _("Required."), _("Enter the account holder's name as the bank knows it."))
        if len(name) > MAX_NAME:
            raise _invalid(
                "account_holder",
                _("At most %(count)d characters.") % {"count": MAX_NAME},
                _("The account holder's name is too long for SEPA."),
            )
        raw_bic = str(details.get("bic") or "").strip()
        bic_code = ""
        if raw_bic:
            try:
                bic_code = BIC(raw_bic).compact
            except SchwiftyException as error:
                raise _invalid(
                    "bic",
                    _("Not a valid BIC."),
                    _("'%(bic)s' is not a valid BIC (%(error)s); leave it empty.") % {"bic": raw_bic, "error": error},
                ) from None
        else:
            derived = iban.bic  # from schwifty's bank registry; not every bank is in it
            bic_code = derived.compact if derived is not None else ""
        compact = iban.compact
        display = f"{compact[:4]} **** {compact[-4:]} ({name})"
        return Destination(data={"iban": compact, "bic": bic_code, "name": name}, display=display[:80])

    def not_ready_reason(self, *, method: "PayoutMethod") -> str:
        return ""

    def submit(self, *, payout: "Payout") -> Submission:
        raise AppError(
            "submitted_by_bank_file",
            _("SEPA payouts are paid through a bank file; the treasurer sends the batch."),
            status=409,
        )


class _CoopSepaTransfer(SepaTransfer):  # type: ignore[misc]
    """sepaxml draws a random MsgId and PmtInfId and stamps the wall clock; ours are
    stored on the batch, so that the same batch always gives the same bytes."""

    def __init__(self, config: dict[str, Any], *, message_id: str, created_at: datetime) -> None:
        super().__init__(config, schema=SCHEMA, clean=True)
        self.msg_id = message_id
        header = self._xml.find("CstmrCdtTrfInitn/GrpHdr")
        header.find("MsgId").text = message_id
        header.find("CreDtTm").text = created_at.strftime("%Y-%m-%dT%H:%M:%S")

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        for number, node in enumerate(self._xml.iter("PmtInfId"), start=1):
            node.text = f"{self.msg_id}-{number}"


def pain001_build(
    *,
    message_id: str,
    created_at: datetime,
    execution_date: date,
    payments: Sequence["Payout"],
) -> bytes:
    """The pain.001.001.03 file paying ``payments`` from the co-op's bank account
    (settings COOP_BANK_NAME / COOP_BANK_IBAN / COOP_BANK_BIC), validated against
    the schema. Each payment's EndToEndId is ``Payout.end_to_end_id``, so the bank's
    report names the payout. Raises ``AppError("sepa_file_invalid")`` if the
    schema refuses it."""
    config: dict[str, Any] = {
        "name": settings.COOP_BANK_NAME,
        "IBAN": IBAN(settings.COOP_BANK_IBAN).compact,
        "BIC": settings.COOP_BANK_BIC,
        "batch": True,
        "currency": "EUR",
    }
    transfer = _CoopSepaTransfer(config, message_id=message_id, created_at=created_at)
    for payout in payments:
        payment: dict[str, Any] = {
            "name": payout.destination["name"],
            "IBAN": payout.destination["iban"],
            "amount": payout.amount,
            "execution_date": execution_date,
            "description": f"Co-op crowdwork payout {payout.pk}",
            "endtoend_id": payout.end_to_end_id,
        }
        if payout.destination.get("bic"):
            payment["BIC"] = payout.destination["bic"]
        transfer.add_payment(payment)
    try:
        return bytes(transfer.export(validate=True))
    except Exception as error:  # sepaxml raises bare Exception/XMLSyntaxError on a schema failure
        raise AppError(
            "sepa_file_invalid",
            _("The SEPA file did not pass the %(SCHEMA)s schema (%(error)s); nothing was sent.")
            % {"SCHEMA": SCHEMA, "error": error},
            status=500,
        ) from error


def pain001_summary(document: bytes) -> dict[str, Any]:
    """The header figures of a pain.001 file (for checks and the treasurer's screen)."""
    namespace = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
    root = ElementTree.fromstring(document)  # noqa: S314 - our own file, built above
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", namespace)
    assert header is not None
    return {
        "message_id": header.findtext("p:MsgId", namespaces=namespace),
        "count": int(header.findtext("p:NbOfTxs", default="0", namespaces=namespace)),
        "total": header.findtext("p:CtrlSum", namespaces=namespace),
    }
