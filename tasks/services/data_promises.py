"""The co-op's data promises to workers (issue 28 points 2 and 3): the end-of-batch data
report and the opt-out from reuse beyond a batch's purpose.

- When a batch closes (completed or expired), its requester files a short report within the
  governed ``data_report_days``: what the data was used for, whether that matched the stated
  purpose and data use, where it was published. The workers who submitted work on it are told
  in their inbox and see it in their work history. A report not filed in time is marked on
  the batch for good (``batch_data_report_mark_overdue``, run by the beat job
  ``tasks.jobs.data_reports_overdue``), and the requester's public page shows it.
- Where the batch allows reuse beyond its purpose, a worker opts out for their own answers
  on a slot they hold or held, at accept time or later; exports and the requester's API
  carry the opt-out per answer.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError, NotFound
from tasks import notices
from tasks.models import Assignment, Batch, BatchDataReport, ReuseOptOut
from tasks.selectors import data_report_due_at
from tasks.services.common import _lock_batch, _require_staff
from tasks.states import WORKED_ASSIGNMENT

MATCHED_CHOICES = tuple(BatchDataReport.Matched.values)
_TEXT_LIMIT = 4000


def batch_worker_ids(batch_id: int) -> list[int]:
    return list(
        Assignment.objects.filter(batch_id=batch_id, status__in=WORKED_ASSIGNMENT, worker__isnull=False)
        .order_by("worker_id")
        .values_list("worker_id", flat=True)
        .distinct()
    )


def batch_data_report_file(
    *,
    batch: Batch,
    actor: User,
    used_for: str,
    matched: str,
    matched_explanation: str = "",
    published_where: str = "",
    now: datetime | None = None,
) -> BatchDataReport:
    """The requester's report on a closed batch, filed once (one transaction, batch locked).

    A late report is still accepted (and shown as late); the overdue mark stays. Raises
    ``AppError``: ``permission_denied`` (not the organisation's staff), ``batch_cancelled``
    (409: a cancelled batch produced no data to report on), ``batch_not_closed`` (409),
    ``data_report_filed`` (409: one report per batch), ``invalid`` (field errors). Nothing is
    written on a refusal. The workers who handed in work are told in their inbox.
    """
    _require_staff(actor, batch.organisation)
    moment = now or timezone.now()
    fields: dict[str, list[str]] = {}
    used_for, matched_explanation, published_where = (
        used_for.strip(),
        matched_explanation.strip(),
        published_where.strip(),
    )
    if not used_for:
        fields["used_for"] = [_("Say what the data was used for.")]
    if matched not in MATCHED_CHOICES:
        fields["matched"] = [_("Say whether the use matched the stated purpose and data use: yes, partly or no.")]
    elif matched != BatchDataReport.Matched.YES and not matched_explanation:
        fields["matched_explanation"] = [_("Explain how the use differed from what the workers were told.")]
    for name, text in (
        ("used_for", used_for),
        ("matched_explanation", matched_explanation),
        ("published_where", published_where),
    ):
        if len(text) > _TEXT_LIMIT:
            fields[name] = [_("At most %(limit)s characters.") % {"limit": _TEXT_LIMIT}]
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.is_sandbox:
            # Never on the requester's public page: sandbox work was a test with play money.
            raise AppError(
                "sandbox",
                _("A sandbox batch owes no data report: its work was a test with play money and stays out of the "
                  "co-op's public record."),
                status=409,
            )  # fmt: skip
        if batch.status == Batch.Status.CANCELLED:
            raise AppError(
                "batch_cancelled",
                _("This batch was cancelled before it closed, so there is no data report to file for it."),
                status=409,
            )
        due_at = data_report_due_at(batch)
        if due_at is None:
            raise AppError(
                "batch_not_closed",
                _("The report is filed once the batch has closed (completed or expired)."),
                status=409,
            )
        if BatchDataReport.objects.filter(batch=batch).exists():
            raise AppError("data_report_filed", _("The data report of this batch was already filed."), status=409)
        if fields:
            raise AppError("invalid", _("Some fields of the report need attention."), fields=fields)
        try:
            with transaction.atomic():
                report = BatchDataReport.objects.create(
                    batch=batch,
                    used_for=used_for,
                    matched=matched,
                    matched_explanation=matched_explanation,
                    published_where=published_where,
                    filed_by=actor,
                    filed_at=moment,
                    due_at=due_at,
                )
        except IntegrityError:
            raise AppError(
                "data_report_filed", _("The data report of this batch was already filed."), status=409
            ) from None
        audit_record(
            actor=actor,
            action="batch.data_report_filed",
            target=batch,
            after={"matched": matched, "late": report.late},
        )
        notices.data_report_filed(report, batch_worker_ids(batch.pk))
    return report


def batch_data_report_mark_overdue(*, batch_id: int, now: datetime | None = None) -> bool:
    """Marks a closed batch whose report is past due and not filed (one transaction, batch
    locked). Idempotent: returns False and changes nothing for a batch already marked, one
    reported, or one not yet due."""
    moment = now or timezone.now()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().select_related("organisation").get(pk=batch_id)
        due_at = data_report_due_at(batch)
        if (
            due_at is None
            or due_at > moment
            or batch.data_report_overdue_at is not None
            or BatchDataReport.objects.filter(batch=batch).exists()
        ):
            return False
        batch.data_report_overdue_at = moment
        batch.save(update_fields=["data_report_overdue_at"])
        audit_record(
            actor=None,
            action="batch.data_report_overdue",
            target=batch,
            after={"due_at": due_at.isoformat()},
        )
    return True


def assignment_reuse_opt_out(*, worker: User, assignment: Assignment) -> ReuseOptOut:
    """The worker refuses reuse of their answers on ``assignment`` beyond the batch's purpose.

    Only on a slot the worker holds or held with work handed in, of a batch whose data use
    allows reuse. Idempotent: a second opt-out returns the first. Raises ``not_found`` (404)
    for someone else's slot (it is not theirs to speak for; nothing said about whose it is)
    and ``reuse_not_allowed`` (409) where the batch allows no reuse anyway.
    """
    with transaction.atomic():
        slot = Assignment.objects.select_related("batch").filter(pk=assignment.pk, worker=worker).first()
        if slot is None:
            raise NotFound("assignment")
        if not slot.batch.reuse_beyond_purpose:
            raise AppError(
                "reuse_not_allowed",
                _("This batch's data use allows no reuse beyond its purpose, so there is nothing to opt out of."),
                status=409,
            )
        opt_out, created = ReuseOptOut.objects.get_or_create(assignment=slot, worker=worker)
        if created:
            audit_record(actor=worker, action="assignment.reuse_opted_out", target=slot, after={"opted_out": True})
    return opt_out
