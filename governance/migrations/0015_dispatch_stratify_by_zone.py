"""Fair dispatch: each wave's draw stratified by time zone (issue 26). The wave's slots are
first shared among its applicants' time zones in proportion to their lottery weights, then
drawn within each; founding value: on. Batches published before it record the rule without
this value and keep the unstratified lottery.

Written out here so this migration means the same thing forever; each later value is a
RuleVersion appended by an adopted proposal of the "dispatch" class.
"""

from datetime import UTC, datetime

from django.db import migrations

# The dispatch rule class's founding moment (0013): part of its founding rule. A batch
# published before this migration ran recorded its rule without this value and keeps the
# unstratified lottery (what a batch records at publication is what its draws follow).
EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "dispatch_stratify_by_zone",
        "dispatch",
        "boolean",
        "0 = no, 1 = yes",  # at most 40 characters (Rule.unit)
        0,
        1,
        1,
        "Draw by time zone",
        "Each wave's slots are first shared among the time zones of its applicants in proportion to their "
        "lottery weights, then drawn by lot within each zone, so that luck does not favour one zone; each "
        "applicant's UTC offset hour is published with the draw so anyone can re-run it.",
    ),
]


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


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    keys = [row[0] for row in ADDED_RULES]
    apps.get_model("governance", "RuleVersion").objects.filter(rule__key__in=keys).delete()
    apps.get_model("governance", "Rule").objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0014_dispatch_wave_floor")]
    operations = [migrations.RunPython(load, unload)]
