# The tasks app's notices became inbox entries of the notifications app: each notice is
# copied (a requester's to every member of its staff) before the model goes.

from django.db import migrations

CATEGORY = {"fair_pay_top_up": "top_up", "fair_pay_top_up_owed": "top_up_owed"}


def copy_notices(apps, schema_editor):
    Notice = apps.get_model("tasks", "Notice")
    Notification = apps.get_model("notifications", "Notification")
    User = apps.get_model("accounts", "User")
    rows = []
    for notice in Notice.objects.select_related("batch", "organisation").order_by("id").iterator():
        batch = notice.batch
        if notice.kind == "requester_message":
            requester, _, rest = notice.message.partition(": ")
            subject, _, message = rest.partition("\n\n")
            category, params = "requester_message", {"requester": requester, "subject": subject, "message": message}
        else:
            category = "top_up_requester" if notice.organisation_id else CATEGORY.get(notice.kind, "top_up")
            params = {"batch": batch.title if batch else "", "batch_id": notice.batch_id, "message": notice.message}
        if notice.organisation_id:
            users = User.objects.filter(groups=notice.organisation.staff_group_id).values_list("pk", flat=True)
        else:
            users = [notice.user_id]
        for user_id in users:
            rows.append(
                Notification(
                    user_id=user_id,
                    category=category,
                    params=params,
                    organisation_id=notice.organisation_id,
                    email="none",
                )
            )
        if len(rows) >= 2000:
            Notification.objects.bulk_create(rows)
            rows = []
    Notification.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0004_fairness_engine"),
        ("notifications", "0001_inbox_settings_reminders_push"),
    ]

    operations = [
        migrations.RunPython(copy_notices, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notice"),
    ]
