"""What the notification service holds about a person, for export and erasure
(``accounts.personal_data``): their inbox, their e-mail choices, language and time zone,
the browsers they subscribed for push alerts, and whether their address was suppressed.

Erasure deletes all of it: none of it backs the ledger or the audit trail (the audit rows
of preference changes stay, with their targets). Entries in *other* people's inboxes that
name the person (an invitation they sent names them as the inviter) have the name replaced
by the erasure label.
"""

from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from accounts.models import User
from accounts.personal_data import Erasure, PersonalDataSection, personal_data_register
from notifications.models import (
    DigestSent,
    EmailSuppression,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushSubscription,
    ReminderSent,
)
from notifications.reading import forget_reading_choice


def _export(user: User) -> dict[str, Any]:
    settings = NotificationSettings.objects.filter(user=user).first()
    return {
        "inbox": list(
            Notification.objects.filter(user=user)
            .order_by("id")
            .values("id", "category", "params", "url", "organisation__slug", "created_at", "read_at", "email")
        ),
        "email_preferences": list(
            NotificationPreference.objects.filter(user=user).order_by("category").values("category", "email")
        ),
        "settings": None
        if settings is None
        else {"language": settings.language, "time_zone": settings.time_zone, "mail_problem": settings.mail_problem},
        "push_subscriptions": list(
            PushSubscription.objects.filter(user=user).order_by("id").values("endpoint", "created_at")
        ),
        "reminders_sent": list(
            ReminderSent.objects.filter(user=user).order_by("id").values("key", "window", "sent_at")
        ),
        "digests_sent": list(
            DigestSent.objects.filter(user=user).order_by("id").values("local_date", "notifications", "sent_at")
        ),
        "email_suppressed": list(
            EmailSuppression.objects.filter(address__iexact=user.email).values("reason", "created_at")
        ),
    }


def _erase(user: User, erasure: Erasure) -> None:
    Notification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    NotificationSettings.objects.filter(user=user).delete()
    forget_reading_choice(user_id=user.pk)
    PushSubscription.objects.filter(user=user).delete()
    ReminderSent.objects.filter(user=user).delete()
    DigestSent.objects.filter(user=user).delete()
    if user.email:
        EmailSuppression.objects.filter(address__iexact=user.email).delete()
    # Other people's entries that name the person. Erasure is rare: a scan of the params'
    # text is acceptable here, and it narrows the rows before each is scrubbed in Python.
    mentions = Q()
    for identifier in erasure.identifiers:
        if identifier:
            mentions |= Q(params_text__icontains=identifier)
    if not mentions:
        return
    rows = Notification.objects.annotate(params_text=Cast("params", TextField())).filter(mentions)
    for entry in rows.only("pk", "params").iterator(chunk_size=500):
        scrubbed = erasure.scrub_json(entry.params)
        if scrubbed != entry.params:
            Notification.objects.filter(pk=entry.pk).update(params=scrubbed)


personal_data_register(PersonalDataSection(name="notifications", export=_export, erase=_erase))
