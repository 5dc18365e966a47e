"""The inbox, each person's notification settings, suppressed addresses, reminders sent and
Web Push subscriptions."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from notifications.categories import EMAIL_MODES


class Notification(models.Model):
    """One inbox entry. Its words are rendered from ``category`` and ``params`` when read."""

    class Email(models.TextChoices):
        NONE = "none"  # no e-mail for this entry (turned off, or inbox-only alert)
        PENDING = "pending"  # an immediate e-mail is queued
        DIGEST = "digest"  # waits for the person's daily digest
        SENT = "sent"
        SUPPRESSED = "suppressed"  # the address bounced or complained

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    category = models.CharField(max_length=40)
    params = models.JSONField(default=dict)
    # The page of the thing concerned (relative to the site).
    url = models.CharField(max_length=300, blank=True)
    # Set when the notification concerns a requester organisation (the notices list of its staff).
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.NONE)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The inbox page, newest first.
            models.Index(fields=["user", "-id"], name="notification_inbox"),
            # The unread count in the menu: an index-only count of a person's unread rows.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
            # The mail jobs' work lists.
            models.Index(
                fields=["email", "id"], condition=Q(email__in=["pending", "digest"]), name="notification_mail"
            ),
        ]


class NotificationPreference(models.Model):
    """How a person wants one category's e-mail: at once, in a daily digest, or not at all."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=40)
    email = models.CharField(max_length=10, choices=[(mode, mode) for mode in EMAIL_MODES])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="one_preference_per_category")]


class NotificationSettings(models.Model):
    """A person's language and time zone: the pages they see (``notifications.middleware``),
    their notifications and their e-mails are all written in them. Chosen at registration and
    in the account's settings; an empty language means "not chosen": the browser's is used."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=10, blank=True, default="")
    time_zone = models.CharField(max_length=60, default="UTC")
    # Set when the provider reported a bounce or complaint and the person has not seen it yet.
    mail_problem = models.CharField(max_length=20, blank=True)

    @property
    def reading_language(self) -> str:
        """The language to write to this person in when no browser is there to ask."""
        return self.language or settings.LANGUAGE_CODE


class EmailSuppression(models.Model):
    """An address the provider bounced or that complained: no more mail goes to it."""

    address = models.EmailField(unique=True)
    reason = models.CharField(max_length=20)  # "bounced" | "complained"
    provider_event_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class ReminderSent(models.Model):
    """One reminder before one deadline: the unique constraint makes it go out once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)  # the deadline, e.g. "case:12:response:2026-12-06T10:00"
    window = models.CharField(max_length=4)  # "24h" | "2h"
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key", "window"], name="one_reminder_per_window")]


class DigestSent(models.Model):
    """A person's daily digest for one local date: sent once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    notifications = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "local_date"], name="one_digest_per_day")]


class PushSubscription(models.Model):
    """A browser's Web Push subscription (the worker allowed notifications in that browser)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
