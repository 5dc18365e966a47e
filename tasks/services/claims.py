"""The worker's side of a slot: claim it (one statement on PostgreSQL, ``FOR UPDATE SKIP
LOCKED``), give it back, let it expire, submit the answers (within the governed grace)."""

import hmac
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

import psycopg
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrganisationStaff, OrganisationStaffDeparture, User
from accounts.selectors import former_staff_since
from core.audit import audit_record
from core.errors import AppError, NotFound
from core.models import AuditEvent, OutboxEvent
from governance.selectors import rule_value
from notifications.selectors import moment_for
from tasks import books, inputs, selectors
from tasks.models import Assignment, AssignmentAttempt, Batch, BlockedWorker, QualificationRequirement
from tasks.services.common import _lock_assignment
from tasks.states import ASSIGNMENT


def assignment_accept(*, worker: User, batch: Batch, task_id: int | None = None) -> Assignment:
    """Claims one open slot of ``batch`` (of ``task_id`` if given) for ``worker``.

    Atomic under concurrency: the slot row is locked with ``FOR UPDATE SKIP LOCKED``, so
    concurrent claimers each get a different slot, none twice and none lost; the batch row
    is not locked. A worker holds at most one slot per task (a unique constraint). The slot,
    its attempt row and its audit row are written together or not at all.
    Raises ``batch_not_available`` / ``no_open_slot`` (409), ``not_eligible`` (403, with the
    reasons in ``details``); nothing changes on a refusal.

    ``batch`` as the caller read it (``selectors.batch_for_worker``): the claim itself checks
    everything live; the batch is used to say why a claim was refused, and read again only
    when it no longer tells (it changed meanwhile)."""
    if worker.is_suspended:
        raise AppError(
            "suspended",
            _("Your account is suspended: %(suspension_reason)s") % {"suspension_reason": worker.suspension_text},
            status=403,
        )
    now = timezone.now()
    # The common case (a live batch without requirements, a worker not blocked) is decided
    # inside the claim itself; a claim that ran out of slots says so at once; anything else
    # is explained by the slow path below.
    live, claimed = _claim(batch_id=batch.pk, worker_id=worker.pk, task_id=task_id, now=now, fast=True)
    if claimed is None and not live:
        _refuse(batch=batch, worker=worker, now=now)
        live, claimed = _claim(batch_id=batch.pk, worker_id=worker.pk, task_id=task_id, now=now, fast=False)
        if claimed is None and not live:
            # Refused although the batch as read allowed it: it changed meanwhile.
            _refuse(batch=Batch.objects.get(pk=batch.pk), worker=worker, now=now)
    if claimed is None:
        raise AppError(
            "no_open_slot",
            _("Every slot you could take here is taken; look for other work or try again later."),
            status=409,
        )
    slot_id, slot_task_id, deadline = claimed
    return Assignment(
        pk=slot_id,
        task_id=slot_task_id,
        batch=batch,
        status=Assignment.Status.ACCEPTED,
        worker=worker,
        accepted_at=now,
        deadline_at=deadline,
    )


def _taking_workers(batch: Batch, now: Any) -> bool:
    """Whether ``batch`` is published and not expired: as the caller read it, and when that
    copy says no, as its row says now (a copy a moment old may not know it was resumed or
    extended)."""
    if batch.status == Batch.Status.PUBLISHED and (batch.expires_at is None or batch.expires_at > now):
        return True
    row = Batch.objects.filter(pk=batch.pk).values_list("status", "expires_at").first()
    return row is not None and row[0] == Batch.Status.PUBLISHED and (row[1] is None or row[1] > now)


def _not_taking_workers() -> AppError:
    return AppError("batch_not_available", _("This batch is not taking new workers."), status=409)


def _refuse(*, batch: Batch, worker: User, now: Any) -> None:
    """Raises why ``worker`` may not claim a slot of ``batch`` now, if a reason shows in the
    batch: not live, not eligible (reasons in ``details``), still in waves, or at the cap."""
    if not _taking_workers(batch, now):
        raise _not_taking_workers()
    reasons = selectors.worker_ineligibility(
        worker=worker, batch=batch, standing=selectors.batch_standing(worker=worker, batch=batch)
    )
    if reasons:
        raise AppError("not_eligible", " ".join(reasons), status=403, details={"reasons": reasons})
    _refuse_outside_dispatch(batch=batch, worker=worker, now=now)


