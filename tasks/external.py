"""External task pages (MTurk's ExternalQuestion and survey links): the URL a worker's
frame opens, with the parameters MTurk passes (``assignmentId``, ``hitId``, ``workerId``,
``turkSubmitTo``), and the unguessable assignment ids that ``/mturk/externalSubmit`` accepts.

It lives in the marketplace, below ``mturk``, because the worker's pages and the REST API
open external tasks too; ``mturk.ids`` and ``mturk.external`` re-export these names.

An AssignmentId is the assignment's id behind an HMAC tag: it is all an external task page
needs to submit (as on MTurk), so it must not be guessable from the sequential database id.
"""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import AppError
from tasks.models import Assignment, AssignmentAttempt, Batch, Task

_TAG_LENGTH = 20
# Separates the slot id from the attempt id after the fixed-length tag (ids are digits).
_ATTEMPT_SEPARATOR = "X"
# What MTurk passes while a worker only previews the task.
PREVIEW_ASSIGNMENT_ID = "ASSIGNMENT_ID_NOT_AVAILABLE"


def _tag(subject: str) -> str:
    # The "mturk-assignment" label is kept so ids handed out before the move stay valid.
    digest = hmac.new(settings.SECRET_KEY.encode(), f"mturk-assignment:{subject}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode()[:_TAG_LENGTH]


def assignment_public_id(assignment_pk: int) -> str:
    """The requester's AssignmentId of a slot (listings, approvals, notifications)."""
    return f"{_tag(str(assignment_pk))}{assignment_pk}"


def assignment_attempt_public_id(assignment_pk: int, attempt_pk: int) -> str:
    """The AssignmentId an external page gets: bound to the slot AND to one worker's
    attempt at it, so an id handed to a worker who returned the slot (or let it
    expire) is stale once someone else takes the slot: externalSubmit refuses it."""
    return f"{_tag(f'{assignment_pk}:{attempt_pk}')}{assignment_pk}{_ATTEMPT_SEPARATOR}{attempt_pk}"


def _parse(public_id: str) -> tuple[int, int | None] | None:
    tag, rest = public_id[:_TAG_LENGTH], public_id[_TAG_LENGTH:]
    slot_digits, _unused, attempt_digits = rest.partition(_ATTEMPT_SEPARATOR)
    if not slot_digits.isdigit() or len(slot_digits) > 18 or len(attempt_digits) > 18:
        return None
    if attempt_digits:
        if not attempt_digits.isdigit():
            return None
        subject = f"{int(slot_digits)}:{int(attempt_digits)}"
        return (int(slot_digits), int(attempt_digits)) if hmac.compare_digest(tag, _tag(subject)) else None
    if _ATTEMPT_SEPARATOR in rest:
        return None
    return (int(slot_digits), None) if hmac.compare_digest(tag, _tag(str(int(slot_digits)))) else None


def assignment_pk_from_public_id(public_id: str) -> int | None:
    """The assignment's database id, or None when ``public_id`` was not issued by us
    (either form: the requester's or an external page's attempt-bound id)."""
    parsed = _parse(public_id)
    return parsed[0] if parsed is not None else None


def assignment_attempt_from_public_id(public_id: str) -> tuple[int, int] | None:
    """``(assignment id, attempt id)`` of an attempt-bound id; None for any other id."""
    parsed = _parse(public_id)
    if parsed is None or parsed[1] is None:
        return None
    return parsed[0], parsed[1]


def _with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def turk_submit_to() -> str:
    """The base the external page posts to: it appends ``/mturk/externalSubmit``."""
    return str(settings.SITE_URL).rstrip("/")


def external_task_url(*, assignment: Assignment) -> str:
    """The external page for the worker holding ``assignment`` (accepted), for the worker
    UI's frame and the REST API. The page submits by POSTing ``assignmentId`` and its
    answers to ``turkSubmitTo + "/mturk/externalSubmit"``. Raises ``invalid_state`` (409)
    when the holder has no running attempt (returned, expired or submitted)."""
    batch = assignment.batch
    if assignment.worker is None:
        raise AppError("invalid_state", _("This task is not accepted by anyone."), status=409)
    attempt_id = (
        AssignmentAttempt.objects.filter(
            assignment=assignment, worker=assignment.worker, outcome=AssignmentAttempt.Outcome.ACTIVE
        )
        .values_list("pk", flat=True)
        .first()
    )
    if attempt_id is None:
        raise AppError("invalid_state", _("This task is not accepted by you any more."), status=409)
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


def external_preview_url(*, batch: Batch, task: Task | None) -> str:
    """The external page in preview mode (before the worker accepts), as MTurk shows it:
    ``assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE`` and no worker id."""
    params = {"assignmentId": PREVIEW_ASSIGNMENT_ID}
    if task is not None:
        params["hitId"] = str(task.pk)
    params["turkSubmitTo"] = turk_submit_to()
    return _with_params(batch.external_url, params)
