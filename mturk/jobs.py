"""Celery jobs of the MTurk endpoint: notification collection and delivery."""

from celery import shared_task

from mturk import notifications


@shared_task(name="mturk.jobs.collect_notifications")
def collect_notifications() -> int:
    """Queues deliveries for new events and retries failed ones whose time has come."""
    queued = notifications.notifications_collect()
    for delivery_id in notifications.notifications_due():
        deliver_notification.delay(delivery_id)
    return queued


@shared_task(name="mturk.jobs.deliver_notification")
def deliver_notification(delivery_id: int) -> bool:
    return notifications.notification_deliver(delivery_id=delivery_id)
