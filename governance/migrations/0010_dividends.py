"""Patronage dividends (issue 28): the proposal kind, the dividend and its shares, and the
two governed rules of the formula. Founding values: a fifth of the net kept as reserve;
bonuses and top-ups count as patronage."""

from datetime import UTC, datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

EFFECTIVE = datetime(2026, 8, 1, tzinfo=UTC)

# key, class, type, unit, min, max, founding value, name, description (the 0002 layout)
ADDED_RULES = [
    (
        "dividend_reserve_bps",
        "economic",
        "basis_points",
        "basis points of the net surplus",
        0,
        10_000,
        2000,
        "Reserve before a dividend",
        "Share of a period's net (fees earned minus rail fees and juror pay) kept as the co-op's reserve; "
        "only the rest can be shared out as a patronage dividend.",
    ),
    (
        "dividend_bonuses_count",
        "economic",
        "boolean",
        "1 = with bonuses and top-ups",
        0,
        1,
        1,
        "Bonuses count as patronage",
        "1: a member's patronage is their work pay plus bonuses and fair-pay top-ups in the period; "
        "0: their work pay only.",
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
    dependencies = [
        ("governance", "0009_payout_fee_bearer_rule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(load, unload),
        migrations.AddField(
            model_name="proposal",
            name="dividend_amount",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="proposal",
            name="dividend_period_end",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="proposal",
            name="dividend_period_start",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="proposal",
            name="kind",
            field=models.CharField(
                choices=[
                    ("rule_change", "Rule Change"),
                    ("policy", "Policy"),
                    ("bylaw", "Bylaw"),
                    ("appointment", "Appointment"),
                    ("dividend", "Dividend"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="Dividend",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("period_start", models.DateField()),
                ("period_end", models.DateField()),
                ("currency", models.CharField(max_length=3)),
                ("fees_earned", models.BigIntegerField()),
                ("rail_fees", models.BigIntegerField()),
                ("juror_pay", models.BigIntegerField()),
                ("reserve_bps", models.PositiveIntegerField()),
                ("reserve", models.BigIntegerField()),
                ("surplus", models.BigIntegerField()),
                ("amount", models.BigIntegerField()),
                ("bonuses_count", models.BooleanField()),
                ("total_patronage", models.BigIntegerField()),
                ("rule_versions", models.JSONField(default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "proposal",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="dividend", to="governance.proposal"
                    ),
                ),
            ],
            options={
                "ordering": ["-period_end", "-id"],
            },
        ),
        migrations.CreateModel(
            name="DividendAllocation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("patronage", models.BigIntegerField()),
                ("amount", models.BigIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[("owed", "Owed"), ("paid", "Paid")], db_index=True, default="owed", max_length=8
                    ),
                ),
                ("transfer_id", models.CharField(blank=True, max_length=200)),
                ("paid_at", models.DateTimeField(blank=True, null=True)),
                (
                    "dividend",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="allocations",
                        to="governance.dividend",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dividend_allocations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["dividend_id", "user_id"],
            },
        ),
        migrations.AddConstraint(
            model_name="dividend",
            constraint=models.UniqueConstraint(fields=("period_start", "period_end"), name="one_dividend_per_period"),
        ),
        migrations.AddConstraint(
            model_name="dividend",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="dividend_amount_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="dividend",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__lte", models.F("surplus"))), name="dividend_within_surplus"
            ),
        ),
        migrations.AddConstraint(
            model_name="dividendallocation",
            constraint=models.UniqueConstraint(
                fields=("dividend", "user"), name="one_allocation_per_member_and_dividend"
            ),
        ),
        migrations.AddConstraint(
            model_name="dividendallocation",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="dividend_allocation_not_negative"
            ),
        ),
    ]
