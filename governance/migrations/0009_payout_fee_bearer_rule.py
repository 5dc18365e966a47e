"""The governed rule of who bears payout rail fees (issue 21). Founding value: the co-op
(0). A later value is a RuleVersion appended by an adopted proposal, like every rule."""

from datetime import UTC, datetime

from django.db import migrations

EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "payout_fee_workers_bear",
        "economic",
        "boolean",
        "0 = the co-op, 1 = the worker",
        0,
        1,
        0,
        "Who bears payout fees",
        "0: the co-op pays the payout rails' fees (PayPal, Stripe, Wise); 1: they are taken from the payout, "
        "shown to the worker before confirming.",
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
    dependencies = [("governance", "0008_payout_destination_hold_rule")]
    operations = [migrations.RunPython(load, unload)]
