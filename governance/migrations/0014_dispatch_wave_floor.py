"""Fair dispatch: waves sized by measured activity (issue 26). A wave's share of a batch's
slots follows how many workers who could take the batch were active in its hour over the
last seven days; the governed floor keeps a quiet hour's wave from being empty.

Written out here so this migration means the same thing forever; each later value is a
RuleVersion appended by an adopted proposal of the "dispatch" class.
"""

from datetime import UTC, datetime

from django.db import migrations

# The dispatch rule class's founding moment (0013): the floor is part of its founding rule.
EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "dispatch_wave_floor_bps",
        "dispatch",
        "basis_points",
        "basis points of the average wave",  # at most 40 characters (Rule.unit)
        0,
        10_000,
        2500,
        "Wave floor",
        "Each wave's share of the slots follows how many workers who could take the batch were active in its "
        "hour over the last 7 days; a quiet hour's wave counts at least this share of the average wave, so no "
        "wave is empty. With no activity measured, the waves are equal.",
    ),
]

# dispatch_waves said each wave releases an equal share; now it says only what stays true
# (the wave floor's description says how shares are set), as ``core.labels`` shows it.
WAVES_DESCRIPTION = "How many waves the period is cut into; what a wave does not give rolls over to the next one."
OLD_WAVES_DESCRIPTION = (
    "How many waves the period is cut into; each releases an equal share of the slots, plus what earlier "
    "waves did not give."
)


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
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
    Rule.objects.filter(key="dispatch_waves").update(description=WAVES_DESCRIPTION)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    keys = [row[0] for row in ADDED_RULES]
    apps.get_model("governance", "RuleVersion").objects.filter(rule__key__in=keys).delete()
    apps.get_model("governance", "Rule").objects.filter(key__in=keys).delete()
    apps.get_model("governance", "Rule").objects.filter(key="dispatch_waves").update(description=OLD_WAVES_DESCRIPTION)


class Migration(migrations.Migration):
    dependencies = [("governance", "0013_dispatch_rules")]
    operations = [migrations.RunPython(load, unload)]
