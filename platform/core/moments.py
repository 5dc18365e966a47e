"""A moment written for a person: in their time zone with the zone named, in their language's
way of writing dates, and for a deadline also how far away it is ("in 2 days").

Pages use it through the ``when``/``deadline`` template filters (``frontend.templatetags``);
messages written in Python (refusals, notifications, e-mails, pushes) use ``moment_text``, or
``notifications.selectors.moment_for`` when they know the person but not their zone. Nothing
here writes a bare UTC time: a worker in Kolkata and one in Caracas each read their own clock.
"""

import zoneinfo
from datetime import datetime, timedelta, tzinfo

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone called ``name``; UTC for a name that is not one (a stale or hand-edited setting)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def zone_label(moment: datetime) -> str:
    """The zone's usual abbreviation (CET, IST, UTC), or its offset where it has none
    (``UTC-04`` for Caracas, whose tz database name for it is just ``-04``)."""
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}" if rest else f"UTC{sign}{hours:02d}"


def _units(seconds: float) -> tuple[str, int]:
    """The unit a span is told in (minutes under an hour, hours under two days, then days)."""
    minutes = max(int(seconds // 60), 1)
    if minutes < 60:
        return "minute", minutes
    hours = minutes // 60
    if hours < 48:
        return "hour", hours
    return "day", hours // 24


def relative(moment: datetime, *, now: datetime | None = None) -> str:
    """``in 2 days`` or ``3 hours ago``, in the active language.

    Each is one whole phrase per unit with its own plural forms, not ``in`` + ``2 days``: the
    words around the number decline it (German "in 2 Tagen" but "2 Tage"; Hindi puts "in"
    after the span), so a translator needs the whole phrase."""
    seconds = (moment - (now or timezone.now())).total_seconds()
    if abs(seconds) < 60:
        return _("now")
    unit, count = _units(abs(seconds))
    if seconds > 0:
        if unit == "minute":
            text = ngettext("in %(count)d minute", "in %(count)d minutes", count)
        elif unit == "hour":
            text = ngettext("in %(count)d hour", "in %(count)d hours", count)
        else:
            text = ngettext("in %(count)d day", "in %(count)d days", count)
    elif unit == "minute":
        text = ngettext("%(count)d minute ago", "%(count)d minutes ago", count)
    elif unit == "hour":
        text = ngettext("%(count)d hour ago", "%(count)d hours ago", count)
    else:
        text = ngettext("%(count)d day ago", "%(count)d days ago", count)
    return text % {"count": count}


def local_text(moment: datetime) -> str:
    """``moment`` in the active time zone and language, with the zone named:
    ``Dec. 6, 2026, 2 p.m. CET`` (``6 de diciembre de 2026 a las 14:00 CET`` in Spanish)."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {zone_label(local)}"


def moment_text(
    moment: datetime,
    *,
    time_zone: str | tzinfo | None = None,
    language: str | None = None,
    deadline: bool = False,
) -> str:
    """``moment`` written for a reader in ``time_zone`` who reads ``language`` (each defaults
    to the one active: the person's own during their request). A ``deadline`` also says how
    far away it is: ``Dec. 8, 2026, 4:30 p.m. IST (in 2 days)``."""
    chosen_zone = zone(time_zone) if isinstance(time_zone, str) else time_zone or timezone.get_current_timezone()
    with timezone.override(chosen_zone), translation.override(language or translation.get_language()):
        text = local_text(moment)
        if deadline:
            text = f"{text} ({relative(moment)})"  # as the pages' ``deadline`` filter writes it
        return text
