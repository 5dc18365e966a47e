"""What becomes of a rejection: held for a dispute, lapsed or finalised (escrow returns),
settled with a dispute's outcome, or withdrawn by the requester through the one service."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError, NotFound
from core.labels import label
from tasks import books
from tasks.hooks import rejection_is_held, rejection_withdrawal_resolve_case
from tasks.models import Assignment, Batch
from tasks.services.common import _invalid, _lock_assignment
from tasks.services.fair_pay import fair_pay_owe_late_top_ups
from tasks.states import ASSIGNMENT


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
    books.give_back(slot.batch, slot.escrow_key)
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
        books.settle(slot.batch, slot.escrow_key, slot.worker, share_bps)
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
                _("This rejection is held by a dispute case; answer the case under /api/disputes/cases/."),
                status=409,
            )
        if slot.status not in (Assignment.Status.REJECTED, Assignment.Status.DISPUTED):
            raise AppError(
                "not_rejected",
                _("Only a rejection can be withdrawn. This assignment's state: %(state)s.")
                % {"state": label(slot.status)},
                status=409,
            )
        before = slot.status
        slot.status = ASSIGNMENT.target(slot.status, "settled")
        assert slot.worker is not None
        books.settle(slot.batch, slot.escrow_key, slot.worker, 10_000)
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
