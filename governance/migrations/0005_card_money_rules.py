"""Rules for card money (issue 19 points 9 and 14): how long card-funded balance may only go
back to its card, and the size of the reserve that covers card disputes a requester cannot."""

from django.db import migrations

FOUNDED_MODULE = "governance.migrations.0002_founding_rules"

# key, class, type, unit, min, max, founding value, name, description
RULES = [
    (
        "card_funds_holding_days",
        "economic",
        "days",
        "days",
        0,
        540,
        120,
        "Card money holding period",
        "Balance funded by card can leave only as a refund to that card until this many days after "
        "the payment (Stripe accepts card disputes for about 120 days); after that it may be "
        "withdrawn by bank transfer too.",
    ),
    (
        "card_dispute_reserve",
        "economic",
        "money",
        "minor units",
        0,
        100_000_000,
        500_000,
        "Card dispute reserve",
        "The most the co-op's reserve covers of card disputes a requester's balance cannot pay; "
        "workers' earnings are never touched.",
    ),
]


# Read by the tests' rule reload after a flush (tests/governance/factories.py), as 0004's are.
ADDED_RULES = RULES


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    import importlib

    founded = importlib.import_module(FOUNDED_MODULE).FOUNDED
    RuleClass = apps.get_model("governance", "RuleClass")
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
    for key, class_key, value_type, unit, low, high, value, name, description in RULES:
        rule_class = RuleClass.objects.filter(key=class_key).first()
        if rule_class is None or Rule.objects.filter(key=key).exists():
            continue
        rule = Rule.objects.create(
            key=key,
            name=name,
            description=description,
            value_type=value_type,
            unit=unit,
            min_value=low,
            max_value=high,
            rule_class=rule_class,
        )
        RuleVersion.objects.create(rule=rule, value=value, effective_at=founded)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    Rule = apps.get_model("governance", "Rule")
    keys = [row[0] for row in RULES]
    apps.get_model("governance", "RuleVersion").objects.filter(rule__key__in=keys).delete()
    Rule.objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0004_fairness_rules")]
    operations = [migrations.RunPython(load, unload)]
