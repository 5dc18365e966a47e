"""Mail, digests, reminders and Web Push, run by Celery."""

import logging
from datetime import date, datetime, timedelta
from typing import Any

from celery import shared_task
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import User
from core.moments import zone
from notifications import emails, push, reminders
from notifications.models import (
    DigestSent,
    EmailSuppression,
    Notification,
    NotificationSettings,
    PushSubscription,
)
from notifications.render import words

logger = logging.getLogger(__name__)

DIGEST_HOUR = 7  # local time
BATCH = 500


def _prefs(user_ids: list[int]) -> dict[int, NotificationSettings]:
    found = {s.user_id: s for s in NotificationSettings.objects.filter(user_id__in=user_ids)}
    return {uid: found.get(uid) or NotificationSettings(user_id=uid) for uid in user_ids}


def _suppressed(addresses: list[str]) -> set[str]:
    lowered = [a.lower() for a in addresses]
    return set(EmailSuppression.objects.filter(address__in=lowered).values_list("address", flat=True))


@shared_task(name="notifications.jobs.send_emails")
def send_emails(first_id: int, last_id: int) -> int:
    """Sends the immediate e-mails among entries ``first_id..last_id``. Each entry is claimed
    (pending -> sent) before its message goes, so a retried job sends nothing twice; a
    message the server refuses puts its entry back to pending for the next run."""
    connection = get_connection()
    try:
        return _send_range(first_id, last_id, connection)
    finally:
        connection.close()


@shared_task(name="notifications.jobs.resend_pending")
def resend_pending() -> int:
    """Sends immediate e-mails still pending five minutes on (the server refused them, or the
    job that should have sent them was lost)."""
    stale = Notification.objects.filter(
        email=Notification.Email.PENDING, created_at__lt=timezone.now() - timedelta(minutes=5)
    )
    span = stale.aggregate(first=Min("pk"), last=Max("pk"))
    if span["first"] is None:
        return 0
    return int(send_emails(span["first"], span["last"]))


def _send_range(cursor: int, last_id: int, connection: Any) -> int:
    sent = 0
    while cursor <= last_id:
        batch = list(
            Notification.objects.filter(pk__gte=cursor, pk__lte=last_id, email=Notification.Email.PENDING)
            .select_related("user")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        cursor = batch[-1].pk + 1
        prefs = _prefs([n.user_id for n in batch])
        blocked = _suppressed([n.user.email for n in batch])
        for notification in batch:
            if notification.user.email.lower() in blocked or not notification.user.email:
                Notification.objects.filter(pk=notification.pk).update(email=Notification.Email.SUPPRESSED)
                continue
            claimed = Notification.objects.filter(pk=notification.pk, email=Notification.Email.PENDING).update(
                email=Notification.Email.SENT, emailed_at=timezone.now()
            )
            if not claimed:
                continue
            message = emails.notification_email(
                notification=notification, user=notification.user, prefs=prefs[notification.user_id]
            )
            message.connection = connection
            try:
                message.send()
                sent += 1
            except Exception:
                logger.exception("notification e-mail %s failed", notification.pk)
                Notification.objects.filter(pk=notification.pk).update(
                    email=Notification.Email.PENDING, emailed_at=None
                )
    return sent


def digests_send(*, now: datetime) -> int:
    """Sends each person whose local time is the digest hour one e-mail with every entry kept
    for their digest; once per local date (``DigestSent``)."""
    sent = 0
    user_ids = list(
        Notification.objects.filter(email=Notification.Email.DIGEST).values_list("user_id", flat=True).distinct()
    )
    prefs = _prefs(user_ids)
    connection = get_connection()
    for user_id in user_ids:
        local = timezone.localtime(now, zone(prefs[user_id].time_zone))
        if local.hour != DIGEST_HOUR:
            continue
        try:
            sent += _digest_one(user_id, prefs[user_id], local.date(), now, connection)
        except Exception:
            logger.exception("digest for user %s failed", user_id)
    return sent


def _digest_one(user_id: int, prefs: NotificationSettings, local_date: date, now: datetime, connection: Any) -> int:
    user = User.objects.get(pk=user_id)
    with transaction.atomic():
        entries = list(
            Notification.objects.select_for_update()
            .filter(user_id=user_id, email=Notification.Email.DIGEST)
            .order_by("pk")
        )
        if not entries:
            return 0
        if user.email.lower() in _suppressed([user.email]):
            Notification.objects.filter(pk__in=[e.pk for e in entries]).update(email=Notification.Email.SUPPRESSED)
            return 0
        try:
            with transaction.atomic():
                DigestSent.objects.create(user_id=user_id, local_date=local_date, notifications=len(entries))
        except IntegrityError:
            return 0
        Notification.objects.filter(pk__in=[e.pk for e in entries]).update(
            email=Notification.Email.SENT, emailed_at=now
        )
        message = emails.digest_email(user=user, prefs=prefs, entries=entries)
        message.connection = connection
        # A refused message rolls the claim back; the entries wait for the next day's digest.
        message.send()
    return 1


@shared_task(name="notifications.jobs.send_digests")
def send_digests() -> int:
    return digests_send(now=timezone.now())


@shared_task(name="notifications.jobs.send_reminders")
def send_reminders() -> int:
    return reminders.reminders_send(now=timezone.now())


@shared_task(name="notifications.jobs.send_push")
def send_push(first_id: int, last_id: int) -> int:
    """Web Push for entries ``first_id..last_id`` to each person's subscribed browsers."""
    if not push.push_configured():
        return 0
    sent = 0
    rows = Notification.objects.filter(pk__gte=first_id, pk__lte=last_id).order_by("pk")
    for notification in rows.iterator(chunk_size=BATCH):
        subscriptions = list(PushSubscription.objects.filter(user_id=notification.user_id))
        if not subscriptions:
            continue
        prefs = _prefs([notification.user_id])[notification.user_id]
        shown = words(
            category=notification.category,
            params=notification.params,
            language=prefs.reading_language,
            time_zone=prefs.time_zone,
        )
        payload = {"title": shown.title, "body": shown.body, "url": emails.site_link(f"/inbox/{notification.pk}/")}
        for subscription in subscriptions:
            sent += push.push_send(subscription=subscription, payload=payload)
    return sent