def _refuse_outside_dispatch(*, batch: Batch, worker: User, now: Any) -> None:
    """Explains a claim the dispatch gate refused: the batch still opens in waves (apply),
    or the worker holds the most one worker may in the batch's first hours."""
    if batch.dispatch_fcfs_at is not None and now < batch.dispatch_fcfs_at:
        raise AppError(
            "dispatch_waves",
            _(
                "This batch opens its slots in waves shared across time zones: apply during a wave's application "
                "window and the slots are drawn by lot. It is first come, first served from %(when)s."
            )
            % {"when": moment_for(user=worker, moment=batch.dispatch_fcfs_at, deadline=True)},
            status=409,
            details={"first_come_first_served_at": batch.dispatch_fcfs_at.isoformat()},
        )
    if (
        batch.dispatch_cap_until is not None
        and now < batch.dispatch_cap_until
        and Assignment.objects.filter(batch_id=batch.pk, worker_id=worker.pk).count() >= batch.dispatch_cap_slots
    ):
        raise _cap_reached(batch, worker)


def _cap_reached(batch: Batch, worker: User) -> AppError:
    until = batch.dispatch_cap_until
    return AppError(
        "cap_reached",
        _("You hold %(cap)s slots of this batch, the most one worker may hold in its first hours (until %(until)s).")
        % {
            "cap": batch.dispatch_cap_slots,
            "until": moment_for(user=worker, moment=until) if until else "-",
        },
        status=409,
    )


# The claim in one statement: on PostgreSQL a claim storm is bound by round trips, so the
# slot update, the attempt row, the audit row and the outbox event (the same rows
# core.audit.audit_record writes) travel together. Table names come from the models.
_CLAIM_SQL = """
WITH live AS (
    SELECT b.id, b.time_allotted_minutes FROM {batch} b
     WHERE b.id = %(batch)s AND b.status = 'published' AND b.expires_at > %(now)s {fast} {gate}
), claimed AS (
    UPDATE {assignment} a
       SET status = %(status)s, worker_id = %(worker)s, accepted_at = %(now)s,
           deadline_at = %(now)s + live.time_allotted_minutes * interval '1 minute'
      FROM live
     WHERE a.id = (
           SELECT o.id FROM {assignment} o
            WHERE o.batch_id = %(batch)s AND o.status = 'open' {task}
              AND o.task_id NOT IN (
                  SELECT h.task_id FROM {assignment} h WHERE h.batch_id = %(batch)s AND h.worker_id = %(worker)s)
            ORDER BY o.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING a.id, a.task_id, a.deadline_at
), attempt AS (
    INSERT INTO {attempt} (assignment_id, batch_id, worker_id, accepted_at, outcome)
    SELECT id, %(batch)s, %(worker)s, %(now)s, 'active' FROM claimed
), audit AS (
    INSERT INTO {audit} (created_at, actor_id, actor_kind, action, target_type, target_id, before, after)
    SELECT %(now)s, %(worker)s, 'user', 'assignment.accepted', %(target_type)s, id::text, '{{}}'::jsonb,
           jsonb_build_object('task', task_id)
      FROM claimed
), outbox AS (
    INSERT INTO {outbox} (created_at, action, target_type, target_id, after)
    SELECT %(now)s, 'assignment.accepted', %(target_type)s, id::text, jsonb_build_object('task', task_id)
      FROM claimed
)
SELECT live.id, claimed.id, claimed.task_id, claimed.deadline_at FROM live LEFT JOIN claimed ON true
"""


_FAST_CONDITIONS = """
       AND NOT b.is_sandbox
       AND NOT EXISTS (SELECT 1 FROM {requirement} r WHERE r.batch_id = b.id)
       AND NOT EXISTS (SELECT 1 FROM {blocked} k
                        WHERE k.organisation_id = b.organisation_id AND k.worker_id = %(worker)s)
       AND NOT EXISTS (SELECT 1 FROM {staff} s
                        WHERE s.organisation_id = b.organisation_id AND s.user_id = %(worker)s)
       AND NOT EXISTS (SELECT 1 FROM {departure} d
                        WHERE d.organisation_id = b.organisation_id AND d.user_id = %(worker)s
                          AND d.left_at > %(former_since)s)
"""


# Fair dispatch (tasks.dispatch): while a batch opens in waves its slots are given only by
# the wave draws, and until its cap period ends no worker holds more than the cap.
_DISPATCH_GATE = """
       AND (b.dispatch_fcfs_at IS NULL OR b.dispatch_fcfs_at <= %(now)s)
       AND (b.dispatch_cap_until IS NULL OR b.dispatch_cap_until <= %(now)s
            OR (SELECT count(*) FROM {assignment} c WHERE c.batch_id = b.id AND c.worker_id = %(worker)s)
               < b.dispatch_cap_slots)
"""


