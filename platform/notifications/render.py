"""A notification's words, in the reader's language and time zone."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import formats, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.moments import moment_text
from core.money import format_amount
from notifications.categories import CATEGORIES

# Parameters holding a moment: stored as ISO 8601 in UTC, shown in the reader's time zone.
MOMENT_PARAMS = frozenset({"deadline", "effective", "not_before", "next_chance"})
# Those a person acts before: also written as how far away they are ("in 2 days").
DEADLINE_PARAMS = frozenset({"deadline", "next_chance"})
# Parameters holding a code, named in the reader's language. Rows written before the codes were
# stored hold the English words: those are read too, so an old notice is translated as well.
_PAID_IN_FULL = gettext_lazy("paid in full")
_PARTLY_PAID = gettext_lazy("partly paid")
_REJECTION_UPHELD = gettext_lazy("rejection upheld")
_SUSPENSION_LIFTED = gettext_lazy("suspension lifted")
_SUSPENSION_UPHELD = gettext_lazy("suspension upheld")
_VERIFIED = gettext_lazy("verified")
_REFUSED = gettext_lazy("refused")
_MORE_INFORMATION = gettext_lazy("more information needed")
CODE_PARAMS = {
    "decision": {"verified": _VERIFIED, "refused": _REFUSED, "more information needed": _MORE_INFORMATION},
    "outcome": {
        "pay_full": _PAID_IN_FULL,
        "paid in full": _PAID_IN_FULL,
        "pay_partial": _PARTLY_PAID,
        "partly paid": _PARTLY_PAID,
        "uphold": _REJECTION_UPHELD,
        "rejection upheld": _REJECTION_UPHELD,
        "suspension_lifted": _SUSPENSION_LIFTED,
        "suspension lifted": _SUSPENSION_LIFTED,
        "suspension_upheld": _SUSPENSION_UPHELD,
        "suspension upheld": _SUSPENSION_UPHELD,
    },
}
# Parameters holding an amount: stored in minor units beside ``currency``, written the reader's way.
MONEY_PARAMS = frozenset({"top_up", "median_hourly", "floor_hourly"})
# Parameters holding a calendar date (ISO 8601), written the reader's way ("1. November 2026").
DATE_PARAMS = frozenset({"period_start", "period_end"})
# A parameter written by a sentence of the sender's (``<name>_sentence``: its English msgid,
# marked for translation where it is defined; ``<name>_detail``: the words slotted into it as
# ``%(detail)s``, or written after it when it has no such slot): translated when read.
# ``<name>`` itself keeps the English, for rows and readers from before.
SENTENCE_PARAMS = frozenset({"reason"})


@dataclass(frozen=True)
class Words:
    title: str
    body: str


def _shown(params: dict[str, Any], time_zone: str) -> dict[str, Any]:
    """The parameters as the reader reads them; call inside the reader's language."""
    shown = dict(params)
    for key in CODE_PARAMS.keys() & shown.keys():
        named = CODE_PARAMS[key].get(str(shown[key]))
        if named is not None:
            shown[key] = str(named)
    for key in MONEY_PARAMS & shown.keys():
        if isinstance(shown[key], int) and "currency" in shown:
            shown[key] = format_amount(shown[key], str(shown["currency"]))
    for key in MOMENT_PARAMS & shown.keys():
        moment = parse_datetime(str(shown[key]))
        if moment is not None:
            shown[key] = moment_text(moment, time_zone=time_zone, deadline=key in DEADLINE_PARAMS)
    for key in DATE_PARAMS & shown.keys():
        day = parse_date(str(shown[key]))
        if day is not None:
            shown[key] = formats.date_format(day, "DATE_FORMAT")
    for key in SENTENCE_PARAMS:
        msgid = shown.get(f"{key}_sentence")
        if isinstance(msgid, str) and msgid:
            text = _(msgid)  # a msgid marked where the sentence is defined
            detail = str(shown.get(f"{key}_detail", ""))
            shown[key] = text % {"detail": detail} if "%(detail)s" in text else f"{text} {detail}".strip()
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
    with translation.override(language):
        shown = _shown(params, time_zone)
        title = str(spec.title) % shown
        if is_sandbox(params):
            title = _("[Sandbox] %(title)s") % {"title": title}
        if spec.stored_text and spec.stored_text in params:
            return Words(title=title, body=str(params[spec.stored_text]))
        return Words(title=title, body=str(spec.body) % shown)


def moment_param(value: datetime) -> str:
    return value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat()
