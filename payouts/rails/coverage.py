"""Which rail pays whom, where: the rails' coverage tables read as one answer per country.

Each rail declares its own table (``offers``: country, currency that lands, method,
arrival) beside the provider's published list, with the source and the date it
was read. This module only combines them, adds whether each rail is configured on
this server, and names the closest option where a country has no rail yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry

from core.money import platform_currency
from payouts.rails.base import METHOD_LABELS, PLATFORM_CURRENCY_MARK, Offer, PayoutRail

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


def offers_for(countries: str, *, method: str, arrival: str, currency: str | None = None) -> tuple[Offer, ...]:
    """Table rows for a space-separated list of countries; each lands in the
    country's local currency unless ``currency`` says otherwise."""
    return tuple(
        Offer(country=code, currency=currency or local_currency(code), method=method, arrival=arrival)  # type: ignore[arg-type]
        for code in countries.split()
    )


@dataclass(frozen=True, slots=True)
class CountryOption:
    rail: str
    label: str
    method: str
    method_label: str
    currency: str
    arrival: str
    fee_note: str
    configured: bool
    # The environment variables an operator sets to switch the rail on (empty when configured).
    missing_settings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CountryCoverage:
    country: str
    name: str
    options: tuple[CountryOption, ...]
    # When no rail reaches the country: what comes closest, in words.
    closest: str

    @property
    def covered(self) -> bool:
        return bool(self.options)


def _missing(rail: PayoutRail) -> tuple[str, ...]:
    from django.conf import settings

    return tuple(name for name in rail.required_settings if not getattr(settings, name, ""))


def country_coverage(country: str, rails: list[PayoutRail]) -> CountryCoverage:
    """The options of ``rails`` for workers in ``country`` (ISO 3166 alpha-2)."""
    code = country.upper()
    found = pycountry.countries.get(alpha_2=code)
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
    closest = ""
    if not options:
        closest = (
            "No rail reaches this country yet. Your earnings stay yours and are never confiscated: "
            "they are paid as soon as a rail opens. The closest option is a PayPal account or a bank "
            "account held in a neighbouring country that a rail serves, if you have one in your own name."
        )
    return CountryCoverage(country=code, name=found.name if found else code, options=options, closest=closest)


def all_countries() -> list[tuple[str, str]]:
    """Every ISO 3166-1 country as (alpha-2, name), sorted by name."""
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1])
