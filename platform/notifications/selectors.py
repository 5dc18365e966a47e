"""Reads of the inbox (always the signed-in person's own entries) and of a person's clock."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import QuerySet

from accounts.models import User
from core.errors import NotFound
from core.moments import moment_text
from notifications.models import Notification, NotificationSettings
from notifications.reading import reading_choice

STATUS_SECONDS = 60


def status_cache_key(user_id: int) -> str:
    return f"notifications:status:{user_id}"


@dataclass(frozen=True)
class InboxStatus:
    unread: int
    # "bounced" or "complained" while the person has not seen the warning; else "".
    mail_problem: str


def inbox_status(*, user: User) -> InboxStatus:
    """The menu's unread count and the mail-problem warning: one count over the partial
    ``notification_unread`` index, cached for a minute and dropped whenever it changes."""
    key = status_cache_key(user.pk)
    cached = cache.get(key)
    if cached is not None:
        return InboxStatus(*cached)
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    problem = NotificationSettings.objects.filter(user=user).values_list("mail_problem", flat=True).first() or ""
    cache.set(key, (unread, problem), STATUS_SECONDS)
    return InboxStatus(unread, problem)


def inbox_for_user(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user=user).order_by("-id")
    return rows.filter(read_at__isnull=True) if unread_only else rows


def access_notification(*, user: User, notification_id: int) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotFound("notification")
    return notification


def settings_for(*, user: User) -> NotificationSettings:
    found = NotificationSettings.objects.filter(user=user).first()
    return found or NotificationSettings(user=user)


def moment_for(*, user: User, moment: datetime, deadline: bool = False) -> str:
    """``moment`` in ``user``'s own time zone with the zone named (``core.moments``), written
    in the active language: the one the message around it is in. For refusals a service
    writes to the person acting, wherever they call from (page, API with a key, a job)."""
    _language, time_zone = reading_choice(user_id=user.pk)  # cached: read once by the request already
    return moment_text(moment, time_zone=time_zone, deadline=deadline)
