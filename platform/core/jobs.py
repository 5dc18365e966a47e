"""Platform-wide periodic jobs."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "core:heartbeat"


@shared_task(name="core.jobs.heartbeat")
def heartbeat() -> str:
    """Records that beat and a worker are alive; the health page shows it."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
