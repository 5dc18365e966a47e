"""The fair-dispatch rule (issue 26): its own rule class, and the values that decide how a
fresh batch's slots open (waves over a period, a lottery per wave weighted towards workers
who earned less lately, a cap per worker, "all at once" only for small batches).

Written out here so this migration means the same thing forever; each later value is a
RuleVersion appended by an adopted proposal of the "dispatch" class.
"""

from datetime import UTC, datetime

from django.db import migrations

EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# Rule classes added after 0002, in today's schema (tests/governance/factories.py reloads them).
ADDED_CLASSES = [
    {
        "key": "dispatch",
        "name": "Fair dispatch",
        "quorum_bps": 1500,
        "threshold_numerator": 1,
        "threshold_denominator": 2,
        "threshold_inclusive": False,
        "notice_days": 7,
        "discussion_days": 7,
        "voting_days": 7,
        "secret_ballot": False,
    }
]

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "dispatch_period_hours",
        "dispatch",
        "hours",
        "hours",
        1,
        168,
        24,
        "Dispatch period",
        "A fresh batch's slots are given out in waves spread over this many hours, so every time zone gets a "
        "share; afterwards the rest is first come, first served.",
    ),
    (
        "dispatch_waves",
        "dispatch",
        "integer",
        "waves",
        1,
        96,
        24,
        "Dispatch waves",
        "How many waves the period is cut into; each releases an equal share of the slots, plus what earlier "
        "waves did not give.",
    ),
    (
        "dispatch_window_minutes",
        "dispatch",
        "integer",
        "minutes",
        1,
        120,
        10,
        "Application window",
        "At the start of each wave, workers ask for a slot during this many minutes; then slots are drawn by lot "
        "among them.",
    ),
    (
        "dispatch_weight_reference",
        "dispatch",
        "money",
        "minor units earned in the lookback",
        100,
        10_000_000,
        5000,
        "Lottery weight reference",
        "A worker's lottery weight is reference / (reference + what they earned in the lookback): a worker who "
        "earned this much has half the chance of one who earned nothing.",
    ),
    (
        "dispatch_lookback_days",
        "dispatch",
        "days",
        "days",
        1,
        90,
        7,
        "Lottery earnings lookback",
        "The earnings that lower a worker's lottery weight are those approved in this many days before applying.",
    ),
    (
        "dispatch_cap_bps",
        "dispatch",
        "basis_points",
        "basis points of the batch's slots",
        1,
        10_000,
        200,
        "Cap per worker",
        "In a batch's first hours (the cap period) no worker holds more than this share of its slots (at least "
        "one slot).",
    ),
    (
        "dispatch_cap_hours",
        "dispatch",
        "hours",
        "hours",
        0,
        168,
        24,
        "Cap period",
        "How long after publication the cap per worker applies.",
    ),
    (
        "dispatch_all_at_once_max_slots",
        "dispatch",
        "integer",
        "slots",
        0,
        1_000_000,
        100,
        "All at once, up to",
        "A batch of at most this many slots may open all at once, first come, first served (the requester's "
        "choice, shown on the feed); larger batches open in waves.",
    ),
]


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
    for spec in ADDED_CLASSES:
        RuleClass.objects.get_or_create(key=spec["key"], defaults=spec)
    for key, class_key, value_type, unit, low, high, value, name, description in ADDED_RULES:
        rule, created = Rule.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "description": description,
                "value_type": value_type,
                "unit": unit,
                "min_value": low,
                "max_value": high,
                "rule_class": RuleClass.objects.get(key=class_key),
            },
        )
        if created:
            RuleVersion.objects.create(rule=rule, value=value, effective_at=EFFECTIVE)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    keys = [row[0] for row in ADDED_RULES]
    apps.get_model("governance", "RuleVersion").objects.filter(rule__key__in=keys).delete()
    apps.get_model("governance", "Rule").objects.filter(key__in=keys).delete()
    apps.get_model("governance", "RuleClass").objects.filter(key__in=[c["key"] for c in ADDED_CLASSES]).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0012_data_report_rule")]
    operations = [migrations.RunPython(load, unload)]
