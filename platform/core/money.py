"""Money arithmetic: integer minor units and an ISO currency, never floats.

Everything that adds, splits or formats an amount goes through this module so
that rounding is decided in one place.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils import formats
from django.utils.translation import get_language
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

# Digits, at most one point, digits: no exponent ("1e3"), no sign, no "NaN", no spaces
# inside. At most 15 integer digits, so the minor units always fit a signed 64-bit integer
# before the range check even runs. Typed amounts (``localized=True``) are first brought to
# this shape from the reader's own way of writing numbers (``_canonical``).
_MAJOR = re.compile(r"(?P<whole>[0-9]{1,15})(?:\.(?P<fraction>[0-9]+))?")
_MINOR = re.compile(r"[0-9]{1,18}")
# What a person may type around the digits: the decimal mark and the separators of thousands
# of every language here (point, comma, space, no-break space, narrow no-break space).
_TYPED = re.compile(r"[0-9][0-9.,\u0020\u00a0\u202f]*")
_SPACES = "\u0020\u00a0\u202f"
# Thousands in groups of three (1.234.567), or the Indian lakh and crore grouping (12,34,567).
_GROUPS = (re.compile(r"[0-9]{1,3}(?:G[0-9]{3})+"), re.compile(r"[0-9]{1,2}(?:G[0-9]{2})+G[0-9]{3}"))

# Currency symbols shown instead of the code where the symbol names one currency only
# ("$" alone does not: US$). Other currencies are shown by their code.
_SYMBOLS = {"EUR": "€", "GBP": "£", "INR": "₹", "BRL": "R$", "PHP": "₱", "USD": "US$"}
# Where each language puts the currency (CLDR's currency patterns): "12,50 €" in Spanish,
# French and German, "R$ 12,50" in Brazilian Portuguese, "₹12.50" in Hindi and Filipino.
# English keeps the ISO code after the number ("12.50 EUR"): the co-op's English readers
# are everywhere, and the code is the one spelling none of them misreads. A no-break space
# keeps the number and its currency on one line.
_LAYOUTS = {
    "en": "{number} {code}",
    "es": "{number}\u00a0{symbol}",
    "fr": "{number}\u00a0{symbol}",
    "de": "{number}\u00a0{symbol}",
    "pt-br": "{symbol}\u00a0{number}",
    "hi": "{symbol}{number}",
    "fil": "{symbol}{number}",
}


def _layout() -> str:
    language = (get_language() or settings.LANGUAGE_CODE).lower()
    return _LAYOUTS.get(language) or _LAYOUTS.get(language.split("-")[0]) or _LAYOUTS["en"]


def _amount_error(field: str, text: str, hint: str) -> AppError:
    return AppError(
        "invalid_amount",
        _("%(field)s: '%(text)s' is not an amount; %(hint)s") % {"field": field, "text": text[:40], "hint": hint},
        fields={field: [_("Not an amount; %(hint)s") % {"hint": hint}]},
        details={"field": field},
    )


def _without_currency(text: str, currency: str) -> str:
    """``"12,50 €"``, ``"R$ 12,50"``, ``"12.50 EUR"`` -> the number alone, as ``format_amount``
    writes it back, so a shown amount can be typed (or pasted) again."""
    code = currency.upper()
    for mark in sorted({code, _SYMBOLS.get(code, code)}, key=len, reverse=True):
        if text.upper().startswith(mark.upper()):
            return text[len(mark) :].strip(_SPACES)
        if text.upper().endswith(mark.upper()):
            return text[: -len(mark)].strip(_SPACES)
    return text


def _canonical(text: str, *, field: str, currency: str, places: int) -> str:
    """A typed amount in the reader's way of writing numbers -> ``"1234.5"`` (``_MAJOR``'s shape).

    Spaces and, where the other mark is also there, the earlier of point and comma group
    thousands; the later one is the decimal mark. A lone mark is the decimal mark when it is the
    reader's own (``12,50`` in Spanish, ``12.50`` in English) or when it cannot group thousands
    (``12.50`` in Spanish: the API's and files' own form). A lone mark of the other kind before
    exactly three digits could be either (``1.250`` is 1250 in Spanish, 1.25 in English): it is
    refused with both readings named, never guessed, unless only one reading is an amount of
    this currency."""
    decimal_mark = str(formats.get_format("DECIMAL_SEPARATOR"))
    group_mark = str(formats.get_format("THOUSAND_SEPARATOR"))
    if _TYPED.fullmatch(text) is None:
        raise _amount_error(field, text, _hint(False, places, localized=True))
    for space in _SPACES:
        text = text.replace(space, "G")
    marks = [mark for mark in ".," if mark in text]
    whole, fraction = text, ""
    if len(marks) == 2:
        decimal = text[max(text.rindex("."), text.rindex(","))]
        grouping = "," if decimal == "." else "."
        whole, _separator, fraction = text.rpartition(decimal)
        whole = whole.replace(grouping, "G")
    elif marks:
        mark = marks[0]
        if text.count(mark) > 1:
            whole = text.replace(mark, "G")
        else:
            before, _separator, after = text.partition(mark)
            if mark == decimal_mark or len(after) != 3 or "G" in after:
                whole, fraction = before, after
            else:
                decimal_reading = len(after.rstrip("0")) <= places
                grouping_reading = mark == group_mark or (mark == "." and decimal_mark != ".")
                if decimal_reading and grouping_reading:
                    digits = before.replace("G", "")
                    plain = digits + after
                    as_decimal = formats.number_format(Decimal(f"{digits}.{after}"), decimal_pos=places, use_l10n=True)
                    message = _("'%(text)s' could mean %(whole)s or %(decimal)s: type the one you mean.") % {
                        "text": text.replace("G", " ")[:40],
                        "whole": plain,
                        "decimal": as_decimal,
                    }
                    raise AppError(
                        "ambiguous_amount",
                        f"{field}: {message}",
                        fields={field: [message]},
                        details={"field": field},
                    )
                if decimal_reading:
                    whole, fraction = before, after
                else:
                    whole = text.replace(mark, "G")
    if "G" in whole:
        if not any(pattern.fullmatch(whole) for pattern in _GROUPS):
            raise _amount_error(field, text.replace("G", " "), _hint(False, places, localized=True))
        whole = whole.replace("G", "")
    if "G" in fraction or not whole:
        raise _amount_error(field, text.replace("G", " "), _hint(False, places, localized=True))
    return f"{whole}.{fraction}" if fraction else whole


def parse_amount(
    value: Any,
    *,
    field: str,
    currency: str,
    maximum: int,
    minimum: int = 1,
    minor_units: bool = False,
    localized: bool = False,
) -> int:
    """The one parser of amounts that come from outside (API, forms, MTurk, files).

    ``minor_units=False``: a decimal string in major units ("12.50", "12", "0.5"), or an
    integer (major units); ``minor_units=True``: an integer or a string of digits in minor
    units (1250). Floats, booleans, exponents, signs, "NaN", "Infinity", commas and more
    decimals than the currency has are refused with ``invalid_amount``; a value outside
    ``minimum..maximum`` (minor units) with ``amount_out_of_range``. Both are 400 with
    ``fields={field: [...]}``, and the message names the field and the limit.

    ``localized=True`` (what people type: forms, the API): the active language's decimal mark
    and thousands separators are read too, and the currency as ``format_amount`` writes it
    ("1.234,50 €" in Spanish), so every shown amount can be typed back; a form that could mean
    two amounts ("1.250" in Spanish) is refused with ``ambiguous_amount``, naming both.
    Machine formats (MTurk, PayPal, files from other systems) leave it off: one spelling.
    """
    places = exponent(currency)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _amount_error(field, str(value), _hint(minor_units, places, localized=localized))
    text = str(value).strip()
    if minor_units:
        if _MINOR.fullmatch(text) is None:
            raise _amount_error(field, text, _hint(minor_units, places))
        amount = int(text)
    else:
        canonical = text
        if localized and not isinstance(value, int):
            canonical = _canonical(
                _without_currency(text, currency).strip(_SPACES), field=field, currency=currency, places=places
            )
        match = _MAJOR.fullmatch(canonical)
        if match is None:
            raise _amount_error(field, text, _hint(minor_units, places, localized=localized))
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


def _hint(minor_units: bool, places: int, *, localized: bool = False) -> str:
    if minor_units:
        return _("send a whole number of minor units (cents), like 1250.")
    if not places:
        return _("write it like %(example)s.") % {"example": "1250"}
    example = formats.number_format(Decimal("12.50"), decimal_pos=2, use_l10n=True) if localized else "12.50"
    return _("write it like %(example)s.") % {"example": example}


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


def typed_text(amount: int, currency: str) -> str:
    """``1250`` EUR as a person types it in the reader's language, without the currency:
    ``12.50`` in English, ``12,50`` in Spanish. What a money field is pre-filled with."""
    return formats.number_format(to_major(amount, currency), decimal_pos=exponent(currency), use_l10n=True)


def format_amount(amount: int, currency: str) -> str:
    """``1250`` EUR as the reader's language writes it: ``12.50 EUR`` in English, ``12,50 €`` in
    Spanish, ``R$ 12,50``-style in Brazilian Portuguese. For people; the API and files use
    ``major_text``. ``parse_amount(..., localized=True)`` reads every form this writes."""
    code = currency.upper()
    number = formats.number_format(to_major(amount, code), decimal_pos=exponent(code), use_l10n=True)
    layout = _layout()
    symbol = _SYMBOLS.get(code)
    if symbol is None and "{symbol}" in layout:
        layout = "{number}\u00a0{code}" if layout.startswith("{number}") else "{code}\u00a0{number}"
    return layout.format(number=number, code=code, symbol=symbol)
