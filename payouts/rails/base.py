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
from typing import TYPE_CHECKING, Any, Literal, Protocol

from core.errors import AppError

if TYPE_CHECKING:
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


class RailRefused(AppError):
    """The rail answered and will not make this payment; the payout fails and the
    money returns to the worker's balance with ``reason`` shown to them."""

    def __init__(self, reason: str, *, rail_code: str = "") -> None:
        super().__init__("payout_refused", reason, status=502, details={"rail_code": rail_code})
        self.reason = reason
        self.rail_code = rail_code


class PayoutRail(Protocol):
    name: str
    label: str
    submission: Literal["api", "bank_file"]
    # ISO 3166 codes of the workers' countries the rail can pay.
    countries: frozenset[str]
    currencies: frozenset[str]

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
