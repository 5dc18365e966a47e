"""Messages about a task between its worker and the requester's staff.

The worker writes first, about an assignment they worked on (submitted); the requester's
staff answer. Each side sees the other only as the platform shows them: the worker by
pseudonym, the requester by display name; no e-mail address crosses. Each new message
lands in the other side's inbox. If a dispute follows, the case file shows the thread only
once both sides have agreed to share it.
"""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError, NotFound
from notifications.services import notify, staff_of
from tasks.models import Assignment, TaskMessage, TaskThread
from tasks.notices import marked

MAX_BODY = 5000


def _clean(body: str) -> str:
    body = body.strip()
    if not body or len(body) > MAX_BODY:
        raise AppError(
            "invalid",
            _("Write a message of 1 to %(MAX_BODY)s characters.") % {"MAX_BODY": MAX_BODY},
            fields={"body": [_("Required.")]},
        )
    return body


def _is_staff(user: User, thread: TaskThread) -> bool:
    return user.groups.filter(pk=thread.organisation.staff_group_id).exists()


def thread_side(*, thread: TaskThread, user: User) -> str | None:
    if thread.worker_id == user.pk:
        return TaskMessage.Side.WORKER
    if _is_staff(user, thread):
        return TaskMessage.Side.REQUESTER
    return None


def access_thread(*, thread_id: int, user: User) -> tuple[TaskThread, str]:
    """The thread and the caller's side; anyone else gets ``not_found``."""
    thread = (
        TaskThread.objects.select_related("assignment__batch", "organisation", "worker").filter(pk=thread_id).first()
    )
    side = thread_side(thread=thread, user=user) if thread is not None else None
    if thread is None or side is None:
        raise NotFound("conversation")
    return thread, side


def threads_for_user(*, user: User) -> QuerySet[TaskThread]:
    """Conversations the person is in: as the worker, or as staff of the requester."""
    return (
        TaskThread.objects.filter(Q(worker=user) | Q(organisation__staff_group__user=user))
        .select_related("assignment__batch", "organisation", "worker")
        .distinct()
        .order_by("-id")
    )


def _tell_other_side(thread: TaskThread, message: TaskMessage) -> None:
    batch = thread.assignment.batch
    excerpt = message.body if len(message.body) <= 200 else message.body[:197] + "..."
    if message.side == TaskMessage.Side.WORKER:
        users = list(staff_of(thread.organisation))
        sender = thread.worker.pseudonym
        organisation = thread.organisation
    else:
        users = [thread.worker_id]
        sender = thread.organisation.display_name
        organisation = None
    notify(
        users=users,
        category="task_message",
        params=marked(batch, {"batch": batch.title, "sender": sender, "excerpt": excerpt}),
        url=reverse("task_thread", args=[thread.pk]),
        organisation=organisation,
    )


def message_to_requester(*, worker: User, assignment_id: int, body: str) -> TaskMessage:
    """The worker writes to the requester about an assignment they submitted (opening the
    conversation the first time). Raises ``not_found`` (not their assignment) and
    ``not_worked_on`` (never submitted)."""
    body = _clean(body)
    assignment = (
        Assignment.objects.select_related("batch__organisation").filter(pk=assignment_id, worker=worker).first()
    )
    if assignment is None:
        raise NotFound("assignment")
    if assignment.submitted_at is None:
        raise AppError("not_worked_on", _("You can write to the requester about work you submitted."), status=409)
    with transaction.atomic():
        thread, _created = TaskThread.objects.get_or_create(
            assignment=assignment, defaults={"worker": worker, "organisation": assignment.batch.organisation}
        )
        thread = (
            TaskThread.objects.select_for_update()
            .select_related("assignment__batch", "organisation", "worker")
            .get(pk=thread.pk)
        )
        message = TaskMessage.objects.create(thread=thread, side=TaskMessage.Side.WORKER, author=worker, body=body)
        _tell_other_side(thread, message)
        audit_record(actor=worker, action="task_message.sent", target=message, after={"side": "worker"})
    return message


def message_reply(*, thread_id: int, author: User, body: str) -> TaskMessage:
    """A message in an existing conversation, from whichever side the author is on."""
    body = _clean(body)
    thread, side = access_thread(thread_id=thread_id, user=author)
    with transaction.atomic():
        TaskThread.objects.select_for_update().filter(pk=thread.pk).first()
        message = TaskMessage.objects.create(thread=thread, side=side, author=author, body=body)
        _tell_other_side(thread, message)
        audit_record(actor=author, action="task_message.sent", target=message, after={"side": side})
    return message


def thread_share_with_case(*, thread_id: int, user: User, share: bool) -> TaskThread:
    """The caller's side agrees (or no longer agrees) that a dispute's case file shows this
    conversation; it is shown only while both sides agree."""
    thread, side = access_thread(thread_id=thread_id, user=user)
    field = "worker_shares_with_case" if side == TaskMessage.Side.WORKER else "requester_shares_with_case"
    with transaction.atomic():
        locked = TaskThread.objects.select_for_update().get(pk=thread.pk)
        setattr(locked, field, share)
        locked.save(update_fields=[field])
        audit_record(actor=user, action="task_thread.share_with_case", target=locked, after={side: share})
    thread.worker_shares_with_case = locked.worker_shares_with_case
    thread.requester_shares_with_case = locked.requester_shares_with_case
    return thread


def shared_threads_for_assignments(*, assignment_ids: list[int]) -> list[TaskThread]:
    """Conversations both sides agreed to put in a case file, with their messages."""
    return list(
        TaskThread.objects.filter(
            assignment_id__in=assignment_ids, worker_shares_with_case=True, requester_shares_with_case=True
        )
        .prefetch_related("messages")
        .order_by("id")
    )


def message_view(message: TaskMessage, *, thread: TaskThread) -> dict[str, str]:
    """What anyone shown the message sees: a side label and the platform's names, never an address."""
    name = thread.worker.pseudonym if message.side == TaskMessage.Side.WORKER else thread.organisation.display_name
    return {"side": message.side, "sender": name, "body": message.body, "at": message.created_at.isoformat()}
