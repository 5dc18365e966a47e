"""Celery jobs of the MTurk endpoint: notification collection and delivery."""

from celery import shared_task

from core.runner import run_each
from mturk import notifications


@shared_task(name="mturk.jobs.collect_notifications")
def collect_notifications() -> int:
    """Queues deliveries for new events and retries failed ones whose time has come."""
    queued = notifications.notifications_collect()
    due = [(pk, None) for pk in notifications.notifications_due()]
    run_each("mturk.jobs.collect_notifications", due, lambda pk: deliver_notification.delay(pk), atomic=False)
    return queued


@shared_task(name="mturk.jobs.deliver_notification")
def deliver_notification(delivery_id: int) -> bool:
    return notifications.notification_deliver(delivery_id=delivery_id)
