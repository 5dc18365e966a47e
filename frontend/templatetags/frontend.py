"""Template helpers: money in the platform's one format, percentages from basis points,
and the role navigation."""

from typing import Any

from django import template

from core.money import format_amount, platform_currency
from frontend.pages import roles_for

register = template.Library()


@register.filter
def money(amount: int | None, currency: str = "") -> str:
    """``1250|money`` -> ``12.50 EUR``; every amount on every page goes through here."""
    if amount is None:
        return "-"
    return format_amount(int(amount), currency or platform_currency())


@register.filter
def percent(bps: int | None) -> str:
    """Basis points as a percentage: ``9250|percent`` -> ``92.5%``."""
    if bps is None:
        return "-"
    return f"{int(bps) / 100:g}%"


@register.inclusion_tag("frontend/_nav.html", takes_context=True)
def role_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "roles": roles_for(user),
        "user": user,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "inbox": context.get("inbox"),
    }
