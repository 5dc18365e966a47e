"""Proposals, comments, voter rolls and ballots; rule versions point to the
proposal that adopted them; pass thresholds become exact fractions.

The founding bylaws class said "two-thirds majority" as 6667 basis points,
which refuses exactly two thirds (2 yes, 1 no). A fraction keeps the founders'
meaning: bylaws pass with at least 2/3 of the decisive ballots.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def thresholds_to_fractions(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    for rule_class in RuleClass.objects.all():
        if rule_class.key == "bylaws":
            rule_class.threshold_numerator, rule_class.threshold_denominator = 2, 3
        else:
            rule_class.threshold_numerator, rule_class.threshold_denominator = rule_class.threshold_bps, 10_000
        rule_class.save(update_fields=["threshold_numerator", "threshold_denominator"])


def fractions_to_thresholds(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    for rule_class in RuleClass.objects.all():
        rule_class.threshold_bps = -(-rule_class.threshold_numerator * 10_000 // rule_class.threshold_denominator)
        rule_class.save(update_fields=["threshold_bps"])


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0002_founding_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ruleclass", name="threshold_numerator", field=models.PositiveIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="ruleclass", name="threshold_denominator", field=models.PositiveIntegerField(default=1)
        ),
        # A default, so that unapplying the removal below can re-add the column.
        migrations.AlterField(
            model_name="ruleclass", name="threshold_bps", field=models.PositiveIntegerField(default=0)
        ),
        migrations.RunPython(thresholds_to_fractions, fractions_to_thresholds),
        migrations.RemoveField(model_name="ruleclass", name="threshold_bps"),
        migrations.AlterField(model_name="ruleclass", name="threshold_numerator", field=models.PositiveIntegerField()),
        migrations.AlterField(
            model_name="ruleclass", name="threshold_denominator", field=models.PositiveIntegerField()
        ),
        migrations.AddConstraint(
            model_name="ruleclass",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("threshold_denominator__gt", 0), ("threshold_numerator__lte", models.F("threshold_denominator"))
                ),
                name="rule_class_threshold_is_a_fraction",
            ),
        ),
        migrations.CreateModel(
            name="Proposal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("rule_change", "Rule Change"), ("policy", "Policy"), ("bylaw", "Bylaw")],
                        max_length=16,
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("discussion", "Discussion"),
                            ("voting", "Voting"),
                            ("adopted", "Adopted"),
                            ("rejected", "Rejected"),
                            ("failed_quorum", "Failed Quorum"),
                            ("scheduled", "Scheduled"),
                            ("in_effect", "In Effect"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        db_index=True,
                        default="draft",
                        max_length=16,
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField()),
                ("proposed_value", models.BigIntegerField(blank=True, null=True)),
                ("class_parameters", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("discussion_started_at", models.DateTimeField(blank=True, null=True)),
                ("discussion_ends_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("voting_opened_at", models.DateTimeField(blank=True, null=True)),
                ("voting_closes_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("effective_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("in_effect_at", models.DateTimeField(blank=True, null=True)),
                ("quorum_bps", models.PositiveIntegerField(blank=True, null=True)),
                ("threshold_numerator", models.PositiveIntegerField(blank=True, null=True)),
                ("threshold_denominator", models.PositiveIntegerField(blank=True, null=True)),
                ("threshold_inclusive", models.BooleanField(blank=True, null=True)),
                ("notice_days", models.PositiveIntegerField(blank=True, null=True)),
                ("secret_ballot", models.BooleanField(blank=True, null=True)),
                ("roll_size", models.PositiveIntegerField(blank=True, null=True)),
                ("yes_count", models.PositiveIntegerField(blank=True, null=True)),
                ("no_count", models.PositiveIntegerField(blank=True, null=True)),
                ("abstain_count", models.PositiveIntegerField(blank=True, null=True)),
                ("quorum_met", models.BooleanField(blank=True, null=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proposals",
                        to="governance.rule",
                    ),
                ),
                (
                    "rule_class",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="proposals", to="governance.ruleclass"
                    ),
                ),
                (
                    "target_class",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="amending_proposals",
                        to="governance.ruleclass",
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="Comment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("body", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="replies",
                        to="governance.comment",
                    ),
                ),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="comments", to="governance.proposal"
                    ),
                ),
            ],
            options={"ordering": ["created_at", "id"]},
        ),
        migrations.CreateModel(
            name="VoterRollEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("voted", models.BooleanField(default=False)),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="roll", to="governance.proposal"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("proposal", "user"), name="one_roll_entry_per_member")],
            },
        ),
        migrations.CreateModel(
            name="Ballot",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("receipt", models.CharField(blank=True, max_length=64, null=True)),
                (
                    "choice",
                    models.CharField(choices=[("yes", "Yes"), ("no", "No"), ("abstain", "Abstain")], max_length=8),
                ),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="ballots", to="governance.proposal"
                    ),
                ),
                (
                    "voter",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["proposal", "choice"], name="governance__proposa_429cc1_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("voter__isnull", False)),
                        fields=("proposal", "voter"),
                        name="one_open_ballot_per_voter",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("receipt__isnull", False)),
                        fields=("proposal", "receipt"),
                        name="one_secret_ballot_per_receipt",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("receipt__isnull", True), ("voter__isnull", False)),
                            models.Q(("receipt__isnull", False), ("voter__isnull", True)),
                            _connector="OR",
                        ),
                        name="ballot_is_open_or_secret",
                    ),
                ],
            },
        ),
        # The founding versions have no proposal (all null), so the plain
        # integer column can be replaced by a real foreign key without loss.
        migrations.RemoveField(model_name="ruleversion", name="adopted_by_proposal_id"),
        migrations.AddField(
            model_name="ruleversion",
            name="adopted_by_proposal",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="adopted_versions",
                to="governance.proposal",
            ),
        ),
    ]
