"""Which rail pays whom, where: the rails' coverage tables read as one answer per country.

Each rail declares its own table (``offers``: country, currency that lands, method,
arrival) beside the provider's published list, with the source and the date it
was read. This module only combines them, adds whether each rail is configured on
this server, and names the closest option where a country has no rail yet.
"""

from __future__ import annotations

import gettext as gettext_module
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import pycountry
from django.utils.translation import get_language, gettext_lazy, to_locale

from core.money import platform_currency
from payouts.rails.base import METHOD_LABELS, PLATFORM_CURRENCY_MARK, Offer, PayoutRail

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The countries where most crowdworkers live (issue 21): each must have a rail that
# lands in a local bank account or wallet (tests/payouts/test_coverage.py).
FOCUS_COUNTRIES = (
    "US",
    "IN",
    "GB",
    "PH",
    "PK",
    "BD",
    "KE",
    "NG",
    "VE",
    "BR",
    "UA",
    "RS",
    "EG",
    "ID",
    "MX",
    "DE",
    "ES",
    "IT",
    "FR",
    "CA",
)

# The local currency of the countries the rails' tables name (ISO 4217).
LOCAL_CURRENCY = {
    "AE": "AED",
    "GI": "GIP",
    "LI": "CHF",
    "AR": "ARS",
    "AU": "AUD",
    "BD": "BDT",
    "BR": "BRL",
    "CA": "CAD",
    "CH": "CHF",
    "CL": "CLP",
    "CO": "COP",
    "CZ": "CZK",
    "DK": "DKK",
    "EG": "EGP",
    "GB": "GBP",
    "HK": "HKD",
    "HU": "HUF",
    "ID": "IDR",
    "IL": "ILS",
    "IN": "INR",
    "JP": "JPY",
    "KE": "KES",
    "MA": "MAD",
    "MX": "MXN",
    "MY": "MYR",
    "NG": "NGN",
    "NO": "NOK",
    "NZ": "NZD",
    "PE": "PEN",
    "PH": "PHP",
    "PK": "PKR",
    "PL": "PLN",
    "RO": "RON",
    "RS": "RSD",
    "SE": "SEK",
    "SG": "SGD",
    "TH": "THB",
    "UA": "UAH",
    "US": "USD",
    "VE": "VES",
    "ZA": "ZAR",
}
EURO_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",  # in the euro area since 1 January 2026
        "CY",
        "DE",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PT",
        "SI",
        "SK",
        "AD",
        "MC",
        "SM",
        "VA",
    ]
)


def local_currency(country: str) -> str:
    country = country.upper()
    if country in EURO_COUNTRIES:
        return "EUR"
    return LOCAL_CURRENCY.get(country, "")


def offers_for(countries: str, *, method: str, arrival: StrOrPromise, currency: str | None = None) -> tuple[Offer, ...]:
    """Table rows for a space-separated list of countries; each lands in the
    country's local currency unless ``currency`` says otherwise. ``arrival`` is a
    lazy text (``gettext_lazy``), read in the language of whoever sees the table."""
    return tuple(
        Offer(country=code, currency=currency or local_currency(code), method=method, arrival=arrival)  # type: ignore[arg-type]
        for code in countries.split()
    )


@dataclass(frozen=True, slots=True)
class CountryOption:
    rail: str
    # Lazy texts: rendered in the reader's language.
    label: StrOrPromise
    method: str
    method_label: StrOrPromise
    currency: str
    arrival: StrOrPromise
    fee_note: StrOrPromise
    configured: bool
    # The environment variables an operator sets to switch the rail on (empty when configured).
    missing_settings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CountryCoverage:
    country: str
    name: str
    options: tuple[CountryOption, ...]
    # When no rail reaches the country: what comes closest, in words.
    closest: StrOrPromise

    @property
    def covered(self) -> bool:
        return bool(self.options)


def _missing(rail: PayoutRail) -> tuple[str, ...]:
    from django.conf import settings

    return tuple(name for name in rail.required_settings if not getattr(settings, name, ""))


def country_coverage(country: str, rails: list[PayoutRail]) -> CountryCoverage:
    """The options of ``rails`` for workers in ``country`` (ISO 3166 alpha-2)."""
    code = country.upper()
    options = tuple(
        CountryOption(
            rail=rail.name,
            label=rail.label,
            method=offer.method,
            method_label=METHOD_LABELS[offer.method],
            currency=platform_currency() if offer.currency == PLATFORM_CURRENCY_MARK else offer.currency,
            arrival=offer.arrival,
            fee_note=rail.fee_note,
            configured=not _missing(rail),
            missing_settings=_missing(rail),
        )
        for rail in rails
        for offer in rail.offers
        if offer.country == code
    )
    closest: StrOrPromise = ""
    if not options:
        closest = gettext_lazy(
            "No payout service reaches this country yet. Your earnings stay yours and are never confiscated: "
            "they are paid as soon as a payout service opens. The closest option is a PayPal account or a bank "
            "account held in a neighbouring country that a payout service serves, if you have one in your own name."
        )
    return CountryCoverage(country=code, name=country_name(code), options=options, closest=closest)


@lru_cache(maxsize=32)
def _country_names(language: str) -> gettext_module.NullTranslations:
    """pycountry's own translations of the ISO 3166-1 names (Debian's iso-codes)."""
    return gettext_module.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[to_locale(language)], fallback=True
    )


def country_name(code: str) -> str:
    """The country's name in the active language (its code if ISO 3166-1 has no such country)."""
    found = pycountry.countries.get(alpha_2=code.upper())
    if found is None:
        return code.upper()
    return _country_names(get_language() or "en").gettext(found.name)


def _sort_key(name: str) -> str:
    # "Égypte" sorts with the E's, not after "Zimbabwe".
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


def all_countries() -> list[tuple[str, str]]:
    """Every ISO 3166-1 country as (alpha-2, name in the active language), sorted by name."""
    names = _country_names(get_language() or "en")
    pairs = ((c.alpha_2, names.gettext(c.name)) for c in pycountry.countries)
    return sorted(pairs, key=lambda pair: _sort_key(pair[1]))
