"""Follow-up work queued by a job's registered name once the caller's transaction commits.

Services never import ``jobs.py`` (a job calls its service, so that import would be a
circle): they name the job instead, as Zulip's ``queue_event_on_commit`` does::

    queue_on_commit("payouts.jobs.payout_submit", payout_id=payout.pk)

What the caller may rely on:

- Nothing is queued if the transaction rolls back; outside a transaction the job is
  queued at once.
- Queuing never changes the answer the caller gives: the change it follows is already
  committed, so a broker that is down, or a job that fails when Celery runs it in-process
  (``CELERY_TASK_ALWAYS_EAGER`` in tests and the embedded mode), is logged and swallowed.
  Every job queued this way has a periodic job that picks up what a lost message left
  undone (see ``coop.schedule``), so the work retries on its own.
"""

import importlib
import logging
from typing import Any

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def registered_job(name: str) -> Task:
    """The Celery task registered under ``name`` (``<app>.jobs.<function>``), importing
    its module first if autodiscovery has not run in this process yet."""
    tasks = current_app.tasks
    if name not in tasks:
        importlib.import_module(name.rsplit(".", 1)[0])
    try:
        return tasks[name]
    except KeyError:
        raise LookupError(f"no job is registered under the name {name!r}") from None


def queue_now(name: str, /, **kwargs: Any) -> None:
    """Sends the job to the broker (or runs it in-process when Celery is eager); a failure
    is logged, never raised."""
    try:
        registered_job(name).apply_async(kwargs=kwargs)
    except Exception:
        logger.exception("job %s(%s) queued after commit failed; its periodic job retries it", name, kwargs)


def queue_on_commit(name: str, /, **kwargs: Any) -> None:
    """Queues the job ``name`` with keyword arguments ``kwargs`` once the current
    transaction commits. The name is checked now, so a typo fails the caller's tests
    rather than disappearing into a log."""
    registered_job(name)
    transaction.on_commit(lambda: queue_now(name, **kwargs))
