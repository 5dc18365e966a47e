"""The registry of payout rails and the countries each serves.

Every rail is enabled by default (the setting ``PAYOUT_RAILS_ENABLED`` can narrow
the list); a rail whose provider keys are not set is still listed, marked "not
configured on this server", and refuses to be chosen until the operator sets them.
Which countries each rail serves is data: each rail's ``offers`` table
(``payouts.rails.coverage`` reads them together).
"""

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import AppError
from payouts.rails.base import Destination, PayoutRail, Quote, RailRefused, Submission
from payouts.rails.coverage import CountryCoverage, country_coverage, country_name
from payouts.rails.paypal import PaypalRail
from payouts.rails.sepa import SepaRail
from payouts.rails.stripe_connect import StripeConnectRail
from payouts.rails.stripe_global import StripeGlobalRail
from payouts.rails.wise import WiseRail

__all__ = [
    "DEFAULT_ENABLED",
    "Destination",
    "PayoutRail",
    "Quote",
    "RailRefused",
    "Submission",
    "coverage_for_country",
    "enabled_rail_names",
    "rail_for_country",
    "rail_get",
    "rails_for_country",
]

RAILS: dict[str, PayoutRail] = {
    rail.name: rail for rail in (StripeConnectRail(), SepaRail(), StripeGlobalRail(), PaypalRail(), WiseRail())
}
DEFAULT_ENABLED = ("stripe_connect", "sepa", "stripe_global", "paypal", "wise")


def enabled_rail_names() -> tuple[str, ...]:
    return tuple(getattr(settings, "PAYOUT_RAILS_ENABLED", DEFAULT_ENABLED))


def rail_get(name: str) -> PayoutRail:
    """The rail called ``name``, enabled or not (payouts already made keep their rail)."""
    rail = RAILS.get(name)
    if rail is None:
        raise AppError(
            "unknown_rail",
            _("There is no payout service '%(name)s'; choose one of %(sorted)s.")
            % {"name": name, "sorted": ", ".join(sorted(RAILS))},
            fields={"rail": [_("Unknown payout service.")]},
        )
    return rail


def _currency() -> str:
    return str(settings.PLATFORM_CURRENCY).upper()


def rails_for_country(country: str) -> list[PayoutRail]:
    """The enabled rails that can pay a worker in ``country`` in the platform currency."""
    country = country.upper()
    return [
        RAILS[name]
        for name in enabled_rail_names()
        if name in RAILS and country in RAILS[name].countries and _currency() in RAILS[name].currencies
    ]


def coverage_for_country(country: str) -> CountryCoverage:
    """The enabled rails' options for workers in ``country``, configured or not."""
    return country_coverage(country, rails_for_country(country))


def rail_require_configured(rail: PayoutRail) -> None:
    """Refuses a rail whose provider keys are not set on this server."""
    if not rail.configured():
        raise AppError(
            "rail_not_configured",
            _(
                "%(label)s is not configured on this server; choose another payout "
                "method (the operator must set its keys first)."
            )
            % {"label": rail.label},
            status=409,
            details={"settings": list(rail.required_settings)},
        )


def rail_for_country(name: str, country: str) -> PayoutRail:
    """``name`` if it may pay a worker in ``country``; otherwise ``AppError("rail_not_available")``
    naming the rails that can."""
    rail = rail_get(name)
    if not country:
        raise AppError(
            "country_required",
            _("Set your country in your profile first: payout services are offered per country."),
            fields={"country": [_("Required.")]},
        )
    if rail in rails_for_country(country):
        return rail
    others = ", ".join(str(r.label) for r in rails_for_country(country)) or _("none yet")
    raise AppError(
        "rail_not_available",
        _("%(label)s is not available for workers in %(upper)s. Payout services available to you: %(others)s.")
        % {"label": rail.label, "upper": country_name(country), "others": others},
        fields={"rail": [_("Not available in your country.")]},
        details={"available": [r.name for r in rails_for_country(country)]},
    )
