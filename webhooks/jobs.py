"""Celery jobs of the requesters' webhooks: collecting events from the outbox and
delivering them (retries included). Idempotent and safe to run again."""

from celery import shared_task

from core.runner import run_each
from webhooks import services


@shared_task(name="webhooks.jobs.collect")
def collect() -> int:
    """Creates deliveries for new events and retries the ones whose time has come."""
    created = services.webhook_deliveries_collect()
    due = [(pk, None) for pk in services.webhook_deliveries_due()]
    run_each("webhooks.jobs.collect", due, lambda pk: services.webhook_deliver(delivery_id=pk), atomic=False)
    return created


@shared_task(name="webhooks.jobs.deliver")
def deliver(delivery_id: int) -> bool:
    return services.webhook_deliver(delivery_id=delivery_id)
