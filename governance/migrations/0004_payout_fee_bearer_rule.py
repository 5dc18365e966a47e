"""The governed rule of who bears payout rail fees (issue 21). Founding value: the co-op
(0). A later value is a RuleVersion appended by an adopted proposal, like every rule."""

from datetime import UTC, datetime

from django.db import migrations

FOUNDED = datetime(2026, 8, 1, tzinfo=UTC)


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
    rule = Rule.objects.create(
        key="payout_fee_workers_bear",
        name="Who bears payout fees",
        description="0: the co-op pays the payout rails' fees (PayPal, Stripe); 1: they are taken from "
        "the payout, shown to the worker before confirming.",
        value_type="boolean",
        unit="0 = the co-op, 1 = the worker",
        min_value=0,
        max_value=1,
        rule_class=RuleClass.objects.get(key="economic"),
    )
    RuleVersion.objects.create(rule=rule, value=0, effective_at=FOUNDED)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    Rule = apps.get_model("governance", "Rule")
    apps.get_model("governance", "RuleVersion").objects.filter(rule__key="payout_fee_workers_bear").delete()
    Rule.objects.filter(key="payout_fee_workers_bear").delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_proposals_ballots")]
    operations = [migrations.RunPython(load, unload)]
