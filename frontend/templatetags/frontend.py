"""Template helpers: money, percentages and times in the reader's language and time zone,
human labels for internal names, and the role navigation."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core import moments
from core.labels import label, rule_description, rule_name
from core.money import format_amount, platform_currency
from frontend.pages import roles_for

register = template.Library()


@register.filter
def money(amount: int | None, currency: str = "") -> str:
    """``1250|money`` -> ``12.50 EUR`` in English, ``12,50 €`` in Spanish (``core.money.format_amount``):
    every amount on every page goes through here, written the way the reader's language writes money."""
    if amount is None:
        return "-"
    return format_amount(int(amount), (currency or platform_currency()).upper())


@register.filter
def percent(bps: int | None) -> str:
    """Basis points as a percentage: ``9250|percent`` -> ``92.5%`` (``92,5%`` in Spanish)."""
    if bps is None:
        return "-"
    value = Decimal(int(bps)) / 100
    places = 0 if value == value.to_integral_value() else len(str(value.normalize()).split(".")[1])
    return f"{formats.number_format(value, decimal_pos=places, use_l10n=True)}%"


@register.filter
def when(moment: datetime | None) -> SafeString | str:
    """A moment in the reader's time zone, written their way, with the zone named:
    ``Dec. 6, 2026, 2 p.m. CET``."""
    if moment is None:
        return "-"
    if not isinstance(moment, datetime):
        return formats.date_format(moment, "DATE_FORMAT")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        timezone.get_current_timezone_name(),
        moments.local_text(moment),
    )


@register.filter
def day(value: date | datetime | None) -> str:
    """A date in the reader's language (a moment's date in their time zone)."""
    if value is None:
        return "-"
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATE_FORMAT")


@register.filter
def relative(moment: datetime | None) -> str:
    """``in 2 days`` or ``3 hours ago``."""
    if moment is None:
        return ""
    return moments.relative(moment)


@register.filter
def deadline(moment: datetime | None) -> SafeString | str:
    """A deadline: the moment with its zone, and how far away it is (``… (in 2 days)``)."""
    if moment is None:
        return "-"
    return format_html("{} ({})", when(moment), relative(moment))


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


@register.filter(name="label")
def label_filter(value: object) -> str:
    """``awaiting_response|label`` -> ``Waiting for the requester's answer``: no stored name
    reaches a page."""
    return label(value)


@register.filter(name="rule_name")
def rule_name_filter(rule: object) -> str:
    """A governed rule's name in the reader's language."""
    return rule_name(rule)


@register.filter(name="rule_description")
def rule_description_filter(rule: object) -> str:
    return rule_description(rule)


_PARTY = re.compile(r"^(Juror|Worker) (\d+)$")


@register.filter
def party(stored: object) -> str:
    """A stored pseudonymous label (``Juror 2``, ``Worker 1``) in the reader's language."""
    text = str(stored or "")
    found = _PARTY.match(text)
    if found is None:
        return text
    number = found.group(2)
    if found.group(1) == "Juror":
        return _("Juror %(number)s") % {"number": number}
    return _("Worker %(number)s") % {"number": number}
