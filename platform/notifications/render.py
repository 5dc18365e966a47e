"""A notification's words, in the reader's language and time zone."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from notifications.categories import CATEGORIES

# Parameters holding a moment: stored as ISO 8601 in UTC, shown in the reader's time zone.
MOMENT_PARAMS = frozenset({"deadline", "effective", "not_before", "next_chance"})


@dataclass(frozen=True)
class Words:
    title: str
    body: str


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _shown(params: dict[str, Any], time_zone: str) -> dict[str, Any]:
    shown = dict(params)
    for key in MOMENT_PARAMS & shown.keys():
        moment = parse_datetime(str(shown[key]))
        if moment is not None:
            local = timezone.localtime(moment, zone(time_zone))
            shown[key] = f"{local:%Y-%m-%d %H:%M} ({local.tzname()})"
    return shown


def is_sandbox(params: dict[str, Any]) -> bool:
    """Whether the notification is about sandbox work (play money, issue 24.6): its sender
    set ``sandbox`` in its parameters."""
    return params.get("sandbox") is True


def words(*, category: str, params: dict[str, Any], language: str = "en", time_zone: str = "UTC") -> Words:
    """Renders ``category`` with ``params``; raises ``KeyError`` for a missing parameter.
    A notification about sandbox work has its title marked "[Sandbox]" (so is the e-mail's
    subject, the push and every list showing it)."""
    spec = CATEGORIES[category]
    shown = _shown(params, time_zone)
    with translation.override(language):
        title = str(spec.title) % shown
        if is_sandbox(params):
            title = _("[Sandbox] %(title)s") % {"title": title}
        return Words(title=title, body=str(spec.body) % shown)


def moment_param(value: datetime) -> str:
    return value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat()
