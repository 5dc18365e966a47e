"""Every periodic job of the platform in one table (Celery beat).

Each app's jobs are named ``<app>.jobs.<name>``; an app adds its timers here
(``celery.schedules.crontab`` for daily ones).
"""

from typing import Any

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "platform-heartbeat": {"task": "core.jobs.heartbeat", "schedule": 30.0},
}