def _claim_open_slot(
    *, batch_id: int, worker_id: int, task_id: int | None, now: Any, fast: bool, gate: bool = True
) -> tuple[int, int, Any] | None:
    """Marks the first unlocked open slot of a live batch, on a task the worker does not hold,
    as accepted and records the attempt and the audit row; returns (id, task_id, deadline).
    With ``fast`` it also requires a batch without requirements and a worker not blocked.
    With ``gate`` (every claim but a wave draw's, which decided by lottery) it also requires
    a batch past its waves and a worker under its cap.
    On SQLite (which serialises writers) the same steps run through the ORM."""
    return _claim(batch_id=batch_id, worker_id=worker_id, task_id=task_id, now=now, fast=fast, gate=gate)[1]


def _claim(
    *, batch_id: int, worker_id: int, task_id: int | None, now: Any, fast: bool, gate: bool = True
) -> tuple[bool, tuple[int, int, Any] | None]:
    """``_claim_open_slot``, also saying whether the batch met every condition of the claim
    (so that a claim that took nothing only ran out of slots): (met, slot or None)."""
    target = ASSIGNMENT.target(Assignment.Status.OPEN, "accepted")
    try:
        # A savepoint only when nested: a top-level single statement commits on its own.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            if connection.vendor == "postgresql":
                return _claim_sql(batch_id, worker_id, task_id, now, fast, target, gate)
            return _claim_orm(batch_id, worker_id, task_id, now, fast, target, gate)
    except IntegrityError:
        # The same worker claimed another slot of this task at the same moment.
        return True, None


def _claim_sql(
    batch_id: int, worker_id: int, task_id: int | None, now: Any, fast: bool, target: str, gate: bool
) -> tuple[bool, tuple[int, int, Any] | None]:
    tables = {
        "batch": Batch._meta.db_table,
        "assignment": Assignment._meta.db_table,
        "attempt": AssignmentAttempt._meta.db_table,
        "audit": AuditEvent._meta.db_table,
        "outbox": OutboxEvent._meta.db_table,
        "requirement": QualificationRequirement._meta.db_table,
        "blocked": BlockedWorker._meta.db_table,
        "staff": OrganisationStaff._meta.db_table,
        "departure": OrganisationStaffDeparture._meta.db_table,
    }
    sql = _CLAIM_SQL.format(
        fast=_FAST_CONDITIONS.format(**tables) if fast else "",
        gate=_DISPATCH_GATE.format(**tables) if gate else "",
        task="AND o.task_id = %(task)s" if task_id is not None else "",
        **tables,
    )
    params = {
        "batch": batch_id,
        "worker": worker_id,
        "now": now,
        "status": target,
        "task": task_id,
        "target_type": Assignment._meta.label_lower,
        "former_since": former_staff_since(at=now) if fast else now,
    }
    # A prepared statement (server-side binding, planned once per connection): planning
    # this statement costs about as much as running it, and a storm runs it thousands of
    # times a second. Errors are still Django's (IntegrityError is caught above).
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        row = cursor.fetchone()
    if row is None:  # the batch did not meet a condition of the claim
        return False, None
    return True, (None if row[1] is None else (int(row[1]), int(row[2]), row[3]))


def _claim_orm(
    batch_id: int, worker_id: int, task_id: int | None, now: Any, fast: bool, target: str, gate: bool
) -> tuple[bool, tuple[int, int, Any] | None]:
    live = Batch.objects.filter(pk=batch_id, status=Batch.Status.PUBLISHED, expires_at__gt=now)
    if gate:
        holding = Assignment.objects.filter(batch_id=batch_id, worker_id=worker_id).count()
        live = live.filter(Q(dispatch_fcfs_at__isnull=True) | Q(dispatch_fcfs_at__lte=now)).filter(
            Q(dispatch_cap_until__isnull=True) | Q(dispatch_cap_until__lte=now) | Q(dispatch_cap_slots__gt=holding)
        )
    if fast:
        live = (
            live.exclude(is_sandbox=True)
            .exclude(requirements__isnull=False)
            .exclude(organisation__blocked_workers__worker_id=worker_id)
        )
        live = live.exclude(organisation__staff__user_id=worker_id).exclude(
            organisation__staff_departures__user_id=worker_id,
            organisation__staff_departures__left_at__gt=former_staff_since(at=now),
        )
    batch = live.first()
    if batch is None:
        return False, None
    held = Assignment.objects.filter(batch_id=batch_id, worker_id=worker_id).values("task_id")
    candidates = Assignment.objects.filter(batch_id=batch_id, status=Assignment.Status.OPEN).exclude(task_id__in=held)
    if task_id is not None:
        candidates = candidates.filter(task_id=task_id)
    slot = candidates.select_for_update(skip_locked=True).order_by("id").first()
    if slot is None:
        return True, None
    deadline = now + timedelta(minutes=batch.time_allotted_minutes)
    Assignment.objects.filter(pk=slot.pk).update(
        status=target, worker_id=worker_id, accepted_at=now, deadline_at=deadline
    )
    AssignmentAttempt.objects.create(assignment_id=slot.pk, batch_id=batch_id, worker_id=worker_id, accepted_at=now)
    audit_record(
        actor=User.objects.get(pk=worker_id), action="assignment.accepted", target=slot, after={"task": slot.task_id}
    )
    return True, (slot.pk, slot.task_id, deadline)


