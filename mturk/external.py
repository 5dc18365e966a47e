"""The worker side of ExternalQuestion: the URL of the external page, with the
parameters MTurk passes (assignmentId, hitId, workerId, turkSubmitTo)."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings

from core.errors import AppError
from mturk.ids import assignment_attempt_public_id
from tasks.models import Assignment, AssignmentAttempt, Batch, Task

# What MTurk passes while a worker only previews the task.
PREVIEW_ASSIGNMENT_ID = "ASSIGNMENT_ID_NOT_AVAILABLE"


def _with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def turk_submit_to() -> str:
    """The base the external page posts to: it appends ``/mturk/externalSubmit``."""
    return str(settings.SITE_URL).rstrip("/")


def external_task_url(*, assignment: Assignment) -> str:
    """The external page for the worker holding ``assignment`` (accepted), for the worker
    UI's iframe. The page submits by POSTing ``assignmentId`` and its answers to
    ``turkSubmitTo + "/mturk/externalSubmit"``."""
    batch = assignment.batch
    assert assignment.worker is not None
    attempt_id = (
        AssignmentAttempt.objects.filter(
            assignment=assignment, worker=assignment.worker, outcome=AssignmentAttempt.Outcome.ACTIVE
        )
        .values_list("pk", flat=True)
        .first()
    )
    if attempt_id is None:
        raise AppError("invalid_state", "This task is not accepted by you any more.", status=409)
    return _with_params(
        batch.external_url,
        {
            # Bound to this worker's attempt: stale once the slot is returned and re-taken.
            "assignmentId": assignment_attempt_public_id(assignment.pk, attempt_id),
            "hitId": str(assignment.task_id),
            "workerId": assignment.worker.pseudonym,
            "turkSubmitTo": turk_submit_to(),
        },
    )


def external_preview_url(*, batch: Batch, task: Task) -> str:
    """The external page in preview mode (before the worker accepts), as MTurk shows it."""
    return _with_params(
        batch.external_url,
        {"assignmentId": PREVIEW_ASSIGNMENT_ID, "hitId": str(task.pk), "turkSubmitTo": turk_submit_to()},
    )
