"""Money arithmetic: integer minor units and an ISO currency, never floats.

Everything that adds, splits or formats an amount goes through this module so
that rounding is decided in one place.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

from core.errors import AppError

# Minor units per major unit; currencies not listed use two decimals.
_EXPONENTS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}


def platform_currency() -> str:
    return str(settings.PLATFORM_CURRENCY)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money amounts are integers in minor units.")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, count: int) -> "Money":
        return Money(self.amount * count, self.currency)

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other.currency}.")

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)


def share(amount: int, numerator: int, denominator: int) -> int:
    """``amount * numerator / denominator`` rounded half up, in minor units."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient = Decimal(amount) * Decimal(numerator) / Decimal(denominator)
    return int(quotient.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def basis_points(amount: int, bps: int) -> int:
    """A fee of ``bps`` hundredths of a percent of ``amount``, rounded half up."""
    return share(amount, bps, 10_000)


def parse_major(text: str | int | Decimal, currency: str) -> int:
    """Parse ``"100.00"`` (major units) into minor units, refusing sub-cent input."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise AppError("invalid_amount", f"'{text}' is not an amount; write it like 12.50.") from None
    if not value.is_finite():
        raise AppError("invalid_amount", f"'{text}' is not an amount; write it like 12.50.")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise AppError(
            "invalid_amount",
            f"'{text}' has more decimals than {currency} allows ({exponent(currency)}).",
        )
    return int(scaled)


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def major_text(amount: int, currency: str) -> str:
    """``1250`` EUR as ``"12.50"``: how the API and files write amounts."""
    return f"{to_major(amount, currency):.{exponent(currency)}f}"


def format_amount(amount: int, currency: str) -> str:
    return f"{major_text(amount, currency)} {currency.upper()}"
