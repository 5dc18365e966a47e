"""What every payout rail provides, so the rest of the app never asks which rail it is.

A rail validates a destination offline, says whether a method is ready to be
paid, names the ledger account money leaves through, and either submits a
payout through an API (``submission == "api"``) or is paid by a file the
treasurer sends to the bank (``"bank_file"``). Confirmations come back as
verified webhooks (``payouts.stripe_events``) or as the treasurer's marks on a
bank file (``payouts.services.sepa_payment_mark_paid`` / ``..._failed``).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from django.utils.translation import gettext_lazy

from core.errors import AppError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from ledger.models import Account
    from payouts.models import Payout, PayoutMethod


@dataclass(frozen=True, slots=True)
class Destination:
    """A validated, normalised destination and a masked form safe to display."""

    data: dict[str, str]
    display: str


@dataclass(frozen=True, slots=True)
class Submission:
    """What the rail answered: its references for the payout (e.g. Stripe ids)."""

    references: dict[str, str] = field(default_factory=dict)


Method = Literal["bank_account", "card", "wallet"]
# Shown in the coverage tables, in the reader's language (rendered when shown).
METHOD_LABELS: dict[str, "StrOrPromise"] = {
    "bank_account": gettext_lazy("bank account"),
    "card": gettext_lazy("debit card"),
    "wallet": gettext_lazy("wallet"),
}


@dataclass(frozen=True, slots=True)
class Offer:
    """One line of a rail's coverage table: workers in ``country`` can receive
    ``currency`` into a ``method`` (their own bank account, card or wallet there),
    typically within ``arrival``."""

    country: str
    currency: str
    method: Method
    # Lazy text: read in the language of whoever is shown the table.
    arrival: "StrOrPromise"


@dataclass(frozen=True, slots=True)
class Quote:
    """What the rail says a payout of ``amount`` (platform currency, minor units)
    will cost and deliver: ``fee`` in the platform currency, ``rate`` (destination
    units per platform unit, a decimal string as the rail gave it), the
    ``destination_amount`` in ``destination_currency`` minor units, and when the
    rail stops honouring it (None: it does not expire). ``reference`` is the
    rail's id for the quote, if it keeps one.

    On every rail ``amount + fee`` is exactly what leaves the co-op's account at
    the rail (what the rail's ledger account is credited), and ``amount``,
    converted, is what reaches the worker: a rail whose provider takes its fee
    out of the sum it is given (Wise) asks for ``amount + fee``."""

    amount: int
    fee: int
    rate: str
    destination_amount: int
    destination_currency: str
    expires_at: datetime | None
    reference: str = ""


def same_currency_quote(*, amount: int, currency: str, fee: int) -> Quote:
    """The quote of a rail that pays in the platform currency at a published fee."""
    return Quote(
        amount=amount, fee=fee, rate="1", destination_amount=amount, destination_currency=currency, expires_at=None
    )


# In a coverage table: the money lands in the platform currency (the wallet converts later).
PLATFORM_CURRENCY_MARK = "*"


def offers_countries(offers: tuple[Offer, ...]) -> frozenset[str]:
    return frozenset(offer.country for offer in offers)


class RailRefused(AppError):
    """The rail answered and will not make this payment; the payout fails and the
    money returns to the worker's balance with the sentence ``sentence`` (a key of
    ``payouts.failures.SENTENCES``, the rail's own words as ``detail``) shown to them
    in their language. ``reason`` is the English sentence, as stored and audited."""

    def __init__(self, sentence: str, *, detail: str = "", rail_code: str = "") -> None:
        from payouts.failures import failure_english, failure_sentence

        super().__init__(
            "payout_refused", failure_sentence(sentence, detail), status=502, details={"rail_code": rail_code}
        )
        self.sentence = sentence
        self.detail = detail
        self.reason = failure_english(sentence, detail)
        self.rail_code = rail_code


class PayoutRail(Protocol):
    name: str
    submission: Literal["api", "bank_file"]
    # ISO 3166 codes of the workers' countries the rail can pay (from ``offers``).
    countries: frozenset[str]
    # Platform currencies the rail can be funded in.
    currencies: frozenset[str]
    # The coverage table: country, currency that lands, method, arrival time.
    offers: tuple[Offer, ...]
    # Environment variables the operator must set before workers can use the rail.
    required_settings: tuple[str, ...]
    # Platform-currency minor units: the smallest and largest payout the rail takes.
    min_amount: int
    max_amount: int

    # Lazy texts (``gettext_lazy``): a rail is built once, its words are read in the
    # language of whoever is shown them.
    @property
    def label(self) -> "StrOrPromise": ...

    @property
    def fee_note(self) -> "StrOrPromise": ...

    def configured(self) -> bool:
        """True when every one of ``required_settings`` is set on this server."""
        ...

    def quote(self, *, amount: int, currency: str, method: "PayoutMethod", key: str) -> Quote:
        """The rail's price for paying ``amount`` through ``method``; ``key`` makes a
        remote quote idempotent. Raises ``AppError`` (503) when the rail is unreachable."""
        ...

    def ledger_account(self) -> "Account":
        """The external ledger account money leaves the platform through."""
        ...

    def validate_destination(self, *, country: str, details: Mapping[str, Any]) -> Destination:
        """Checks the worker's input offline; raises ``AppError("invalid_destination")``
        with field errors and a message saying what to fix."""
        ...

    def not_ready_reason(self, *, method: "PayoutMethod") -> str:
        """Empty when ``method`` can be paid now, else what the worker still has to do."""
        ...

    def submit(self, *, payout: "Payout") -> Submission:
        """Sends one payout (API rails). Idempotent: keys derive from the payout id, so
        a retry after a crash never pays twice. Raises ``RailRefused`` when the rail
        says no, and ``AppError`` with status 503 when it could not be reached."""
        ...