def _end_attempt(slot: Assignment, outcome: str, now: Any) -> None:
    attempt = slot.attempts.filter(outcome=AssignmentAttempt.Outcome.ACTIVE).order_by("-id").first()
    if attempt is not None:
        attempt.outcome = outcome
        attempt.ended_at = now
        attempt.work_seconds = max(0, int((now - attempt.accepted_at).total_seconds()))
        attempt.save(update_fields=["outcome", "ended_at", "work_seconds"])


def _reopen(slot: Assignment, action: str, outcome: str, actor: User | None, audit_action: str) -> Assignment:
    now = timezone.now()
    worker_id = slot.worker_id
    slot.status = ASSIGNMENT.target(slot.status, action)
    _end_attempt(slot, outcome, now)
    slot.worker = None
    slot.accepted_at = None
    slot.deadline_at = None
    fields = ["status", "worker", "accepted_at", "deadline_at"]
    if slot.batch.status not in (Batch.Status.PUBLISHED, Batch.Status.PAUSED):
        # The batch ended meanwhile: nobody can claim the slot again, so its escrow returns.
        slot.status = ASSIGNMENT.target(slot.status, "withdrawn")
        books.give_back(slot.batch, slot.escrow_key)
    slot.save(update_fields=fields)
    audit_record(actor=actor, action=audit_action, target=slot, before={"worker": worker_id})
    return slot


def assignment_return(*, worker: User, assignment: Assignment) -> Assignment:
    """The worker gives the slot back, without penalty; it reopens for others."""
    with transaction.atomic():
        slot = _lock_assignment(assignment)
        if slot.worker_id != worker.pk:
            raise NotFound("assignment")
        _reopen(slot, "returned", AssignmentAttempt.Outcome.RETURNED, worker, "assignment.return")
    return slot


def assignment_expire(*, assignment_id: int) -> bool:
    """Reopens an accepted slot whose time allotted has passed (Celery job); idempotent."""
    with transaction.atomic():
        slot = (
            Assignment.objects.select_for_update(of=("self",)).select_related("batch").filter(pk=assignment_id).first()
        )
        if (
            slot is None
            or slot.status != Assignment.Status.ACCEPTED
            or slot.deadline_at is None
            or slot.deadline_at + late_submission_grace() > timezone.now()
        ):
            return False
        _reopen(slot, "expired", AssignmentAttempt.Outcome.EXPIRED, None, "assignment.expire")
    return True


def late_submission_grace() -> timedelta:
    """How long after its time allotted a submission is still accepted (governed)."""
    return timedelta(minutes=rule_value("late_submission_grace_minutes"))


def _record_late_submission(*, assignment_id: int, worker_id: int, now: Any) -> None:
    """The worker tried to submit after the time allotted and its grace: their attempt
    expired while they were working, which the fair-pay median counts (``FAIR_PAY_FORMULA``)."""
    attempt = (
        AssignmentAttempt.objects.filter(
            assignment_id=assignment_id, worker_id=worker_id, outcome__in=("active", "expired")
        )
        .order_by("-id")
        .first()
    )
    if attempt is not None and attempt.late_submission_at is None:
        AssignmentAttempt.objects.filter(pk=attempt.pk).update(late_submission_at=now)


