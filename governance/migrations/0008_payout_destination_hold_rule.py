"""A founding rule added after the founding: how long the first payout to a new payout
destination waits, so that a person whose account was taken over can cancel it.

Founding value 48 hours (issue 19). Later values come only from adopted proposals.
"""

from datetime import UTC, datetime

from django.db import migrations

FOUNDED = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (as in 0002)
RULES = [
    (
        "payout_destination_hold_hours",
        "economic",
        "hours",
        "hours",
        0,
        720,
        48,
        "Hold on a new payout destination",
        "A payout to a destination added or changed less than this long ago waits until the "
        "destination is this old; meanwhile the person, told by e-mail, can cancel it.",
    ),
]
# Read by the tests' reload of rules after a flush (tests/governance/factories.py).
ADDED_RULES = RULES


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
    for key, class_key, value_type, unit, low, high, value, name, description in RULES:
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
            RuleVersion.objects.create(rule=rule, value=value, effective_at=FOUNDED)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    keys = [row[0] for row in RULES]
    apps.get_model("governance", "RuleVersion").objects.filter(rule__key__in=keys).delete()
    apps.get_model("governance", "Rule").objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0007_secret_ballot_voter_binding")]
    operations = [migrations.RunPython(load, unload)]
