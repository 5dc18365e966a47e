"""Juror fees are owed with the decision and paid by a job (issue 29): ``Juror.fee_owed``.
Fees paid before this migration (in the decision's transaction) are recorded as owed and
paid, with the fee their case ran under, so the record is the same for every juror."""

from django.db import migrations, models


def record_paid_fees(apps, schema_editor):  # type: ignore[no-untyped-def]
    Juror = apps.get_model("disputes", "Juror")
    for juror in Juror.objects.exclude(fee_transfer_id="").select_related("case").iterator():
        fee = juror.case.rule_versions.get("juror_fee", {}).get("value", 0)
        if fee > 0:
            Juror.objects.filter(pk=juror.pk).update(fee_owed=fee)


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0002_per_worker_mass_decisions"),
    ]

    operations = [
        migrations.AddField(
            model_name="juror",
            name="fee_owed",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(record_paid_fees, migrations.RunPython.noop),
    ]