def assignment_submit(*, worker: User, assignment: Assignment, answers: dict[str, Any]) -> Assignment:
    """Submits the worker's answers, checked against the template's fields (free key/values for
    an external URL). A submission within the governed grace after the time allotted is
    accepted like any other. Refuses a double submit (``already_submitted``), a later one
    (``assignment_expired``, which records that the attempt expired while the worker was
    working) and bad answers (``invalid_answers``), changing nothing else."""
    try:
        return _assignment_submit(worker=worker, assignment=assignment, answers=answers)
    except AppError as error:
        if error.code in ("assignment_expired", "not_found"):
            _record_late_submission(assignment_id=assignment.pk, worker_id=worker.pk, now=timezone.now())
        raise


def _assignment_submit(*, worker: User, assignment: Assignment, answers: dict[str, Any]) -> Assignment:
    with transaction.atomic():
        slot = _lock_assignment(assignment)
        if slot.worker_id != worker.pk:
            raise NotFound("assignment")
        if slot.status != Assignment.Status.ACCEPTED:
            if slot.status in (
                Assignment.Status.SUBMITTED,
                Assignment.Status.APPROVED,
                Assignment.Status.REJECTED,
                Assignment.Status.DISPUTED,
                Assignment.Status.SETTLED,
                Assignment.Status.REFUNDED,
            ):
                raise AppError("already_submitted", _("You have already submitted this assignment."), status=409)
            ASSIGNMENT.target(slot.status, "submitted")
        now = timezone.now()
        if slot.deadline_at is not None and slot.deadline_at + late_submission_grace() <= now:
            raise AppError(
                "assignment_expired",
                _("The time allotted ended at %(deadline_at)s; the slot reopens for others.")
                % {"deadline_at": moment_for(user=worker, moment=slot.deadline_at)},
                status=409,
            )
        batch = slot.batch
        clean = inputs.validate_answers(
            answers=answers, answer_fields=batch.answer_fields, free_form=bool(batch.external_url)
        )
        slot.status = ASSIGNMENT.target(slot.status, "submitted")
        slot.answers = clean
        slot.submitted_at = now
        slot.auto_approve_at = now + timedelta(hours=batch.effective_auto_approval_hours)
        slot.save(update_fields=["status", "answers", "submitted_at", "auto_approve_at"])
        _end_attempt(slot, AssignmentAttempt.Outcome.SUBMITTED, now)
        audit_record(actor=worker, action="assignment.submitted", target=slot, after={"fields": sorted(clean)})
    return slot


# Completion codes that did not match, per worker and task, before further tries wait an hour.
COMPLETION_CODE_MISSES_PER_HOUR = 20


def assignment_submit_completion_code(*, worker: User, assignment: Assignment, code: str) -> Assignment:
    """Submits an external task (a survey that cannot post back) with the completion code
    the survey showed the worker at its end, Prolific's way: a code the batch lists
    submits, with ``{"completion_code": code}`` as the answers. A code that matches none
    is ``completion_code_mismatch`` (400) and changes nothing; a batch without codes is
    ``no_completion_code`` (409). The rest is ``assignment_submit``'s checks."""
    batch = assignment.batch
    codes = [str(known) for known in batch.completion_codes or []]
    if not codes:
        raise AppError(
            "no_completion_code",
            _("This task is not finished with a completion code; submit it on the task's own page."),
            status=409,
        )
    given = code.strip()
    # Guessing is bounded: a few typos are fine, a script trying codes is not.
    misses_key = f"completion-code-misses:{assignment.pk}:{worker.pk}"
    if int(cache.get(misses_key, 0)) >= COMPLETION_CODE_MISSES_PER_HOUR:
        raise AppError(
            "completion_code_attempts",
            _(
                "Too many codes that did not match were tried for this task; try again in an hour, or write to "
                "the requester from the task page. Nothing was submitted."
            ),
            status=429,
        )
    # Every code is compared (no early exit), so timing says nothing about which is close.
    matched = False
    for known in codes:
        matched |= hmac.compare_digest(given.encode(), known.encode())
    if not given or not matched:
        # Counted in the cache, not the database: a mismatch changes nothing of the task.
        if not cache.add(misses_key, 1, timeout=3600):
            try:
                cache.incr(misses_key)
            except ValueError:  # expired between the two calls
                cache.add(misses_key, 1, timeout=3600)
        raise AppError(
            "completion_code_mismatch",
            _(
                "That completion code does not match this task; nothing was submitted. "
                "Copy the code the survey showed at its end exactly as shown, then try "
                "again."
            ),
            fields={"completion_code": [_("This code does not match.")]},
        )
    return assignment_submit(worker=worker, assignment=assignment, answers={"completion_code": given})
