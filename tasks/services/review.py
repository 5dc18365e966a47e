"""The requester's review of submitted work: approve (one or many), reject provisionally,
pay a bonus."""

import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError
from core.money import MAX_BONUS, format_amount
from core.queue import queue_on_commit
from tasks import books, notices
from tasks.models import Assignment, Batch, Bonus
from tasks.services.batches import _complete_if_done
from tasks.services.common import _invalid, _lock_assignment, _lock_batch
from tasks.services.fair_pay import fair_pay_owe_late_top_ups
from tasks.states import ASSIGNMENT, REJECTION_REASONS


def _refuse_own_work(actor: User | None, slots: list[Assignment]) -> None:
    """Nobody reviews their own work (no self-dealing, issue 19): refused with ``own_work``."""
    if actor is not None and any(slot.worker_id == actor.pk for slot in slots):
        raise AppError(
            "own_work", _("You cannot review your own work; another of the requester's staff must."), status=403
        )


def _check_reviewable(slot: Assignment) -> None:
    status = books.statuses([slot]).get(slot.escrow_key)
    if status != "pending":
        raise AppError("not_escrowed", _("This work's pay is not held in escrow; it cannot be reviewed."), status=409)


def assignment_approve(*, actor: User | None, assignment: Assignment, feedback: str = "") -> Assignment:
    """Approves submitted work and pays it from escrow (reward to the worker, fee to the
    co-op), exactly once. ``actor`` None means the auto-approval job."""
    with transaction.atomic():
        Batch.objects.select_for_update().filter(pk=assignment.batch_id).first()
        slot = _lock_assignment(assignment)
        _refuse_own_work(actor, [slot])
        slot.status = ASSIGNMENT.target(slot.status, "approved")
        assert slot.worker is not None
        books.settle(slot.batch, slot.escrow_key, slot.worker)
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
                _("These assignments are not awaiting review in this batch: %(map)s.")
                % {"map": ", ".join(map(str, not_ready[:20]))},
                status=409,
                details={"assignment_ids": not_ready},
            )
        books.settle_many(batch, [(slot.escrow_key, slot.worker) for slot in slots])  # type: ignore[misc]
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
        fields["reason"] = [
            _("Choose one of: %(REJECTION_REASONS)s.") % {"REJECTION_REASONS": ", ".join(REJECTION_REASONS)}
        ]
    if not text.strip():
        fields["text"] = [_("Explain the rejection to the worker; they can dispute it.")]
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
        if not slot.batch.is_sandbox:
            queue_on_commit("disputes.jobs.check_mass_rejection", organisation_id=slot.batch.organisation_id)
    return slot


def assignment_bonus(*, actor: User, assignment: Assignment, amount: int, reason: str, token: str = "") -> Bonus:
    """Pays a bonus from the organisation's available balance to the worker. With a ``token``
    the call is idempotent: the same token returns the same bonus, also when two retries
    race (the loser of the insert answers the winner's bonus), and the same token for a
    different bonus is ``token_reused`` (409). Never pays twice."""
    fields: dict[str, list[str]] = {}
    if amount <= 0:
        fields["amount"] = [_("A bonus must be more than zero.")]
    elif amount > MAX_BONUS:
        fields["amount"] = [
            _("At most %(amount)s per bonus.") % {"amount": format_amount(MAX_BONUS, assignment.batch.currency)}
        ]
    if not reason.strip():
        fields["reason"] = [_("Tell the worker why.")]
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
        raise AppError("invalid_state", _("Only submitted work can get a bonus."), status=409)
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
        books.bonus_pay(assignment.batch, worker=bonus.worker, amount=amount, key=key)
        notices.bonus_paid(bonus, assignment)
        audit_record(actor=actor, action="assignment.bonus", target=assignment, after={"amount": amount, "key": key})
    return bonus


def _bonus_replayed(existing: Bonus, *, assignment: Assignment, amount: int) -> Bonus:
    if existing.assignment_id != assignment.pk or existing.amount != amount:
        raise AppError("token_reused", _("That request token was used for a different bonus."), status=409)
    return existing
