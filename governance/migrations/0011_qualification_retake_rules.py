"""Governed retakes of qualification tests (issue 27.4): how long a worker waits before taking
a failed test again, and how many attempts a test allows. Written out like the founding rules;
a later value is a RuleVersion appended by an adopted proposal."""

from datetime import UTC, datetime

from django.db import migrations

EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "qualification_retake_cooldown_hours",
        "operational",
        "hours",
        "hours",
        1,
        720,
        24,
        "Qualification test retake wait",
        "After a failed qualification test, a worker may take it again once this many hours have passed, so an "
        "answer key cannot be found by guessing in a row.",
    ),
    (
        "qualification_test_max_attempts",
        "operational",
        "integer",
        "attempts",
        1,
        20,
        3,
        "Qualification test attempts",
        "How many times a worker may take one qualification test in all (the first attempt included).",
    ),
]


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


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    keys = [row[0] for row in ADDED_RULES]
    apps.get_model("governance", "RuleVersion").objects.filter(rule__key__in=keys).delete()
    apps.get_model("governance", "Rule").objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0010_dividends")]
    operations = [migrations.RunPython(load, unload)]
