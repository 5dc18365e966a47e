"""Writes of the marketplace. Each public service is one transaction, checks its
move against ``tasks.states``, writes an audit row and moves escrow only through
``ledger.escrow``.

Lock order, always: batch, then assignments in ascending id. The claim is the
exception that proves it: it never locks the batch (thousands of claimers must
not queue on one row) and locks exactly one assignment with SKIP LOCKED.
"""

import logging
import statistics
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import Organisation, OrganisationStaff, OrganisationStaffDeparture, User
from accounts.selectors import former_staff_since, user_is_organisation_staff
from core.audit import audit_record
from core.errors import AppError, NotFound, PermissionDenied
from core.models import AuditEvent
from core.money import MAX_BONUS, MAX_REWARD, basis_points, format_amount, platform_currency
from core.queue import queue_on_commit
from governance.models import Rule
from governance.selectors import rule_in_force, rule_value
from ledger import escrow
from tasks import inputs, notices, selectors
from tasks.hooks import (
    batch_is_held,
    organisation_publish_blocked,
    rejection_is_held,
    rejection_withdrawal_resolve_case,
)
from tasks.models import (
    Assignment,
    AssignmentAttempt,
    Batch,
    BlockedWorker,
    Bonus,
    FairPayReview,
    Qualification,
    QualificationGrant,
    QualificationRequirement,
    QualificationTestOffer,
    RequesterRating,
    Task,
)
from tasks.states import ASSIGNMENT, BATCH, REJECTION_REASONS, UNFINISHED_ASSIGNMENT

logger = logging.getLogger(__name__)

# Rules a batch records at publish; later rule changes never alter a live batch.
BATCH_RULES = (
    "minimum_hourly_wage",
    "platform_fee_bps",
    "auto_approval_hours",
    "contest_window_days",
    "approval_rate_window_days",
    "fair_pay_fast_share_bps",
)
BATCH_PERMISSIONS = ("tasks.view_batch", "tasks.change_batch", "tasks.review_batch")
MAX_ASSIGNMENTS_PER_TASK = 1000
MAX_LIFETIME_HOURS = 24 * 365
MAX_TIME_ALLOTTED_MINUTES = 24 * 60 * 7


def _invalid(fields: dict[str, list[str]]) -> AppError:
    first_name, first_errors = next(iter(fields.items()))
    return AppError("invalid", f"{first_name}: {first_errors[0]}", fields=fields)


def _require_staff(actor: User, organisation: Organisation) -> None:
    if not actor.has_perm("accounts.manage_organisation", organisation):
        raise PermissionDenied("Only the organisation's staff can do that.")


def _lock_batch(batch: Batch) -> Batch:
    return Batch.objects.select_for_update().get(pk=batch.pk)


