"""Rejection of work under a batch's disclosed control-accuracy threshold (issue 27.1): the
normal provisional, disputable rejection, with the control evidence kept on each rejected
assignment for the jurors of a dispute."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError
from tasks.models import Assignment, Batch
from tasks.quality.selectors import EVIDENCE_ITEMS, batch_control_scores
from tasks.services.common import _lock_batch
from tasks.services.review import assignment_reject


def _percent(bps: int) -> str:
    return f"{bps / 100:g} %"


def batch_reject_below_control_threshold(*, actor: User, batch: Batch) -> int:
    """Rejects, provisionally and each with its evidence, the work awaiting review of every
    worker whose control accuracy in ``batch`` is under its threshold and who answered at
    least ``control_min_answered`` checks. All or nothing, one transaction (batch locked
    first); returns how many submissions were rejected. Raises ``no_control_threshold`` (409)
    when the batch has none. ``actor`` needs the review capability (checked by the caller's
    ``access_batch``); nobody rejects their own work (``own_work``)."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.control_threshold_bps is None:
            raise AppError(
                "no_control_threshold",
                _("This batch has no control threshold; reject work one by one with a reason."),
                status=409,
            )
        threshold = batch.control_threshold_bps
        rejected = 0
        for score in batch_control_scores(batch=batch).values():
            accuracy = score.accuracy_bps
            if accuracy is None or score.answered < batch.control_min_answered or accuracy >= threshold:
                continue
            evidence = {
                "accuracy_bps": accuracy,
                "correct": score.correct,
                "answered": score.answered,
                "threshold_bps": threshold,
                "min_answered": batch.control_min_answered,
                "checks": [check.as_evidence() for check in score.checks[:EVIDENCE_ITEMS]],
            }
            text = _(
                "Your control accuracy in this batch is %(accuracy)s (%(correct)s of %(answered)s checks right), "
                "under the threshold of %(threshold)s stated on the batch. You can dispute this rejection: the "
                "checks, with the expected and given answers, go with the case."
            ) % {
                "accuracy": _percent(accuracy),
                "correct": score.correct,
                "answered": score.answered,
                "threshold": _percent(threshold),
            }
            awaiting = Assignment.objects.filter(
                batch=batch, worker_id=score.worker_id, status=Assignment.Status.SUBMITTED
            ).order_by("id")
            for slot in awaiting:
                assignment_reject(actor=actor, assignment=slot, reason="failed_gold_question", text=text)
                Assignment.objects.filter(pk=slot.pk).update(control_evidence=evidence)
                rejected += 1
        audit_record(
            actor=actor,
            action="batch.control_rejections",
            target=batch,
            after={"threshold_bps": threshold, "rejected": rejected},
        )
    return rejected
