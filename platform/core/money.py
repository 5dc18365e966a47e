"""Money arithmetic: integer minor units and an ISO currency, never floats.

Everything that adds, splits or formats an amount goes through this module so
that rounding is decided in one place.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

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
            raise TypeError(_("Money amounts are integers in minor units."))

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
            raise ValueError(
                _("Cannot combine %(currency)s with %(currency2)s.")
                % {"currency": self.currency, "currency2": other.currency}
            )

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)


def share(amount: int, numerator: int, denominator: int) -> int:
    """``amount * numerator / denominator`` rounded half up, in minor units."""
    if denominator <= 0:
        raise ValueError(_("denominator must be positive"))
    quotient = Decimal(amount) * Decimal(numerator) / Decimal(denominator)
    return int(quotient.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def basis_points(amount: int, bps: int) -> int:
    """A fee of ``bps`` hundredths of a percent of ``amount``, rounded half up."""
    return share(amount, bps, 10_000)


# Upper bounds of every amount a caller can send, in minor units of the platform currency.
# Far above honest use, far below what a 64-bit column holds: a request above them is a
# mistake or an attack, answered 400 with the field and the limit, never a database error.
MAX_REWARD = 1_000_00  # per assignment
MAX_BONUS = 10_000_00  # per bonus
MAX_DEPOSIT = 1_000_000_00  # per top-up; larger sums are arranged with the treasurer
MAX_WITHDRAWAL = 1_000_000_00  # per withdrawal
MAX_PAYOUT_MINIMUM = 100_000_00  # a worker's "pay me once I have" threshold

# Digits, at most one point, digits: no exponent ("1e3"), no sign, no "NaN", no "1,5",
# no spaces inside, no thousands separators. At most 15 integer digits, so the minor units
# always fit a signed 64-bit integer before the range check even runs.
_MAJOR = re.compile(r"(?P<whole>[0-9]{1,15})(?:\.(?P<fraction>[0-9]+))?")
_MINOR = re.compile(r"[0-9]{1,18}")


def _amount_error(field: str, text: str, hint: str) -> AppError:
    return AppError(
        "invalid_amount",
        _("%(field)s: '%(text)s' is not an amount; %(hint)s") % {"field": field, "text": text[:40], "hint": hint},
        fields={field: [_("Not an amount; %(hint)s") % {"hint": hint}]},
        details={"field": field},
    )


def parse_amount(
    value: Any,
    *,
    field: str,
    currency: str,
    maximum: int,
    minimum: int = 1,
    minor_units: bool = False,
) -> int:
    """The one parser of amounts that come from outside (API, forms, MTurk, files).

    ``minor_units=False``: a decimal string in major units ("12.50", "12", "0.5"), or an
    integer (major units); ``minor_units=True``: an integer or a string of digits in minor
    units (1250). Floats, booleans, exponents, signs, "NaN", "Infinity", commas and more
    decimals than the currency has are refused with ``invalid_amount``; a value outside
    ``minimum..maximum`` (minor units) with ``amount_out_of_range``. Both are 400 with
    ``fields={field: [...]}``, and the message names the field and the limit.
    """
    places = exponent(currency)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _amount_error(field, str(value), _hint(minor_units, places))
    text = str(value).strip()
    if minor_units:
        if _MINOR.fullmatch(text) is None:
            raise _amount_error(field, text, _hint(minor_units, places))
        amount = int(text)
    else:
        match = _MAJOR.fullmatch(text)
        if match is None:
            raise _amount_error(field, text, _hint(minor_units, places))
        fraction = match["fraction"] or ""
        if len(fraction.rstrip("0")) > places:
            raise AppError(
                "invalid_amount",
                _("%(field)s: '%(text)s' has more decimals than %(currency)s allows (%(places)s).")
                % {"field": field, "text": text[:40], "currency": currency, "places": places},
                fields={field: [_("At most %(places)s decimals.") % {"places": places}]},
                details={"field": field},
            )
        amount = int(match["whole"]) * 10**places + int((fraction[:places] or "0").ljust(places, "0"))
    if not minimum <= amount <= maximum:
        low, high = format_amount(minimum, currency), format_amount(maximum, currency)
        raise AppError(
            "amount_out_of_range",
            _("%(field)s must be between %(low)s and %(high)s.") % {"field": field, "low": low, "high": high},
            fields={field: [_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}]},
            details={
                "field": field,
                "minimum": major_text(minimum, currency),
                "maximum": major_text(maximum, currency),
            },
        )
    return amount


def _hint(minor_units: bool, places: int) -> str:
    if minor_units:
        return "send a whole number of minor units (cents), like 1250."
    return "write it like 12.50." if places else "write it like 1250."


def parse_major(
    text: str | int | Decimal, currency: str, *, field: str = "amount", maximum: int = MAX_DEPOSIT, minimum: int = 0
) -> int:
    """Parse ``"100.00"`` (major units) into minor units: ``parse_amount`` with defaults
    kept for older callers (zero allowed; the caller checks its own lower bound)."""
    if isinstance(text, Decimal):
        text = str(text)
    return parse_amount(text, field=field, currency=currency, maximum=maximum, minimum=minimum)


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def major_text(amount: int, currency: str) -> str:
    """``1250`` EUR as ``"12.50"``: how the API and files write amounts."""
    return f"{to_major(amount, currency):.{exponent(currency)}f}"


def format_amount(amount: int, currency: str) -> str:
    return f"{major_text(amount, currency)} {currency.upper()}"
