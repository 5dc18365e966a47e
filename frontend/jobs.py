"""Celery jobs behind the pages' long operations. Each re-checks the user's access, calls
one service of the owning app and reports the outcome to the operation record. Retrying
is safe: the services are all-or-nothing and refuse a repeat cleanly."""

import csv
import io
import json
import logging

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from core.errors import AppError
from frontend.operations import OperationState, in_operation_language, operation_update
from tasks import selectors as task_selectors
from tasks import services as task_services

logger = logging.getLogger(__name__)


@shared_task(name="frontend.jobs.batch_input_upload")
@in_operation_language
def batch_input_upload(*, operation_id: str, user_id: int, batch_id: int, content: str, file_format: str) -> None:
    operation_update(operation_id, state=OperationState.RUNNING, message=_("Checking every row…"))
    try:
        user = User.objects.get(pk=user_id)
        batch = task_selectors.access_batch(user=user, batch_id=batch_id, permission="tasks.change_batch")
        rows = task_services.batch_set_input(batch=batch, actor=user, content=content, file_format=file_format)
    except AppError as error:
        operation_update(
            operation_id,
            state=OperationState.FAILED,
            message=error.message,
            errors=[
                _("Row %(row)s, column '%(column)s': %(message)s")
                % {"row": e["row"], "column": e["column"], "message": e["message"]}
                for e in error.details.get("errors", [])
            ],
        )
        return
    operation_update(
        operation_id,
        state=OperationState.DONE,
        message=ngettext("%(count)d input row saved.", "%(count)d input rows saved.", rows) % {"count": rows},
    )


@shared_task(name="frontend.jobs.bulk_approve")
@in_operation_language
def bulk_approve(*, operation_id: str, user_id: int, batch_id: int, assignment_ids: list[int], feedback: str) -> None:
    count = len(assignment_ids)
    operation_update(
        operation_id,
        state=OperationState.RUNNING,
        message=ngettext(
            "Approving and paying %(count)d submission…", "Approving and paying %(count)d submissions…", count
        )
        % {"count": count},
    )
    try:
        user = User.objects.get(pk=user_id)
        batch = task_selectors.access_batch(user=user, batch_id=batch_id, permission="tasks.review_batch")
        approved = task_services.assignments_approve_many(
            actor=user, batch=batch, assignment_ids=assignment_ids, feedback=feedback
        )
    except AppError as error:
        operation_update(
            operation_id,
            state=OperationState.FAILED,
            message=_("%(reason)s Nothing was approved.") % {"reason": error.message},
        )
        return
    operation_update(
        operation_id,
        state=OperationState.DONE,
        message=ngettext(
            "%(count)d submission approved and paid.", "%(count)d submissions approved and paid.", approved
        )
        % {"count": approved},
    )


def export_path(operation_id: str, file_format: str) -> str:
    return f"exports/{operation_id}.{file_format}"


def export_render(*, columns: list[str], rows: list[dict[str, str]], file_format: str) -> bytes:
    """Paid results in MTurk's batch-results CSV shape, or as a JSON list of rows."""
    if file_format == "json":
        return json.dumps(rows, indent=1).encode()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


@shared_task(name="frontend.jobs.batch_export")
@in_operation_language
def batch_export(*, operation_id: str, user_id: int, batch_id: int, file_format: str) -> None:
    """Writes the batch's paid results to a private file the operation's owner downloads."""
    operation_update(operation_id, state=OperationState.RUNNING, message=_("Collecting the paid results…"))
    try:
        user = User.objects.get(pk=user_id)
        batch = task_selectors.access_batch(user=user, batch_id=batch_id, permission="tasks.review_batch")
        columns, rows = task_selectors.batch_results_export(batch=batch)
    except AppError as error:
        operation_update(operation_id, state=OperationState.FAILED, message=error.message)
        return
    path = export_path(operation_id, file_format)
    default_storage.delete(path)
    default_storage.save(path, ContentFile(export_render(columns=columns, rows=rows, file_format=file_format)))
    operation_update(
        operation_id,
        state=OperationState.DONE,
        message=ngettext(
            "%(count)d paid result ready (rejected work is never exported).",
            "%(count)d paid results ready (rejected work is never exported).",
            len(rows),
        )
        % {"count": len(rows)},
        file=path,
        filename=task_selectors.export_filename(batch, file_format),
    )
