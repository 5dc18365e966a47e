"""Rules of the fairness engine (issues 19 and 20): who counts as a requester's staff,
how the fair-pay median is measured, the clock a worker works against, the mass-rejection
guard's distinct-worker threshold, paid qualification tests, the auto-approval maximum and
how long a former name shows on the feed.

Like the founding rules, the data is written out here so this migration means the same
thing forever; each later value is a RuleVersion appended by an adopted proposal.
"""

from datetime import UTC, datetime

from django.db import migrations

EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "former_staff_days",
        "operational",
        "days",
        "days",
        0,
        3650,
        180,
        "Former staff",
        "A person who left a requester's staff counts as its staff for this many days: they cannot accept its "
        "tasks, rate it, or sit on its cases, and their work is not measured for its fair-pay review.",
    ),
    (
        "fair_pay_fast_share_bps",
        "economic",
        "basis_points",
        "basis points of the median",
        0,
        9000,
        2500,
        "Implausibly fast work",
        "In the fair-pay review, work done faster than this share of the good-faith median is left out of the "
        "measured median (see the formula on the rules page).",
    ),
    (
        "time_allotted_headroom_bps",
        "operational",
        "basis_points",
        "basis points of the measured time",
        10_000,
        50_000,
        15_000,
        "Time allotted headroom",
        "When a live batch's measured median work time times this ratio passes its time allotted, the time "
        "allotted of its open and accepted slots grows to it.",
    ),
    (
        "late_submission_grace_minutes",
        "operational",
        "integer",
        "minutes",
        0,
        120,
        5,
        "Late submission grace",
        "A submission arriving this long after its time allotted ended is accepted and paid like any other.",
    ),
    (
        "mass_rejection_min_workers",
        "dispute_procedure",
        "integer",
        "distinct workers",
        3,
        10_000,
        3,
        "Mass-rejection workers",
        "The guard triggers on a batch only when the requester rejected work of at least this many distinct "
        "workers in it within the period (and their share of the batch's workers reaches the mass-rejection "
        "share); rejecting the work of one or two workers never triggers it.",
    ),
    (
        "qualification_test_free_minutes",
        "economic",
        "integer",
        "minutes",
        0,
        60,
        2,
        "Unpaid qualification test length",
        "A qualification test estimated longer than this is paid at the minimum hourly wage by the requester, "
        "escrowed when a worker starts it.",
    ),
    (
        "auto_approval_hours_max",
        "operational",
        "hours",
        "hours",
        1,
        720,
        168,
        "Auto-approval maximum",
        "The longest auto-approval window a requester may set on a batch.",
    ),
    (
        "former_name_days",
        "operational",
        "days",
        "days",
        0,
        3650,
        365,
        "Former names shown",
        "A requester renamed within this many days shows its earlier name on every task card.",
    ),
]

# The guard's existing rules, re-described for the distinct-worker test (limits unchanged
# except the count's minimum: one or two workers are never a mass).
REDESCRIBED = {
    "mass_rejection_share_bps": (
        None,
        "Share of a batch's distinct workers (decided in the period) whose work the requester rejected that, with "
        "the mass-rejection workers count, freezes those rejections and opens one case.",
    ),
    "mass_rejection_min_count": (
        3,
        "Number of distinct workers a requester rejected across its batches in the period that triggers the guard "
        "whatever the share.",
    ),
}


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
    if not RuleClass.objects.exists():
        return  # an empty database (tests that flush reload the rules themselves)
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
    for key, (low, description) in REDESCRIBED.items():
        changes = {"description": description}
        if low is not None:
            changes["min_value"] = low
        Rule.objects.filter(key=key).update(**changes)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
    keys = [row[0] for row in ADDED_RULES]
    # Historical models carry none of the model's refusals: a rollback may remove them.
    RuleVersion.objects.filter(rule__key__in=keys).delete()
    Rule.objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_proposals_ballots")]
    operations = [migrations.RunPython(load, unload)]