def _lock_assignment(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_for_update(of=("self",)).select_related("batch").get(pk=assignment.pk)


# --- Batches -------------------------------------------------------------------------------------


def _validate_requirements(
    organisation: Organisation, requirements: list[dict[str, Any]], fields: dict[str, list[str]]
) -> list[QualificationRequirement]:
    built: list[QualificationRequirement] = []
    for index, item in enumerate(requirements):
        name = f"requirements[{index}]"
        kind = item.get("kind")
        value = item.get("value", 0)
        if kind not in QualificationRequirement.Kind.values:
            fields[name] = [f"Unknown kind; use one of {', '.join(QualificationRequirement.Kind.values)}."]
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            fields[name] = ["The value must be a whole number, zero or more."]
            continue
        requirement = QualificationRequirement(kind=kind, value=value, reason=str(item.get("reason", "")).strip())
        if kind == QualificationRequirement.Kind.APPROVAL_RATE and value > 10_000:
            fields[name] = ["An approval rate is in basis points: 0 to 10000."]
        elif kind == QualificationRequirement.Kind.LOCALE:
            countries = item.get("countries") or []
            if not countries or not all(isinstance(c, str) and len(c) == 2 and c.isalpha() for c in countries):
                fields[name] = ["List the allowed countries as two-letter codes."]
            elif not requirement.reason:
                fields[name] = ["A location restriction needs a reason that workers can read."]
            requirement.countries = "," + ",".join(sorted({c.upper() for c in countries})) + ","
        elif kind == QualificationRequirement.Kind.QUALIFICATION:
            qualification = Qualification.objects.filter(
                organisation=organisation, pk=item.get("qualification_id") or 0
            ).first()
            if qualification is None:
                fields[name] = ["No such qualification of this organisation."]
            requirement.qualification = qualification
            requirement.value = value or 1
        built.append(requirement)
    return built


def batch_create(
    *,
    organisation: Organisation,
    actor: User,
    title: str,
    description: str,
    purpose: str,
    data_use: str,
    reward: int,
    assignments_per_task: int,
    estimated_minutes: int,
    time_allotted_minutes: int,
    lifetime_hours: int,
    content_warnings: str = "",
    keywords: str = "",
    auto_approval_hours: int | None = None,
    template_html: str = "",
    external_url: str = "",
    requirements: list[dict[str, Any]] | None = None,
) -> Batch:
    """Creates a draft batch (nothing is reserved yet). Raises ``AppError("invalid")``
    with field errors and creates nothing on bad input. The organisation's staff group
    gets view/change/review permissions on it."""
    _require_staff(actor, organisation)
    fields: dict[str, list[str]] = {}
    for name, text in (("title", title), ("description", description), ("purpose", purpose), ("data_use", data_use)):
        if not text.strip():
            fields[name] = ["Required: workers read this before they accept."]
    if reward <= 0:
        fields["reward"] = ["The reward must be more than zero (minor units)."]
    elif reward > MAX_REWARD:
        fields["reward"] = [f"At most {format_amount(MAX_REWARD, platform_currency())} per assignment."]
    if not 1 <= assignments_per_task <= MAX_ASSIGNMENTS_PER_TASK:
        fields["assignments_per_task"] = [f"Between 1 and {MAX_ASSIGNMENTS_PER_TASK}."]
    if not 1 <= estimated_minutes <= MAX_TIME_ALLOTTED_MINUTES:
        fields["estimated_minutes"] = [f"Between 1 and {MAX_TIME_ALLOTTED_MINUTES} minutes."]
    if not 1 <= time_allotted_minutes <= MAX_TIME_ALLOTTED_MINUTES:
        fields["time_allotted_minutes"] = [f"Between 1 and {MAX_TIME_ALLOTTED_MINUTES} minutes."]
    elif estimated_minutes >= 1 and time_allotted_minutes < estimated_minutes:
        fields["time_allotted_minutes"] = ["Allow at least the estimated time."]
    if not 1 <= lifetime_hours <= MAX_LIFETIME_HOURS:
        fields["lifetime_hours"] = [f"Between 1 and {MAX_LIFETIME_HOURS} hours."]
    if auto_approval_hours is not None:
        limits = Rule.objects.filter(key="auto_approval_hours").values_list("min_value", "max_value").get()
        # The per-batch window has its own governed maximum (issue 20.9), under the rule's hard limit.
        longest = min(limits[1], rule_value("auto_approval_hours_max"))
        if not limits[0] <= auto_approval_hours <= longest:
            fields["auto_approval_hours"] = [f"The co-op allows {limits[0]} to {longest} hours."]
    answer_fields: list[dict[str, Any]] = []
    placeholders: list[str] = []
    if bool(template_html.strip()) == bool(external_url.strip()):
        fields["template_html"] = ["Give either an HTML task template or an external task URL, not both."]
    elif template_html.strip():
        answer_fields = inputs.template_answer_fields(template_html)
        placeholders = inputs.template_placeholders(template_html)
        if not answer_fields:
            fields["template_html"] = ["The template has no named form fields (name=...) to answer."]
    elif not external_url.startswith("https://"):
        fields["external_url"] = ["The external task URL must start with https://."]
    built = _validate_requirements(organisation, requirements or [], fields)
    if fields:
        raise _invalid(fields)
    with transaction.atomic():
        batch = Batch.objects.create(
            organisation=organisation,
            created_by=actor,
            title=title.strip(),
            description=description.strip(),
            purpose=purpose.strip(),
            data_use=data_use.strip(),
            content_warnings=content_warnings.strip(),
            keywords=keywords.strip(),
            reward=reward,
            currency=platform_currency(),
            assignments_per_task=assignments_per_task,
            estimated_minutes=estimated_minutes,
            estimated_hourly_pay=reward * 60 // estimated_minutes,
            time_allotted_minutes=time_allotted_minutes,
            lifetime_hours=lifetime_hours,
            auto_approval_hours=auto_approval_hours,
            template_html=template_html,
            external_url=external_url.strip(),
            answer_fields=answer_fields,
            placeholders=placeholders,
        )
        for requirement in built:
            requirement.batch = batch
        QualificationRequirement.objects.bulk_create(built)
        for permission in BATCH_PERMISSIONS:
            assign_perm(permission, organisation.staff_group, batch)
        audit_record(actor=actor, action="batch.created", target=batch, after={"title": batch.title})
    return batch


def batch_set_input(*, batch: Batch, actor: User, content: str, file_format: str) -> int:
    """Replaces a draft batch's input rows with those of a CSV or JSON file; returns the row
    count. A bad file raises ``AppError("invalid_input_file")`` with per-row errors in
    ``details["errors"]`` and changes nothing."""
    rows = inputs.parse_input_rows(content=content, file_format=file_format, placeholders=batch.placeholders)
    with transaction.atomic():
        batch = _lock_batch(batch)
        BATCH.target(batch.status, "edited")
        batch.tasks.all().delete()
        Task.objects.bulk_create(
            [Task(batch=batch, row_number=number, input=row) for number, row in enumerate(rows, start=1)],
            batch_size=2000,
        )
        audit_record(actor=actor, action="batch.input_set", target=batch, after={"rows": len(rows)})
    return len(rows)


def _create_slots(batch: Batch, per_task: int) -> list[int]:
    """Creates ``per_task`` open slots on every task of ``batch``; returns their ids."""
    first_new = Assignment.objects.order_by("-id").values_list("id", flat=True).first() or 0
    task_ids = list(batch.tasks.order_by("id").values_list("id", flat=True))
    Assignment.objects.bulk_create(
        [Assignment(batch=batch, task_id=task_id) for task_id in task_ids for _ in range(per_task)], batch_size=2000
    )
    return list(
        Assignment.objects.filter(batch=batch, status=Assignment.Status.OPEN, id__gt=first_new)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _reserve(batch: Batch, assignment_ids: list[int]) -> None:
    escrow.escrow_reserve_slots(
        organisation=batch.organisation,
        slots=[
            escrow.EscrowSlot(key=f"assignment:{pk}", reward=batch.reward, fee=batch.fee_per_assignment)
            for pk in assignment_ids
        ],
    )


def batch_publish(*, batch: Batch, actor: User) -> Batch:
    """Publishes a draft batch: checks the wage floor, records the rule versions in force,
    creates every slot and reserves reward + fee for each in escrow, all or nothing.

    Raises ``below_minimum_wage`` (reward per estimated hour under the governed floor),
    ``no_input`` (the template needs input rows), ``organisation_unverified`` and the
    ledger's ``insufficient_funds`` (409); on any refusal nothing changes."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        BATCH.target(batch.status, "published")
        organisation = batch.organisation
        if not organisation.is_verified:
            raise AppError(
                "organisation_unverified",
                "The organisation's legal identity is not verified yet; the co-op must verify it before publishing.",
                status=409,
            )
        # Mass-rejection guard (disputes app): no new batch while a mass case is undecided.
        if organisation_publish_blocked(organisation):
            raise AppError(
                "publishing_frozen",
                "A mass-rejection case against this organisation awaits its decision; you can publish again "
                "once it is decided. Answer the case under /api/disputes/cases/.",
                status=409,
            )
        now = timezone.now()
        rules = {key: rule_in_force(key, at=now) for key in BATCH_RULES}
        wage = rules["minimum_hourly_wage"].value
        if batch.reward * 60 < wage * batch.estimated_minutes:
            needed = -(-wage * batch.estimated_minutes // 60)
            raise AppError(
                "below_minimum_wage",
                f"A reward of {format_amount(batch.reward, batch.currency)} for {batch.estimated_minutes} minutes "
                f"pays {format_amount(batch.estimated_hourly_pay, batch.currency)} an hour; the co-op's minimum is "
                f"{format_amount(wage, batch.currency)}. Raise the reward to at least "
                f"{format_amount(needed, batch.currency)} or correct the estimate.",
                details={"minimum_hourly_wage": wage, "minimum_reward": needed},
            )
        if not batch.tasks.exists():
            if batch.placeholders:
                raise AppError(
                    "no_input",
                    f"The template uses {', '.join(batch.placeholders)}; upload input rows before publishing.",
                    status=409,
                )
            # A template without placeholders (or an external URL) is a single task, as MTurk's CreateHIT.
            Task.objects.create(batch=batch, row_number=1, input={})
        longest = rule_value("auto_approval_hours_max", at=now)
        if batch.auto_approval_hours is not None and batch.auto_approval_hours > longest:
            raise AppError(
                "invalid",
                f"auto_approval_hours: the co-op now allows at most {longest} hours; shorten the window.",
                fields={"auto_approval_hours": [f"At most {longest} hours."]},
            )
        batch.fee_per_assignment = basis_points(batch.reward, rules["platform_fee_bps"].value)
        batch.rule_versions = {key: {"version_id": r.version_id, "value": r.value} for key, r in rules.items()}
        batch.status = Batch.Status.PUBLISHED
        batch.published_at = now
        batch.expires_at = now + timedelta(hours=batch.lifetime_hours)
        batch.save(update_fields=["fee_per_assignment", "rule_versions", "status", "published_at", "expires_at"])
        slot_ids = _create_slots(batch, batch.assignments_per_task)
        _reserve(batch, slot_ids)
        audit_record(
            actor=actor,
            action="batch.published",
            target=batch,
            before={"status": Batch.Status.DRAFT},
            after={"status": Batch.Status.PUBLISHED, "slots": len(slot_ids), "rule_versions": batch.rule_versions},
        )
        queue_on_commit("tasks.jobs.saved_search_alerts", batch_id=batch.pk)  # workers' saved searches
    return batch


def _batch_move(batch: Batch, actor: User | None, action: str, audit_action: str) -> Batch:
    with transaction.atomic():
        batch = _lock_batch(batch)
        before = batch.status
        batch.status = BATCH.target(batch.status, action)
        batch.save(update_fields=["status"])
        audit_record(actor=actor, action=audit_action, target=batch, before={"status": before})
    return batch


def batch_pause(*, batch: Batch, actor: User) -> Batch:
    """Stops new claims; accepted work can still be submitted and reviewed."""
    return _batch_move(batch, actor, "paused", "batch.pause")


def batch_resume(*, batch: Batch, actor: User) -> Batch:
    """Reopens a paused batch to claims; refused (``batch_held``) while a mass case holds it."""
    if batch_is_held(batch.pk):
        raise AppError(
            "batch_held",
            "A mass-rejection case holds this batch; it can resume once the case is decided.",
            status=409,
        )
    return _batch_move(batch, actor, "resumed", "batch.resume")


def batch_hold_for_case(*, batch_id: int) -> None:
    """For the mass-rejection guard, inside its transaction: a live batch whose rejections
    are frozen is paused (no new claims; accepted work can still be submitted)."""
    batch = Batch.objects.select_for_update().get(pk=batch_id)
    if batch.status == Batch.Status.PUBLISHED:
        _batch_move(batch, None, "paused", "batch.held_for_case")


def _withdraw_open_slots(batch: Batch) -> int:
    open_ids = list(
        Assignment.objects.select_for_update()
        .filter(batch=batch, status=Assignment.Status.OPEN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for pk in open_ids:
        escrow.escrow_return(key=f"assignment:{pk}")
    Assignment.objects.filter(pk__in=open_ids).update(status=Assignment.Status.WITHDRAWN)
    return len(open_ids)


def _batch_end(batch: Batch, actor: User | None, action: str, audit_action: str) -> Batch:
    with transaction.atomic():
        batch = _lock_batch(batch)
        before = batch.status
        batch.status = BATCH.target(batch.status, action)
        batch.ended_at = timezone.now()
        batch.save(update_fields=["status", "ended_at"])
        withdrawn = _withdraw_open_slots(batch) if before != "draft" else 0
        audit_record(
            actor=actor,
            action=audit_action,
            target=batch,
            before={"status": before},
            after={"status": batch.status, "withdrawn_slots": withdrawn},
        )
    return batch


def batch_cancel(*, batch: Batch, actor: User) -> Batch:
    """Cancels the batch: unclaimed slots are withdrawn and their escrow returns to the
    organisation's balance. Work already accepted can still be submitted and is paid."""
    return _batch_end(batch, actor, "cancelled", "batch.cancel")


def batch_expire(*, batch: Batch) -> Batch:
    """The lifetime passed (Celery job): like a cancellation, by the system."""
    return _batch_end(batch, None, "expired", "batch.expire")


def batch_add_assignments(*, batch: Batch, actor: User, per_task: int) -> Batch:
    """Adds ``per_task`` slots to every task of a live batch and reserves their escrow
    (all or nothing; ``insufficient_funds`` changes nothing)."""
    if not 1 <= per_task <= MAX_ASSIGNMENTS_PER_TASK:
        raise _invalid({"per_task": [f"Between 1 and {MAX_ASSIGNMENTS_PER_TASK}."]})
    with transaction.atomic():
        batch = _lock_batch(batch)
        if not BATCH.allowed(batch.status, "extended"):
            raise AppError("invalid_state", f"This batch is {batch.status}; only a live batch can grow.", status=409)
        if batch.assignments_per_task + per_task > MAX_ASSIGNMENTS_PER_TASK:
            raise _invalid({"per_task": [f"A task can have at most {MAX_ASSIGNMENTS_PER_TASK} assignments."]})
        slot_ids = _create_slots(batch, per_task)
        _reserve(batch, slot_ids)
        before = batch.assignments_per_task
        batch.assignments_per_task = before + per_task
        batch.save(update_fields=["assignments_per_task"])
        audit_record(
            actor=actor,
            action="batch.assignments_added",
            target=batch,
            before={"assignments_per_task": before},
            after={"assignments_per_task": batch.assignments_per_task, "slots": len(slot_ids)},
        )
    return batch


def batch_extend_lifetime(*, batch: Batch, actor: User, hours: int) -> Batch:
    if not 1 <= hours <= MAX_LIFETIME_HOURS:
        raise _invalid({"hours": [f"Between 1 and {MAX_LIFETIME_HOURS}."]})
    with transaction.atomic():
        batch = _lock_batch(batch)
        if not BATCH.allowed(batch.status, "extended") or batch.expires_at is None:
            raise AppError(
                "invalid_state", f"This batch is {batch.status}; only a live batch can be extended.", status=409
            )
        before = batch.expires_at
        batch.expires_at = before + timedelta(hours=hours)
        batch.lifetime_hours += hours
        batch.save(update_fields=["expires_at", "lifetime_hours"])
        audit_record(
            actor=actor,
            action="batch.extended",
            target=batch,
            before={"expires_at": before.isoformat()},
            after={"expires_at": batch.expires_at.isoformat()},
        )
    return batch


def batch_time_allotted_grow(*, batch: Batch) -> int | None:
    """Nobody works for free against a short clock: when a live batch's good-faith median
    work time (``FAIR_PAY_FORMULA``) times the governed ``time_allotted_headroom_bps`` passes
    its time allotted, the time allotted grows to it, for the open slots (the next claim) and
    the accepted ones (their deadline moves). Returns the new minutes, or None if unchanged."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.status not in (Batch.Status.PUBLISHED, Batch.Status.PAUSED):
            return None
        median = good_faith_median(
            batch_good_faith_seconds(batch=batch), fast_share_bps=_batch_rule(batch, "fair_pay_fast_share_bps")
        )
        if median is None:
            return None
        headroom = rule_value("time_allotted_headroom_bps")
        needed = min(MAX_TIME_ALLOTTED_MINUTES, -(-median * headroom // (10_000 * 60)))
        before = batch.time_allotted_minutes
        if needed <= before:
            return None
        batch.time_allotted_minutes = needed
        batch.save(update_fields=["time_allotted_minutes"])
        moved = Assignment.objects.filter(batch=batch, status=Assignment.Status.ACCEPTED).update(
            deadline_at=F("accepted_at") + timedelta(minutes=needed)
        )
        audit_record(
            actor=None,
            action="batch.time_allotted_grown",
            target=batch,
            before={"time_allotted_minutes": before},
            after={"time_allotted_minutes": needed, "median_work_seconds": median, "accepted_slots": moved},
        )
    return needed


def _complete_if_done(batch_id: int) -> None:
    """Marks a live batch completed once no slot is open, accepted or awaiting review."""
    batch = Batch.objects.select_for_update().get(pk=batch_id)
    if batch.status not in (Batch.Status.PUBLISHED, Batch.Status.PAUSED):
        return
    if Assignment.objects.filter(batch_id=batch_id, status__in=UNFINISHED_ASSIGNMENT).exists():
        return
    batch.status = BATCH.target(batch.status, "completed")
    batch.ended_at = timezone.now()
    batch.save(update_fields=["status", "ended_at"])
    audit_record(actor=None, action="batch.complete", target=batch, after={"status": Batch.Status.COMPLETED})


# --- Worker side ---------------------------------------------------------------------------------


def assignment_accept(*, worker: User, batch: Batch, task_id: int | None = None) -> Assignment:
    """Claims one open slot of ``batch`` (of ``task_id`` if given) for ``worker``.

    Atomic under concurrency: the slot row is locked with ``FOR UPDATE SKIP LOCKED``, so
    concurrent claimers each get a different slot, none twice and none lost; the batch row
    is not locked. A worker holds at most one slot per task (a unique constraint). The slot,
    its attempt row and its audit row are written together or not at all.
    Raises ``batch_not_available`` / ``no_open_slot`` (409), ``not_eligible`` (403, with the
    reasons in ``details``); nothing changes on a refusal."""
    if worker.is_suspended:
        raise AppError("suspended", f"Your account is suspended: {worker.suspension_reason}", status=403)
    now = timezone.now()
    # The common case (a live batch without requirements, a worker not blocked) is decided
    # inside the claim itself; anything else is explained by the slow path below.
    claimed = _claim_open_slot(batch_id=batch.pk, worker_id=worker.pk, task_id=task_id, now=now, fast=True)
    if claimed is None:
        batch = Batch.objects.select_related("organisation").get(pk=batch.pk)
        if batch.status != Batch.Status.PUBLISHED or (batch.expires_at is not None and batch.expires_at <= now):
            raise AppError("batch_not_available", "This batch is not taking new workers.", status=409)
        reasons = selectors.worker_ineligibility(worker=worker, batch=batch)
        if reasons:
            raise AppError("not_eligible", " ".join(reasons), status=403, details={"reasons": reasons})
        claimed = _claim_open_slot(batch_id=batch.pk, worker_id=worker.pk, task_id=task_id, now=now, fast=False)
    if claimed is None:
        raise AppError(
            "no_open_slot",
            "Every slot you could take here is taken; look for other work or try again later.",
            status=409,
        )
    slot_id, slot_task_id, deadline = claimed
    return Assignment(
        pk=slot_id,
        task_id=slot_task_id,
        batch_id=batch.pk,
        status=Assignment.Status.ACCEPTED,
        worker=worker,
        accepted_at=now,
        deadline_at=deadline,
    )


# The claim in one statement: on PostgreSQL a claim storm is bound by round trips, so the
# slot update, the attempt row and the audit row (the same row core.audit.audit_record
# writes) travel together. Table names come from the models.
_CLAIM_SQL = """
WITH live AS (
    SELECT b.id, b.time_allotted_minutes FROM {batch} b
     WHERE b.id = %(batch)s AND b.status = 'published' AND b.expires_at > %(now)s {fast}
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
)
SELECT id, task_id, deadline_at FROM claimed
"""
_FAST_CONDITIONS = """
       AND NOT EXISTS (SELECT 1 FROM {requirement} r WHERE r.batch_id = b.id)
       AND NOT EXISTS (SELECT 1 FROM {blocked} k
                        WHERE k.organisation_id = b.organisation_id AND k.worker_id = %(worker)s)
       AND NOT EXISTS (SELECT 1 FROM {staff} s
                        WHERE s.organisation_id = b.organisation_id AND s.user_id = %(worker)s)
       AND NOT EXISTS (SELECT 1 FROM {departure} d
                        WHERE d.organisation_id = b.organisation_id AND d.user_id = %(worker)s
                          AND d.left_at > %(former_since)s)
"""


def _claim_open_slot(
    *, batch_id: int, worker_id: int, task_id: int | None, now: Any, fast: bool
) -> tuple[int, int, Any] | None:
    """Marks the first unlocked open slot of a live batch, on a task the worker does not hold,
    as accepted and records the attempt and the audit row; returns (id, task_id, deadline).
    With ``fast`` it also requires a batch without requirements and a worker not blocked.
    On SQLite (which serialises writers) the same steps run through the ORM."""
    target = ASSIGNMENT.target(Assignment.Status.OPEN, "accepted")
    try:
        # A savepoint only when nested: a top-level single statement commits on its own.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            if connection.vendor == "postgresql":
                return _claim_sql(batch_id, worker_id, task_id, now, fast, target)
            return _claim_orm(batch_id, worker_id, task_id, now, fast, target)
    except IntegrityError:
        # The same worker claimed another slot of this task at the same moment.
        return None


def _claim_sql(
    batch_id: int, worker_id: int, task_id: int | None, now: Any, fast: bool, target: str
) -> tuple[int, int, Any] | None:
    tables = {
        "batch": Batch._meta.db_table,
        "assignment": Assignment._meta.db_table,
        "attempt": AssignmentAttempt._meta.db_table,
        "audit": AuditEvent._meta.db_table,
        "requirement": QualificationRequirement._meta.db_table,
        "blocked": BlockedWorker._meta.db_table,
        "staff": OrganisationStaff._meta.db_table,
        "departure": OrganisationStaffDeparture._meta.db_table,
    }
    sql = _CLAIM_SQL.format(
        fast=_FAST_CONDITIONS.format(**tables) if fast else "",
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
    return (int(row[0]), int(row[1]), row[2]) if row else None


def _claim_orm(
    batch_id: int, worker_id: int, task_id: int | None, now: Any, fast: bool, target: str
) -> tuple[int, int, Any] | None:
    live = Batch.objects.filter(pk=batch_id, status=Batch.Status.PUBLISHED, expires_at__gt=now)
    if fast:
        live = live.exclude(requirements__isnull=False).exclude(organisation__blocked_workers__worker_id=worker_id)
        live = live.exclude(organisation__staff__user_id=worker_id).exclude(
            organisation__staff_departures__user_id=worker_id,
            organisation__staff_departures__left_at__gt=former_staff_since(at=now),
        )
    batch = live.first()
    if batch is None:
        return None
    held = Assignment.objects.filter(batch_id=batch_id, worker_id=worker_id).values("task_id")
    candidates = Assignment.objects.filter(batch_id=batch_id, status=Assignment.Status.OPEN).exclude(task_id__in=held)
    if task_id is not None:
        candidates = candidates.filter(task_id=task_id)
    slot = candidates.select_for_update(skip_locked=True).order_by("id").first()
    if slot is None:
        return None
    deadline = now + timedelta(minutes=batch.time_allotted_minutes)
    Assignment.objects.filter(pk=slot.pk).update(
        status=target, worker_id=worker_id, accepted_at=now, deadline_at=deadline
    )
    AssignmentAttempt.objects.create(assignment_id=slot.pk, batch_id=batch_id, worker_id=worker_id, accepted_at=now)
    audit_record(
        actor=User.objects.get(pk=worker_id), action="assignment.accepted", target=slot, after={"task": slot.task_id}
    )
    return slot.pk, slot.task_id, deadline


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
        escrow.escrow_return(key=slot.escrow_key)
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
                raise AppError("already_submitted", "You have already submitted this assignment.", status=409)
            ASSIGNMENT.target(slot.status, "submitted")
        now = timezone.now()
        if slot.deadline_at is not None and slot.deadline_at + late_submission_grace() <= now:
            raise AppError(
                "assignment_expired",
                f"The time allotted ended at {slot.deadline_at:%Y-%m-%d %H:%M} UTC; the slot reopens for others.",
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


# --- Requester side ------------------------------------------------------------------------------


def _refuse_own_work(actor: User | None, slots: list[Assignment]) -> None:
    """Nobody reviews their own work (no self-dealing, issue 19): refused with ``own_work``."""
    if actor is not None and any(slot.worker_id == actor.pk for slot in slots):
        raise AppError(
            "own_work", "You cannot review your own work; another of the requester's staff must.", status=403
        )


def _check_reviewable(slot: Assignment) -> None:
    status = escrow.escrow_status([slot.escrow_key]).get(slot.escrow_key)
    if status != "pending":
        raise AppError("not_escrowed", "This work's pay is not held in escrow; it cannot be reviewed.", status=409)


def assignment_approve(*, actor: User | None, assignment: Assignment, feedback: str = "") -> Assignment:
    """Approves submitted work and pays it from escrow (reward to the worker, fee to the
    co-op), exactly once. ``actor`` None means the auto-approval job."""
    with transaction.atomic():
        Batch.objects.select_for_update().filter(pk=assignment.batch_id).first()
        slot = _lock_assignment(assignment)
        _refuse_own_work(actor, [slot])
        slot.status = ASSIGNMENT.target(slot.status, "approved")
        assert slot.worker is not None
        escrow.escrow_settle(key=slot.escrow_key, worker=slot.worker)
        slot.approved_at = timezone.now()
        slot.requester_feedback = feedback.strip()
        slot.save(update_fields=["status", "approved_at", "requester_feedback"])
        audit_record(
            actor=actor,
            action="assignment.approved",
            target=slot,
            before={"status": Assignment.Status.SUBMITTED},
            after={},
        )
        fair_pay_owe_late_top_ups(batch_id=slot.batch_id, slots=[slot])
        _complete_if_done(slot.batch_id)
    return slot


def assignments_approve_many(*, actor: User | None, batch: Batch, assignment_ids: list[int], feedback: str = "") -> int:
    """Approves every listed submission of ``batch`` at once; all or nothing. Raises
    ``invalid_state`` naming the ids that are not awaiting review."""
    ids = sorted(set(assignment_ids))
    if not ids:
        raise _invalid({"assignment_ids": ["List at least one assignment."]})
    with transaction.atomic():
        batch = _lock_batch(batch)
        slots = list(
            Assignment.objects.select_for_update(of=("self",))
            .select_related("worker")
            .filter(batch=batch, pk__in=ids)
            .order_by("id")
        )
        _refuse_own_work(actor, slots)
        found = {slot.pk for slot in slots}
        not_ready = sorted(
            (set(ids) - found) | {slot.pk for slot in slots if slot.status != Assignment.Status.SUBMITTED}
        )
        if not_ready:
            raise AppError(
                "invalid_state",
                f"These assignments are not awaiting review in this batch: {', '.join(map(str, not_ready[:20]))}.",
                status=409,
                details={"assignment_ids": not_ready},
            )
        escrow.escrow_settle_many(items=[(slot.escrow_key, slot.worker) for slot in slots])  # type: ignore[misc]
        now = timezone.now()
        Assignment.objects.filter(pk__in=ids).update(
            status=ASSIGNMENT.target("submitted", "approved"), approved_at=now, requester_feedback=feedback.strip()
        )
        audit_record(actor=actor, action="assignment.bulk_approved", target=batch, after={"assignment_ids": ids})
        for slot in slots:
            slot.status = Assignment.Status.APPROVED
        fair_pay_owe_late_top_ups(batch_id=batch.pk, slots=slots)
        _complete_if_done(batch.pk)
    return len(ids)


def assignment_reject(*, actor: User, assignment: Assignment, reason: str, text: str) -> Assignment:
    """Rejects submitted work provisionally: the escrow stays reserved until the rejection is
    final (no dispute within the batch's contest window) or a dispute settles it. Needs a
    reason from ``REJECTION_REASONS`` and an explanation."""
    fields: dict[str, list[str]] = {}
    if reason not in REJECTION_REASONS:
        fields["reason"] = [f"Choose one of: {', '.join(REJECTION_REASONS)}."]
    if not text.strip():
        fields["text"] = ["Explain the rejection to the worker; they can dispute it."]
    if fields:
        raise _invalid(fields)
    with transaction.atomic():
        Batch.objects.select_for_update().filter(pk=assignment.batch_id).first()
        slot = _lock_assignment(assignment)
        _refuse_own_work(actor, [slot])
        slot.status = ASSIGNMENT.target(slot.status, "rejected")
        now = timezone.now()
        slot.rejected_at = now
        slot.rejection_reason = reason
        slot.rejection_text = text.strip()
        slot.rejection_final_at = now + timedelta(days=slot.batch.rule("contest_window_days"))
        slot.save(update_fields=["status", "rejected_at", "rejection_reason", "rejection_text", "rejection_final_at"])
        audit_record(
            actor=actor,
            action="assignment.rejected",
            target=slot,
            before={"status": Assignment.Status.SUBMITTED},
            after={"reason": reason, "final_at": slot.rejection_final_at.isoformat()},
        )
        _complete_if_done(slot.batch_id)
        notices.rejected(slot)
        # Mass-rejection guard (disputes app), once the rejection is committed; by the job's
        # name, so tasks does not import disputes. A failing check never changes this answer:
        # disputes.jobs.scan_mass_rejections runs the guard again.
        queue_on_commit("disputes.jobs.check_mass_rejection", organisation_id=slot.batch.organisation_id)
    return slot


def assignment_rejection_dispute(*, assignment: Assignment, actor: User | None = None) -> Assignment:
    """Holds a provisional rejection for a dispute (for the disputes app): the finalisation
    job leaves it alone until ``assignment_rejection_finalise`` or ``assignment_settle_outcome``."""
    with transaction.atomic():
        slot = _lock_assignment(assignment)
        slot.status = ASSIGNMENT.target(slot.status, "disputed")
        slot.save(update_fields=["status"])
        audit_record(
            actor=actor, action="assignment.disputed", target=slot, before={"status": Assignment.Status.REJECTED}
        )
    return slot


def assignment_rejection_lapse(*, assignment: Assignment) -> bool:
    """The contest window passed with no dispute: the rejection becomes final. For the
    finalisation job, which reads its list before taking any lock: under the row lock
    this checks again that the rejection is still undisputed, due, and not held by a
    dispute case, so a dispute opened in between keeps its escrow. True if finalised."""
    with transaction.atomic():
        slot = _lock_assignment(assignment)
        due = slot.rejection_final_at is not None and slot.rejection_final_at <= timezone.now()
        if slot.status != Assignment.Status.REJECTED or not due or rejection_is_held(slot.pk):
            return False
        _rejection_finalise_locked(slot, actor=None)
    return True


def assignment_rejection_finalise(*, assignment: Assignment, actor: User | None = None) -> Assignment:
    """Makes a rejection final: the escrow is voided back to the requester, exactly once.
    Idempotent for an already refunded assignment."""
    with transaction.atomic():
        slot = _lock_assignment(assignment)
        if slot.status == Assignment.Status.REFUNDED:
            return slot
        _rejection_finalise_locked(slot, actor=actor)
    return slot


def _rejection_finalise_locked(slot: Assignment, *, actor: User | None) -> None:
    before = slot.status
    slot.status = ASSIGNMENT.target(slot.status, "finalised")
    escrow.escrow_return(key=slot.escrow_key)
    slot.finalised_at = timezone.now()
    slot.save(update_fields=["status", "finalised_at"])
    audit_record(actor=actor, action="assignment.rejection_final", target=slot, before={"status": before})


def assignment_settle_outcome(*, assignment: Assignment, share_bps: int, actor: User | None = None) -> Assignment:
    """Settles a rejected or disputed assignment with a dispute outcome: ``share_bps`` of the
    reward (and fee) is paid, the rest returns to the requester. 0 is the same as a final
    rejection; 10000 pays in full."""
    if not 0 <= share_bps <= 10_000:
        raise _invalid({"share_bps": ["Between 0 and 10000."]})
    if share_bps == 0:
        return assignment_rejection_finalise(assignment=assignment, actor=actor)
    with transaction.atomic():
        slot = _lock_assignment(assignment)
        before = slot.status
        slot.status = ASSIGNMENT.target(slot.status, "settled")
        assert slot.worker is not None
        escrow.escrow_settle(key=slot.escrow_key, worker=slot.worker, share_bps=share_bps)
        slot.settled_share_bps = share_bps
        slot.finalised_at = timezone.now()
        slot.save(update_fields=["status", "settled_share_bps", "finalised_at"])
        audit_record(
            actor=actor, action="assignment.settled", target=slot, before={"status": before}, after={"share": share_bps}
        )
        fair_pay_owe_late_top_ups(batch_id=slot.batch_id, slots=[slot])
    return slot


def assignment_rejection_withdraw(*, actor: User, assignment: Assignment) -> Assignment:
    """The requester takes back its own provisional rejection: the work is paid in full
    (``settled`` at 10000 basis points), exactly once. The one way to do it, for the API,
    the pages and MTurk's ``ApproveAssignment`` with ``OverrideRejection``.

    Checks that ``actor`` may review the batch (``not_found`` otherwise). A rejection held
    by a dispute case is withdrawn through the case (``tasks.hooks``): a worker's case still
    awaiting the requester's answer closes as accepted, so no case is left behind waiting
    for an answer that can no longer change anything; later in the case, or in a mass case,
    ``rejection_under_dispute`` (409). Raises ``not_rejected`` (409) for work that is not
    under a provisional rejection. On any refusal nothing changes.

    Lock order: the case (if any), the batch, the assignment."""
    if not actor.has_perm("tasks.review_batch", assignment.batch):
        raise NotFound("submission")
    try:
        return _rejection_withdraw(actor=actor, assignment=assignment)
    except _CaseOpenedMeanwhile:
        # The worker's dispute committed between the case look-up and the row lock: the
        # savepoint released the locks; now the case is found and resolved through it.
        return _rejection_withdraw(actor=actor, assignment=assignment, retried=True)


class _CaseOpenedMeanwhile(Exception):
    pass


def _rejection_withdraw(*, actor: User, assignment: Assignment, retried: bool = False) -> Assignment:
    with transaction.atomic():
        if rejection_withdrawal_resolve_case(assignment_id=assignment.pk, actor=actor):
            return Assignment.objects.select_related("worker", "task").get(pk=assignment.pk)
        Batch.objects.select_for_update().filter(pk=assignment.batch_id).first()
        slot = _lock_assignment(assignment)
        if rejection_is_held(slot.pk):
            if not retried:
                raise _CaseOpenedMeanwhile
            raise AppError(
                "rejection_under_dispute",
                "This rejection is held by a dispute case; answer the case under /api/disputes/cases/.",
                status=409,
            )
        if slot.status not in (Assignment.Status.REJECTED, Assignment.Status.DISPUTED):
            raise AppError(
                "not_rejected", f"This assignment is {slot.status}; only a rejection can be withdrawn.", status=409
            )
        before = slot.status
        slot.status = ASSIGNMENT.target(slot.status, "settled")
        assert slot.worker is not None
        escrow.escrow_settle(key=slot.escrow_key, worker=slot.worker, share_bps=10_000)
        slot.settled_share_bps = 10_000
        slot.finalised_at = timezone.now()
        slot.save(update_fields=["status", "settled_share_bps", "finalised_at"])
        audit_record(
            actor=actor,
            action="assignment.rejection_withdrawn",
            target=slot,
            before={"status": before},
            after={"share": 10_000},
        )
    return slot


def assignment_bonus(*, actor: User, assignment: Assignment, amount: int, reason: str, token: str = "") -> Bonus:
    """Pays a bonus from the organisation's available balance to the worker. With a ``token``
    the call is idempotent: the same token returns the same bonus, also when two retries
    race (the loser of the insert answers the winner's bonus), and the same token for a
    different bonus is ``token_reused`` (409). Never pays twice."""
    fields: dict[str, list[str]] = {}
    if amount <= 0:
        fields["amount"] = ["A bonus must be more than zero (minor units)."]
    elif amount > MAX_BONUS:
        fields["amount"] = [f"At most {format_amount(MAX_BONUS, assignment.batch.currency)} per bonus."]
    if not reason.strip():
        fields["reason"] = ["Tell the worker why."]
    if fields:
        raise _invalid(fields)
    organisation = assignment.batch.organisation
    # The ledger's transfer id is "bonus:<key>".
    key = (
        f"organisation:{organisation.pk}:{token[:64]}"
        if token
        else f"organisation:{organisation.pk}:{uuid.uuid4().hex}"
    )
    existing = Bonus.objects.filter(key=key).first()
    if existing is not None:
        return _bonus_replayed(existing, assignment=assignment, amount=amount)
    if assignment.worker_id is None or assignment.status in (
        Assignment.Status.OPEN,
        Assignment.Status.ACCEPTED,
        Assignment.Status.WITHDRAWN,
    ):
        raise AppError("invalid_state", "Only submitted work can get a bonus.", status=409)
    with transaction.atomic():
        try:
            # A concurrent retry with the same token inserts the same key: the unique
            # constraint lets one win; the other waits for it and answers its bonus.
            with transaction.atomic():
                bonus = Bonus.objects.create(
                    assignment=assignment,
                    worker_id=assignment.worker_id,
                    amount=amount,
                    reason=reason.strip(),
                    key=key,
                    created_by=actor,
                )
        except IntegrityError:
            winner = Bonus.objects.filter(key=key).first()
            if winner is None:
                raise
            return _bonus_replayed(winner, assignment=assignment, amount=amount)
        escrow.bonus_pay(organisation=organisation, worker=bonus.worker, amount=amount, key=key)
        notices.bonus_paid(bonus, assignment)
        audit_record(actor=actor, action="assignment.bonus", target=assignment, after={"amount": amount, "key": key})
    return bonus


def _bonus_replayed(existing: Bonus, *, assignment: Assignment, amount: int) -> Bonus:
    if existing.assignment_id != assignment.pk or existing.amount != amount:
        raise AppError("token_reused", "That request token was used for a different bonus.", status=409)
    return existing


# --- Fair pay --------------------------------------------------------------------------------------

FAIR_PAY_FORMULA = (
    "measured time = the median of the good-faith work times of the batch's eligible workers, where: an attempt "
    "counts if it was submitted and not finally rejected (its time is accept to submit), or if it expired while "
    "the worker was working (they submitted after the time allotted and its grace), counted as at least the time "
    "allotted; attempts by the requester's present staff and those who left within former_staff_days are left "
    "out; of the rest, attempts faster than fair_pay_fast_share_bps of their median are implausibly fast and left "
    "out, and the median of what remains is the measured time. When reward / measured time is under the "
    "minimum_hourly_wage the batch was published under, every paid attempt is owed a top-up of "
    "ceil(minimum_hourly_wage x measured time / 1 h) - reward (a partly paid one its share of it), paid by the "
    "requester, whenever the attempt is paid: approval, auto-approval, a jury or an appeal."
)


def _notice(*, kind: str, message: str, batch: Batch, user: User | None = None, organisation: Any = None) -> None:
    notices.fair_pay_notice(kind=kind, message=message, batch=batch, user=user, organisation=organisation)


@dataclass(frozen=True)
class FairPayFigures:
    median_work_seconds: int
    median_hourly_pay: int
    top_up_per_assignment: int


def good_faith_median(work_seconds: list[int], *, fast_share_bps: int = 0) -> int | None:
    """The median of ``work_seconds`` robust to a minority of implausibly fast ones: times
    under ``fast_share_bps`` of the plain median are dropped, then the median is taken again.
    While fewer than half the times are fast, the plain median is an honest time, so every
    fast one under the share of it is dropped and cannot pull the result down."""
    if not work_seconds:
        return None
    first = statistics.median(work_seconds)
    kept = [s for s in work_seconds if s * 10_000 >= first * fast_share_bps]
    return max(1, int(statistics.median(kept)))


def fair_pay_figures(
    *, reward: int, work_seconds: list[int], floor_hourly: int, fast_share_bps: int = 0
) -> FairPayFigures | None:
    """Median effective hourly pay and the top-up that brings it to the floor.

    The top-up is what the median worker was short: floor * median time - reward,
    rounded up to a whole minor unit so the floor is always met."""
    median = good_faith_median(work_seconds, fast_share_bps=fast_share_bps)
    if median is None:
        return None
    hourly = batch_hourly_pay(reward, median)
    owed = -(-floor_hourly * median // 3600) - reward
    return FairPayFigures(median_work_seconds=median, median_hourly_pay=hourly, top_up_per_assignment=max(0, owed))


def batch_hourly_pay(reward: int, seconds: int) -> int:
    return reward * 3600 // max(1, seconds)


def batch_good_faith_seconds(*, batch: Batch, at: Any = None) -> list[int]:
    """The work times the fair-pay median is taken over (``FAIR_PAY_FORMULA``, before the
    fast ones are dropped): one query for the attempts, one for the requester's staff."""
    from accounts.selectors import organisation_staff_ids

    staff = organisation_staff_ids(organisation_id=batch.organisation_id, at=at)
    allotted = batch.time_allotted_minutes * 60
    rows = (
        AssignmentAttempt.objects.filter(batch=batch, outcome__in=("submitted", "expired"))
        .exclude(worker_id__in=staff)
        .values_list("outcome", "work_seconds", "late_submission_at", "assignment__status")
    )
    seconds: list[int] = []
    for outcome, work, late_at, status in rows:
        if outcome == "submitted" and status != Assignment.Status.REFUNDED:
            seconds.append(work or 0)
        elif outcome == "expired" and late_at is not None:
            seconds.append(max(work or 0, allotted))
    return seconds


def _batch_rule(batch: Batch, key: str) -> int:
    """A rule the batch recorded at publish, or for a batch published before the rule
    existed, the value in force at its publication."""
    if key in batch.rule_versions:
        return batch.rule(key)
    return rule_in_force(key, at=batch.published_at).value


def _top_up_amount(review: FairPayReview, slot: Assignment) -> int:
    """The top-up owed on one paid attempt: in full for approved work, its share for a partly paid one."""
    if slot.status == Assignment.Status.SETTLED and slot.settled_share_bps is not None:
        return -(-review.top_up_per_assignment * slot.settled_share_bps // 10_000)
    return review.top_up_per_assignment


def _top_up_reason(batch: Batch, review: FairPayReview) -> str:
    currency = batch.currency
    return (
        f"Fair-pay top-up: the median worker on '{batch.title}' took {review.median_work_seconds // 60} min, "
        f"so the reward paid {format_amount(review.median_hourly_pay, currency)}/h, under the co-op's "
        f"{format_amount(review.floor_hourly, currency)}/h."
    )


def _owe_top_ups(batch: Batch, review: FairPayReview, slots: list[Assignment]) -> int:
    """Records the top-ups owed on ``slots`` (paid attempts) as unpaid bonuses, once each
    (the key ``topup:assignment:<id>`` is unique); the caller's transaction holds the batch
    lock. Returns how many were newly owed. The payment is the job's (``fair_pay_top_up_pay``)."""
    if review.top_up_per_assignment <= 0 or not slots:
        return 0
    reason = _top_up_reason(batch, review)
    keys = {f"topup:assignment:{slot.pk}": slot for slot in slots}
    existing = set(Bonus.objects.filter(key__in=list(keys)).values_list("key", flat=True))
    new = [
        Bonus(
            assignment=slot,
            worker_id=slot.worker_id,
            kind=Bonus.Kind.FAIR_PAY_TOP_UP,
            amount=_top_up_amount(review, slot),
            reason=reason,
            key=key,
            paid=False,
        )
        for key, slot in keys.items()
        if key not in existing and slot.worker_id is not None
    ]
    Bonus.objects.bulk_create(new)
    if new:
        FairPayReview.objects.filter(pk=review.pk).update(top_ups_owed=F("top_ups_owed") + len(new))
    return len(new)


def fair_pay_owe_late_top_ups(*, batch_id: int, slots: list[Assignment]) -> int:
    """For the marketplace's payment services, inside their transaction: work paid after its
    batch's fair-pay review (a late approval, a jury's or an appeal's outcome) is owed its
    top-up at once, written with the payment itself. Returns how many were owed."""
    review = FairPayReview.objects.filter(batch_id=batch_id, top_up_per_assignment__gt=0).first()
    if review is None:
        return 0
    batch = Batch.objects.get(pk=batch_id)
    return _owe_top_ups(batch, review, slots)


def batch_fair_pay_review(*, batch: Batch) -> FairPayReview | None:
    """Measures a finished batch's good-faith median work time (``FAIR_PAY_FORMULA``); when
    its median hourly pay is below the floor in force at publish, every paid attempt is owed
    the shortfall as a top-up, written as unpaid bonuses in this same transaction, and both
    sides are told. ``fair_pay_collect_owed`` (the job) pays them, each once. Work paid later
    is owed its top-up when it is paid (``fair_pay_owe_late_top_ups``).

    Runs once per batch (idempotent); a batch that never published (a cancelled draft) is
    marked reviewed with nothing measured. Any error leaves the batch unreviewed, and
    ``batch_fair_pay_review_failed`` records it for the job's retry."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.fair_pay_reviewed_at is not None or batch.status not in ("completed", "cancelled", "expired"):
            return None
        now = timezone.now()
        batch.fair_pay_reviewed_at = now
        batch.fair_pay_error = ""
        batch.fair_pay_retry_at = None
        batch.save(update_fields=["fair_pay_reviewed_at", "fair_pay_error", "fair_pay_retry_at"])
        if batch.published_at is None or "minimum_hourly_wage" not in batch.rule_versions:
            # Never published: no work, no rules it ran under, nothing to measure.
            return None
        floor = batch.rule("minimum_hourly_wage")
        figures = fair_pay_figures(
            reward=batch.reward,
            work_seconds=batch_good_faith_seconds(batch=batch, at=now),
            floor_hourly=floor,
            fast_share_bps=_batch_rule(batch, "fair_pay_fast_share_bps"),
        )
        if figures is None:
            return None
        review = FairPayReview.objects.create(
            batch=batch,
            median_work_seconds=figures.median_work_seconds,
            median_hourly_pay=figures.median_hourly_pay,
            floor_hourly=floor,
            top_up_per_assignment=figures.top_up_per_assignment,
        )
        owed = 0
        if figures.top_up_per_assignment:
            paid_work = list(Assignment.objects.filter(batch=batch, status__in=("approved", "settled")).order_by("id"))
            owed = _owe_top_ups(batch, review, paid_work)
            currency = batch.currency
            _notice(
                kind="fair_pay_top_up",
                message=(
                    f"'{batch.title}' paid a median {format_amount(figures.median_hourly_pay, currency)}/h against "
                    f"the co-op's minimum {format_amount(floor, currency)}/h: each paid assignment is owed a top-up "
                    f"of {format_amount(figures.top_up_per_assignment, currency)} from your balance ({owed} owed "
                    "now; work paid later is owed it too). What your balance cannot cover waits until you add "
                    "funds. Correct the time estimate for future batches."
                ),
                batch=batch,
                organisation=batch.organisation,
            )
        audit_record(
            actor=None,
            action="batch.fair_pay_reviewed",
            target=batch,
            after={
                "median_hourly_pay": figures.median_hourly_pay,
                "top_up": figures.top_up_per_assignment,
                "owed": owed,
            },
        )
    review.refresh_from_db()
    return review


def batch_fair_pay_review_failed(*, batch_id: int, error: BaseException) -> None:
    """Records on the batch that its fair-pay review failed; the job retries it after a
    backoff that doubles with each failure (at most a day), and staff see the error."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.fair_pay_reviewed_at is not None:
            return
        failures = batch.fair_pay_failures + 1
        batch.fair_pay_failures = failures
        batch.fair_pay_error = f"{type(error).__name__}: {error}"[:2000]
        batch.fair_pay_retry_at = timezone.now() + timedelta(minutes=min(2 ** (failures - 1) * 10, 24 * 60))
        batch.save(update_fields=["fair_pay_failures", "fair_pay_error", "fair_pay_retry_at"])


def fair_pay_top_up_pay(*, bonus_id: int) -> bool:
    """Pays one owed top-up from the requester's balance, exactly once: the ledger transfer
    (``bonus:<key>``), the bonus marked paid, the review's counters and the worker's notice
    are one transaction, so a crash anywhere leaves it owed and the next run pays it.
    Returns True if paid now; raises ``insufficient_funds`` (409) with nothing changed."""
    with transaction.atomic():
        bonus = (
            Bonus.objects.select_for_update(of=("self",))
            .select_related("assignment__batch__organisation", "worker")
            .filter(pk=bonus_id, kind=Bonus.Kind.FAIR_PAY_TOP_UP)
            .first()
        )
        if bonus is None or bonus.paid:
            return False
        batch = bonus.assignment.batch
        escrow.bonus_pay(organisation=batch.organisation, worker=bonus.worker, amount=bonus.amount, key=bonus.key)
        bonus.paid = True
        bonus.save(update_fields=["paid"])
        FairPayReview.objects.filter(batch=batch).update(
            top_ups_paid=F("top_ups_paid") + 1, top_ups_owed=F("top_ups_owed") - 1
        )
        _notice(kind="fair_pay_top_up", message=bonus.reason, batch=batch, user=bonus.worker)
    return True


def _tell_top_up_waits(bonus_id: int) -> None:
    """The worker hears once that their top-up waits for the requester's funds."""
    bonus = Bonus.objects.select_related("assignment__batch", "worker").get(pk=bonus_id)
    batch = bonus.assignment.batch
    if notices.top_up_owed_told(worker_id=bonus.worker_id, batch_id=batch.pk):
        return
    _notice(
        kind="fair_pay_top_up_owed",
        message=bonus.reason + " The requester's balance cannot cover it yet; it is owed and paid on funding.",
        batch=batch,
        user=bonus.worker,
    )


def fair_pay_collect_owed(*, batch: Batch) -> int:
    """Pays the owed top-ups of ``batch``, each on its own (``fair_pay_top_up_pay``); returns
    how many were paid. Stops at the requester's first ``insufficient_funds`` (the rest wait
    for funding); any other failure is logged and left owed for the next run, and the others
    are still paid."""
    paid = 0
    owed_ids = list(
        Bonus.objects.filter(assignment__batch=batch, kind=Bonus.Kind.FAIR_PAY_TOP_UP, paid=False)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for bonus_id in owed_ids:
        try:
            paid += fair_pay_top_up_pay(bonus_id=bonus_id)
        except AppError as error:
            if error.code != "insufficient_funds":
                logger.warning("top-up %s not paid: %s", bonus_id, error.code)
                continue
            _tell_top_up_waits(bonus_id)
            break
        except Exception:
            logger.exception("top-up %s not paid; the next run retries it", bonus_id)
    return paid


# --- Qualifications, block list, ratings -----------------------------------------------------------


def qualification_create(
    *,
    organisation: Organisation,
    actor: User,
    name: str,
    description: str,
    test_questions: list[dict[str, Any]] | None = None,
    answer_key: dict[str, str] | None = None,
    pass_bps: int = 10_000,
    estimated_minutes: int = 1,
) -> Qualification:
    """A requester qualification, granted by hand or by a test whose answer key grants it.
    A test estimated longer than the governed ``qualification_test_free_minutes`` is paid
    to every worker who takes it (``qualification_test_offer``)."""
    _require_staff(actor, organisation)
    fields: dict[str, list[str]] = {}
    if not name.strip():
        fields["name"] = ["Required."]
    if not description.strip():
        fields["description"] = ["Say in plain words what it certifies; workers read it."]
    questions = test_questions or []
    key = answer_key or {}
    names = [q.get("name") for q in questions if isinstance(q, dict)]
    if len(names) != len(questions) or not all(isinstance(n, str) and n for n in names):
        fields["test_questions"] = ["Each question needs a name and the question text."]
    elif set(names) != set(key):
        fields["answer_key"] = ["Give exactly one answer for each question."]
    if not 0 < pass_bps <= 10_000:
        fields["pass_bps"] = ["Between 1 and 10000."]
    if not isinstance(estimated_minutes, int) or not 1 <= estimated_minutes <= 600:
        fields["estimated_minutes"] = ["Between 1 and 600 minutes: how long the test takes an honest worker."]
    if fields:
        raise _invalid(fields)
    with transaction.atomic():
        qualification = Qualification.objects.create(
            organisation=organisation,
            name=name.strip(),
            description=description.strip(),
            test_questions=questions,
            answer_key={str(k): str(v) for k, v in key.items()},
            pass_bps=pass_bps,
            estimated_minutes=estimated_minutes,
        )
        audit_record(actor=actor, action="qualification.created", target=qualification, after={"name": name})
    return qualification


def qualification_grant(
    *, qualification: Qualification, worker: User, actor: User | None, value: int = 1
) -> QualificationGrant:
    with transaction.atomic():
        grant, _ = QualificationGrant.objects.update_or_create(
            qualification=qualification, worker=worker, defaults={"value": value, "by_test": actor is None}
        )
        audit_record(actor=actor, action="qualification.granted", target=grant, after={"value": value})
        notices.qualification_changed(qualification, worker.pk, granted=True)
    return grant


def qualification_revoke(*, qualification: Qualification, worker: User, actor: User) -> None:
    with transaction.atomic():
        deleted, _ = QualificationGrant.objects.filter(qualification=qualification, worker=worker).delete()
        if deleted:
            audit_record(actor=actor, action="qualification.revoked", target=qualification, after={"worker": worker.pk})
            notices.qualification_changed(qualification, worker.pk, granted=False)


def qualification_test_pay(*, qualification: Qualification) -> int:
    """What taking the test pays (minor units): nothing for a test no longer than the governed
    ``qualification_test_free_minutes``, otherwise the minimum hourly wage for its estimated
    length, rounded up."""
    if not qualification.has_test or qualification.estimated_minutes <= rule_value("qualification_test_free_minutes"):
        return 0
    return -(-rule_value("minimum_hourly_wage") * qualification.estimated_minutes // 60)


def qualification_test_offer(*, qualification: Qualification, worker: User) -> QualificationTestOffer | None:
    """Offers a paid test to ``worker``: its pay is reserved in escrow from the requester's
    balance now, before the worker spends a minute on it, and paid when they take it.
    Idempotent (one offer per worker and test); None for an unpaid test. Raises
    ``test_not_funded`` (409, nothing changes) when the requester's balance cannot cover it."""
    amount = qualification_test_pay(qualification=qualification)
    if amount == 0:
        return None
    existing = QualificationTestOffer.objects.filter(qualification=qualification, worker=worker).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            offer = QualificationTestOffer.objects.create(
                qualification=qualification, worker=worker, amount=amount, offered_at=timezone.now()
            )
            escrow.escrow_reserve_slots(
                organisation=qualification.organisation,
                slots=[escrow.EscrowSlot(key=offer.escrow_key, reward=amount, fee=0)],
            )
            audit_record(actor=worker, action="qualification.test_offered", target=offer, after={"amount": amount})
    except IntegrityError:
        return QualificationTestOffer.objects.get(qualification=qualification, worker=worker)
    except AppError as error:
        if error.code != "insufficient_funds":
            raise
        raise AppError(
            "test_not_funded",
            "This test is paid, and its requester's balance cannot cover its pay right now; try again later.",
            status=409,
        ) from error
    return offer


def qualification_test_take(*, qualification: Qualification, worker: User, answers: dict[str, str]) -> int:
    """Scores a qualification test against its answer key; grants it when the score reaches
    ``pass_bps``. A paid test (``qualification_test_pay``) pays the worker its escrowed pay
    whatever the score, once. Returns the score in basis points (the worker sees it)."""
    if not qualification.has_test:
        raise AppError("no_test", "This qualification is granted by the requester, not by a test.", status=409)
    # A worker who never opened the test (e.g. through the MTurk endpoint) is offered it now.
    qualification_test_offer(qualification=qualification, worker=worker)
    with transaction.atomic():
        offer = (
            QualificationTestOffer.objects.select_for_update()
            .filter(qualification=qualification, worker=worker, status=QualificationTestOffer.Status.OFFERED)
            .first()
        )
        if offer is not None:
            escrow.escrow_settle(key=offer.escrow_key, worker=worker)
            offer.status = QualificationTestOffer.Status.PAID
            offer.paid_at = timezone.now()
            offer.save(update_fields=["status", "paid_at"])
            audit_record(actor=worker, action="qualification.test_paid", target=offer, after={"amount": offer.amount})
        return _qualification_score(qualification, worker, answers)


def _qualification_score(qualification: Qualification, worker: User, answers: dict[str, str]) -> int:
    key = qualification.answer_key
    correct = sum(1 for name, answer in key.items() if str(answers.get(name, "")).strip() == answer)
    score = correct * 10_000 // max(1, len(key))
    if score >= qualification.pass_bps:
        qualification_grant(qualification=qualification, worker=worker, actor=None)
    return score


def worker_block(*, organisation: Organisation, actor: User, worker: User, reason: str) -> BlockedWorker:
    """Adds a worker to the organisation's own block list; it affects only its batches."""
    _require_staff(actor, organisation)
    if not reason.strip():
        raise _invalid({"reason": ["Say why; the worker can see it."]})
    with transaction.atomic():
        block, _ = BlockedWorker.objects.update_or_create(
            organisation=organisation, worker=worker, defaults={"reason": reason.strip()}
        )
        audit_record(actor=actor, action="worker.blocked", target=organisation, after={"worker": worker.pk})
    return block


def worker_unblock(*, organisation: Organisation, actor: User, worker: User) -> None:
    _require_staff(actor, organisation)
    with transaction.atomic():
        BlockedWorker.objects.filter(organisation=organisation, worker=worker).delete()
        audit_record(actor=actor, action="worker.unblocked", target=organisation, after={"worker": worker.pk})


def requester_rate(
    *,
    worker: User,
    organisation: Organisation,
    pay_fairness: int,
    communication: int,
    review_speed: int,
    comment: str = "",
) -> RequesterRating:
    """A worker's rating of a requester it has submitted work to (one per worker, replaceable)."""
    fields = {
        name: ["From 1 to 5."]
        for name, value in (
            ("pay_fairness", pay_fairness),
            ("communication", communication),
            ("review_speed", review_speed),
        )
        if not 1 <= value <= 5
    }
    if fields:
        raise _invalid(fields)
    worked = Assignment.objects.filter(
        batch__organisation=organisation, worker=worker, submitted_at__isnull=False
    ).exists()
    if not worked:
        raise AppError("not_worked", "You can rate a requester after submitting work to it.", status=403)
    if user_is_organisation_staff(user_id=worker.pk, organisation_id=organisation.pk):
        raise AppError("own_organisation", "Staff (present or recent) cannot rate their own organisation.", status=403)
    with transaction.atomic():
        rating, _ = RequesterRating.objects.update_or_create(
            organisation=organisation,
            worker=worker,
            defaults={
                "pay_fairness": pay_fairness,
                "communication": communication,
                "review_speed": review_speed,
                "comment": comment.strip(),
            },
        )
        audit_record(actor=worker, action="requester.rated", target=organisation, after={"rating": rating.pk})
    return rating
