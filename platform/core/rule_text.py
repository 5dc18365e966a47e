"""A governed rule's value in words, for every page that shows one."""

from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext

from core.labels import counted
from core.money import format_amount, platform_currency


def rule_value_text(rule: Any, value: int | None) -> str:
    """A governed rule's value as people read it, in the rule's unit and the reader's
    language: ``12,00 EUR an hour``, ``10%``, ``48 hours``; never "minor units" or
    "basis points"."""
    if value is None:
        return "-"
    value_type = str(getattr(rule, "value_type", ""))
    unit = str(getattr(rule, "unit", ""))
    if value_type == "money":
        amount = format_amount(int(value), platform_currency())
        if "hour" in unit:
            return gettext("%(amount)s an hour") % {"amount": amount}
        if "case" in unit:
            return gettext("%(amount)s per case") % {"amount": amount}
        return amount
    if value_type == "basis_points":
        share = Decimal(int(value)) / 100
        places = 0 if share == share.to_integral_value() else len(str(share.normalize()).split(".")[1])
        shown = f"{formats.number_format(share, decimal_pos=places, use_l10n=True)}%"
        if "slots" in unit:
            return gettext("%(share)s of the batch's slots") % {"share": shown}
        return shown
    if value_type == "boolean":
        if getattr(rule, "key", "") == "payout_fee_workers_bear":
            return gettext("the worker") if value else gettext("the co-op")
        return gettext("yes") if value else gettext("no")
    return counted(unit, int(value))
