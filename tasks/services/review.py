"""The requester's review of submitted work: approve (one or many), reject provisionally,
pay a bonus."""

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError
from ledger import escrow
from tasks.models import Assignment, Batch, Bonus
from tasks.services.batches import _complete_if_done
from tasks.services.common import _invalid, _lock_assignment, _lock_batch
from tasks.states import ASSIGNMENT, REJECTION_REASONS


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
        # Mass-rejection guard (disputes app), once the rejection is committed. Imported here:
        # disputes.services imports this module.
        from disputes.jobs import check_mass_rejection

        organisation_id = slot.batch.organisation_id
        transaction.on_commit(lambda: check_mass_rejection.delay(organisation_id))
    return slot


def assignment_bonus(*, actor: User, assignment: Assignment, amount: int, reason: str, token: str = "") -> Bonus:
    """Pays a bonus from the organisation's available balance to the worker. With a ``token``
    the call is idempotent (the same token returns the same bonus)."""
    fields: dict[str, list[str]] = {}
    if amount <= 0:
        fields["amount"] = ["A bonus must be more than zero (minor units)."]
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
        if existing.assignment_id != assignment.pk or existing.amount != amount:
            raise AppError("token_reused", "That request token was used for a different bonus.", status=409)
        return existing
    if assignment.worker_id is None or assignment.status in (
        Assignment.Status.OPEN,
        Assignment.Status.ACCEPTED,
        Assignment.Status.WITHDRAWN,
    ):
        raise AppError("invalid_state", "Only submitted work can get a bonus.", status=409)
    with transaction.atomic():
        bonus = Bonus.objects.create(
            assignment=assignment,
            worker_id=assignment.worker_id,
            amount=amount,
            reason=reason.strip(),
            key=key,
            created_by=actor,
        )
        escrow.bonus_pay(organisation=organisation, worker=bonus.worker, amount=amount, key=key)
        audit_record(actor=actor, action="assignment.bonus", target=assignment, after={"amount": amount, "key": key})
    return bonus
