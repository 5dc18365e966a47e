"""Long operations started from a page (input upload, bulk approval): the page queues a
Celery job and shows a progress page that polls this record, so no request waits for the
work. The record lives in the shared cache (Redis in production) for a day; it holds what
the page shows, never money or state of record: the services own that."""

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import NotFound


class OperationState(models.TextChoices):
    """Where a page's long operation is (the record's ``state``; the progress page reads it)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


_PREFIX = "frontend:operation:"
_TIMEOUT = 24 * 3600


def _key(operation_id: str) -> str:
    return _PREFIX + operation_id


def operation_start(*, owner: User, label: str, job: Any, result_url: str, **job_kwargs: Any) -> str:
    """Records a queued operation and sends ``job`` once the current transaction commits.

    The job receives ``operation_id`` plus ``job_kwargs`` and reports through
    ``operation_update``, in the language of the page that started it (``in_operation_language``)."""
    operation_id = uuid.uuid4().hex
    cache.set(
        _key(operation_id),
        {"owner_id": owner.pk, "label": label, "state": OperationState.QUEUED, "message": _("Waiting to start…"),
         "result_url": result_url, "errors": [], "language": translation.get_language()},
        _TIMEOUT,
    )  # fmt: skip
    transaction.on_commit(lambda: job.delay(operation_id=operation_id, **job_kwargs))
    return operation_id


def in_operation_language(job: Callable[..., None]) -> Callable[..., None]:
    """A job's messages in the language of the person who started the operation (a job runs
    later, in a worker, with no request to take it from)."""

    @functools.wraps(job)
    def run(*, operation_id: str, **kwargs: Any) -> None:
        record = cache.get(_key(operation_id)) or {}
        with translation.override(record.get("language") or "en"):
            job(operation_id=operation_id, **kwargs)

    return run


def operation_update(operation_id: str, **changes: Any) -> None:
    record = cache.get(_key(operation_id))
    if record is None:
        return
    record.update(changes)
    cache.set(_key(operation_id), record, _TIMEOUT)


def access_operation(*, user: User, operation_id: str) -> dict[str, Any]:
    """The operation if ``user`` started it; anyone else's is ``NotFound``."""
    record = cache.get(_key(operation_id))
    if record is None or record.get("owner_id") != user.pk:
        raise NotFound("operation")
    return dict(record, id=operation_id)
