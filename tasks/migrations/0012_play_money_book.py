"""The sandbox's play-money book (issue 24.6): ``PlayBook`` and its append-only
``PlayTransfer`` rows (on PostgreSQL a trigger refuses their UPDATE and DELETE, as for the
ledger's transfers)."""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models

CREATE = """
CREATE FUNCTION tasks_playtransfer_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'play-money transfers are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tasks_playtransfer_append_only
    BEFORE UPDATE OR DELETE ON tasks_playtransfer
    FOR EACH ROW EXECUTE FUNCTION tasks_playtransfer_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS tasks_playtransfer_append_only ON tasks_playtransfer;
DROP FUNCTION IF EXISTS tasks_playtransfer_append_only();
"""


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_worker_introduction"),
        ("tasks", "0011_batch_sandbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PlayBook",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("currency", models.CharField(max_length=3)),
                ("issued", models.BigIntegerField(default=0)),
                ("available", models.BigIntegerField(default=0)),
                ("held", models.BigIntegerField(default=0)),
                ("paid", models.BigIntegerField(default=0)),
                ("fees", models.BigIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "organisation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="play_book",
                        to="accounts.organisation",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="PlayTransfer",
            fields=[
                ("id", models.CharField(max_length=200, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("issue", "Issue"),
                            ("reserve", "Reserve"),
                            ("post", "Post"),
                            ("void", "Void"),
                            ("bonus", "Bonus"),
                        ],
                        max_length=8,
                    ),
                ),
                ("amount", models.BigIntegerField()),
                ("fee_part", models.BigIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "book",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="transfers", to="tasks.playbook"
                    ),
                ),
                (
                    "pending",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="resolution",
                        to="tasks.playtransfer",
                    ),
                ),
                (
                    "worker",
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
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="playbook",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("available__gte", 0), ("fees__gte", 0), ("held__gte", 0), ("issued__gte", 0), ("paid__gte", 0)
                ),
                name="play_book_totals_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="playbook",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "issued",
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                django.db.models.expressions.CombinedExpression(
                                    models.F("available"), "+", models.F("held")
                                ),
                                "+",
                                models.F("paid"),
                            ),
                            "+",
                            models.F("fees"),
                        ),
                    )
                ),
                name="play_book_balanced",
            ),
        ),
        migrations.AddIndex(
            model_name="playtransfer",
            index=models.Index(fields=["book", "kind"], name="tasks_playt_book_id_0e15c0_idx"),
        ),
        migrations.AddConstraint(
            model_name="playtransfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="play_transfer_amount_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="playtransfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("fee_part__gte", 0), ("fee_part__lte", models.F("amount"))),
                name="play_transfer_fee_part_in_amount",
            ),
        ),
        migrations.AddConstraint(
            model_name="playtransfer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind__in", ["issue", "reserve", "bonus"]), ("pending__isnull", True)),
                    models.Q(("kind__in", ["post", "void"]), ("pending__isnull", False)),
                    _connector="OR",
                ),
                name="play_transfer_resolves_iff_pending",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
