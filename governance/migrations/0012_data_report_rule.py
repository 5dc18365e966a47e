"""The governed deadline of the end-of-batch data report (issue 28 point 2). Founding value:
30 days after the batch closes. A later value is a RuleVersion appended by an adopted
proposal, like every rule."""

from datetime import UTC, datetime

from django.db import migrations

EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "data_report_days",
        "operational",
        "days",
        "days",
        1,
        365,
        30,
        "End-of-batch data report deadline",
        "Days after a batch closes within which its requester reports to the workers what the data was used "
        "for; a report not filed in time is marked on the requester's public page.",
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
    dependencies = [("governance", "0011_qualification_retake_rules")]
    operations = [migrations.RunPython(load, unload)]
