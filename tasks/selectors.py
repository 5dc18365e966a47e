"""Reads of the marketplace, each scoped to who may see it.

Requesters reach a batch only through ``access_batch`` (guardian object
permissions of their organisation's staff group); workers see only their own
assignments. A requester reads submissions only through
``submissions_for_requester``, which returns work whose pay is held in escrow or
already paid, and exports only through ``batch_results_export`` (paid work only).
"""

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Organisation, OrganisationStaff, OrganisationStaffDeparture, User, WorkerProfile
from core.cache import LocalCopies
from core.errors import NotFound
from core.money import format_amount, platform_currency
from governance.selectors import rule_value
from tasks import books
from tasks.models import (
    Assignment,
    AssignmentAttempt,
    Batch,
    BatchDataReport,
    BlockedWorker,
    Bonus,
    FairPayReview,
    Qualification,
    QualificationGrant,
    QualificationRequirement,
    RequesterPayStat,
    RequesterRating,
    ReuseOptOut,
    TaskTemplate,
)
from tasks.quality.selectors import aggregate_answers
from tasks.states import DATA_REPORTABLE_BATCH, PAID_ASSIGNMENT, REVIEWABLE_ASSIGNMENT, WORKED_ASSIGNMENT

APPROVAL_RATE_FORMULA = gettext_lazy(
    "Approval rate = approved ÷ (approved + finally rejected), counting only decisions made within the "
    "“Approval-rate window”. A rejection counts only once it is final (not disputed in time, or upheld); "
    "work paid after a dispute counts as approved. With no decisions in the window the rate is 100%."
)


# --- Requester access ----------------------------------------------------------------------------


# The team capability (and API key scope) each batch permission needs besides guardian's
# (``accounts.selectors.require_organisation_capability``).
BATCH_PERMISSION_CAPABILITY = {"tasks.change_batch": "publish", "tasks.review_batch": "review"}


def access_batch(*, user: User, batch_id: int, permission: str = "tasks.view_batch") -> Batch:
    """The batch if ``user`` holds ``permission`` on it (through its organisation's staff
    group); otherwise ``NotFound``, so outsiders cannot learn which batches exist."""
    batch = Batch.objects.select_related("organisation").filter(pk=batch_id).first()
    if batch is None or not user.is_authenticated or not user.has_perm(permission, batch):
        raise NotFound("batch")
    return batch


def batches_for_organisation(
    *, organisation: Organisation, status: str | None = None, sandbox: bool | None = None
) -> QuerySet[Batch]:
    """The organisation's batches, newest first; ``sandbox`` True or False keeps only the
    sandbox or the real ones."""
    batches = Batch.objects.filter(organisation=organisation).order_by("-id")
    if status:
        batches = batches.filter(status=status)
    if sandbox is not None:
        batches = batches.filter(is_sandbox=sandbox)
    return batches


def batch_status_counts(*, batch: Batch) -> dict[str, int]:
    rows = batch.assignments.values("status").annotate(n=Count("id")).values_list("status", "n")
    return {status: count for status, count in rows}


def _escrow_backed(assignments: list[Assignment], allowed: tuple[str, ...]) -> list[Assignment]:
    if not assignments:
        return []
    statuses = books.statuses(assignments)
    return [a for a in assignments if statuses.get(a.escrow_key) in allowed]


def submissions_for_requester(
    *, batch: Batch, status: str | None = None, offset: int = 0, limit: int | None = None
) -> list[Assignment]:
    """Submitted work of ``batch`` whose pay is escrowed (pending) or paid (posted), by id.

    Work whose escrow was voided (final rejections, refunds) is never returned, whatever
    its status says. ``batch`` must come from ``access_batch``."""
    rows = batch.assignments.filter(status__in=REVIEWABLE_ASSIGNMENT).select_related("worker", "task").order_by("id")
    if status:
        rows = rows.filter(status=status)
    window = rows[offset : offset + limit] if limit is not None else rows[offset:]
    return _escrow_backed(list(window), ("pending", "posted"))


def submissions_count(*, batch: Batch, status: str | None = None) -> int:
    rows = batch.assignments.filter(status__in=REVIEWABLE_ASSIGNMENT)
    return rows.filter(status=status).count() if status else rows.count()


def submission_for_requester(*, batch: Batch, assignment_id: int) -> Assignment:
    rows = list(
        batch.assignments.filter(pk=assignment_id, status__in=REVIEWABLE_ASSIGNMENT).select_related("worker", "task")
    )
    found = _escrow_backed(rows, ("pending", "posted"))
    if not found:
        raise NotFound("submission")
    return found[0]


def paid_work(*, batch: Batch) -> list[Assignment]:
    """Approved or dispute-settled work of ``batch`` whose escrow is posted: paid work only."""
    rows = list(batch.assignments.filter(status__in=PAID_ASSIGNMENT).select_related("worker", "task").order_by("id"))
    return _escrow_backed(rows, ("posted",))


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


_RESULTS_BASE_COLUMNS = [
    "HITId", "HITTypeId", "Title", "Description", "Keywords", "Reward", "CreationTime", "MaxAssignments",
    "AssignmentDurationInSeconds", "AutoApprovalDelayInSeconds", "Expiration", "AssignmentId", "WorkerId",
    "AssignmentStatus", "AcceptTime", "SubmitTime", "AutoApprovalTime", "ApprovalTime", "RejectionTime",
    "RequesterFeedback", "WorkTimeInSeconds",
]  # fmt: skip


def _results_table(
    batch: Batch, work: list[Assignment], assignment_status: str
) -> tuple[list[str], list[dict[str, str]]]:
    """Columns and rows in MTurk's batch-results shape (``Input.*``, ``Answer.*``) for ``work``."""
    input_names: dict[str, None] = {}
    answer_names: dict[str, None] = {name["name"]: None for name in batch.answer_fields}
    for assignment in work:
        input_names.update(dict.fromkeys(assignment.task.input))
        answer_names.update(dict.fromkeys(assignment.answers))
    auto_approval_seconds = batch.effective_auto_approval_hours * 3600 if batch.rule_versions else 0
    columns = _RESULTS_BASE_COLUMNS + [f"Input.{n}" for n in input_names] + [f"Answer.{n}" for n in answer_names]
    rows: list[dict[str, str]] = []
    for a in work:
        row = {
            "HITId": str(a.task_id),
            "HITTypeId": str(batch.pk),
            "Title": batch.title,
            "Description": batch.description,
            "Keywords": batch.keywords,
            "Reward": format_amount(batch.reward, batch.currency),
            "CreationTime": _iso(batch.published_at),
            "MaxAssignments": str(batch.assignments_per_task),
            "AssignmentDurationInSeconds": str(batch.time_allotted_minutes * 60),
            "AutoApprovalDelayInSeconds": str(auto_approval_seconds),
            "Expiration": _iso(batch.expires_at),
            "AssignmentId": str(a.pk),
            "WorkerId": a.worker.pseudonym if a.worker else "",
            "AssignmentStatus": assignment_status,
            "AcceptTime": _iso(a.accepted_at),
            "SubmitTime": _iso(a.submitted_at),
            "AutoApprovalTime": _iso(a.auto_approve_at),
            "ApprovalTime": _iso(a.approved_at or a.finalised_at),
            "RejectionTime": "",
            "RequesterFeedback": a.requester_feedback,
            "WorkTimeInSeconds": str(submission_work_seconds(a) or 0),
        }
        row.update({f"Input.{n}": str(a.task.input.get(n, "")) for n in input_names})
        row.update({f"Answer.{n}": str(a.answers.get(n, "")) for n in answer_names})
        rows.append(row)
    return columns, rows


REUSE_OPT_OUT_COLUMN = "ReuseOptOut"


def export_filename(batch: Batch, extension: str) -> str:
    """The file name of a batch's results: a sandbox batch's says so (issue 24.6), so play
    work is never taken for real results."""
    return f"{'sandbox-' if batch.is_sandbox else ''}batch-{batch.pk}-results.{extension}"


def batch_results_export(*, batch: Batch) -> tuple[list[str], list[dict[str, str]]]:
    """Columns and rows in MTurk's batch-results shape (``Input.*``, ``Answer.*``); paid work only.
    Redundant work (several assignments per task) gains aggregated columns (issue 27.3)."""
    work = paid_work(batch=batch)
    columns, rows = _results_table(batch, work, "Approved")
    if batch.assignments_per_task > 1 and work:
        answer_names = [column.removeprefix("Answer.") for column in columns if column.startswith("Answer.")]
        _add_aggregated_columns(work, answer_names, columns, rows)
    if batch.reuse_beyond_purpose:
        # Where the batch allows reuse beyond its purpose, a last column says per answer
        # whether its worker refused that reuse (issue 28): the requester must honour it.
        opted_out = reuse_opted_out_ids(assignments=work)
        for assignment, row in zip(work, rows, strict=True):
            row[REUSE_OPT_OUT_COLUMN] = "true" if assignment.pk in opted_out else "false"
        columns = [*columns, REUSE_OPT_OUT_COLUMN]
    return columns, rows


def submission_work_seconds(assignment: Assignment) -> int | None:
    """Seconds from accepting to submitting (MTurk's ``WorkTimeInSeconds``); None before a submission."""
    if assignment.submitted_at is None or assignment.accepted_at is None:
        return None
    return max(0, int((assignment.submitted_at - assignment.accepted_at).total_seconds()))


# --- Offline review and the submissions table (issue 24 point 4) ----------------------------------

REVIEW_FILE_DECISION_COLUMNS = ["Approve", "Reject"]


def batch_review_file(*, batch: Batch) -> tuple[list[str], list[dict[str, str]]]:
    """The submissions of ``batch`` awaiting review, in MTurk's batch-results shape with its
    empty ``Approve`` and ``Reject`` columns last: mark ``x`` under Approve, or write the
    reason for the worker under Reject, and upload the file back
    (``tasks.services.review_file_apply``). Only work whose pay is held in escrow."""
    work = submissions_for_requester(batch=batch, status=Assignment.Status.SUBMITTED)
    columns, rows = _results_table(batch, work, "Submitted")
    for row in rows:
        row.update(dict.fromkeys(REVIEW_FILE_DECISION_COLUMNS, ""))
    return columns + REVIEW_FILE_DECISION_COLUMNS, rows


SUBMISSION_TABLE_ORDERINGS = {
    "id": ("id",),
    "-id": ("-id",),
    "submitted": ("submitted_at", "id"),
    "-submitted": ("-submitted_at", "-id"),
    "work_time": ("work_time", "id"),
    "-work_time": ("-work_time", "-id"),
    "worker": ("worker__pseudonym", "id"),
    "-worker": ("-worker__pseudonym", "-id"),
    "status": ("status", "id"),
    "-status": ("-status", "-id"),
}


def submissions_table(
    *,
    batch: Batch,
    status: str | None = None,
    worker: str = "",
    min_work_seconds: int | None = None,
    max_work_seconds: int | None = None,
    ordering: str = "id",
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Assignment], int]:
    """A page of ``batch``'s escrow-backed submissions for the table view, filtered and
    sorted in the database (work time = submitted minus accepted), and how many match the
    filters. ``ordering`` is a key of ``SUBMISSION_TABLE_ORDERINGS`` (anything else sorts by id).
    ``batch`` must come from ``access_batch``."""
    rows = (
        batch.assignments.filter(status__in=REVIEWABLE_ASSIGNMENT, submitted_at__isnull=False)
        .annotate(work_time=ExpressionWrapper(F("submitted_at") - F("accepted_at"), output_field=DurationField()))
        .select_related("worker", "task")
    )
    if status:
        rows = rows.filter(status=status)
    if worker.strip():
        rows = rows.filter(worker__pseudonym__iexact=worker.strip())
    if min_work_seconds is not None:
        rows = rows.filter(work_time__gte=timedelta(seconds=min_work_seconds))
    if max_work_seconds is not None:
        rows = rows.filter(work_time__lte=timedelta(seconds=max_work_seconds))
    total = rows.count()
    ordered = rows.order_by(*SUBMISSION_TABLE_ORDERINGS.get(ordering, ("id",)))
    window = ordered[offset : offset + limit] if limit is not None else ordered[offset:]
    return _escrow_backed(list(window), ("pending", "posted")), total


def _add_aggregated_columns(
    work: list[Assignment], answer_names: list[str], columns: list[str], rows: list[dict[str, str]]
) -> None:
    """Beside the raw answers of redundant work: per answer field, the task's majority answer
    and Dawid-Skene answer with their confidence (0 to 1), over the exported (paid) work."""
    aggregates = aggregate_answers(
        answer_fields=answer_names, rows=((a.task_id, a.worker_id or 0, a.answers) for a in work)
    )
    for aggregate in aggregates:
        prefix = f"Aggregated.{aggregate.field}"
        columns += [
            f"{prefix}.MajorityVote", f"{prefix}.MajorityVoteConfidence",
            f"{prefix}.DawidSkene", f"{prefix}.DawidSkeneConfidence",
        ]  # fmt: skip
        for assignment, row in zip(work, rows, strict=True):
            vote = aggregate.majority.get(assignment.task_id)
            skene = aggregate.dawid_skene.get(assignment.task_id)
            row[f"{prefix}.MajorityVote"] = vote.label if vote else ""
            row[f"{prefix}.MajorityVoteConfidence"] = f"{vote.confidence:.4f}" if vote else ""
            row[f"{prefix}.DawidSkene"] = skene.label if skene else ""
            row[f"{prefix}.DawidSkeneConfidence"] = f"{skene.confidence:.4f}" if skene else ""


# --- Worker standing and eligibility ---------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRate:
    approved: int
    final_rejections: int
    rate_bps: int
    approved_all_time: int
    window_days: int


def worker_approval_rate(*, worker: User, at: datetime | None = None) -> ApprovalRate:
    """The published formula (``APPROVAL_RATE_FORMULA``): one query."""
    now = at or timezone.now()
    window_days = rule_value("approval_rate_window_days", at=now)
    since = now - timedelta(days=window_days)
    figures = Assignment.objects.filter(worker=worker, batch__is_sandbox=False).aggregate(
        approved=Count(
            "id",
            filter=Q(status=Assignment.Status.APPROVED, approved_at__gte=since)
            | Q(status=Assignment.Status.SETTLED, finalised_at__gte=since),
        ),
        rejected=Count("id", filter=Q(status=Assignment.Status.REFUNDED, finalised_at__gte=since)),
        approved_all_time=Count("id", filter=Q(status__in=PAID_ASSIGNMENT)),
    )
    approved, rejected = figures["approved"], figures["rejected"]
    rate = 10_000 if approved + rejected == 0 else approved * 10_000 // (approved + rejected)
    return ApprovalRate(
        approved=approved,
        final_rejections=rejected,
        rate_bps=rate,
        approved_all_time=figures["approved_all_time"],
        window_days=window_days,
    )


def requirement_text(requirement: QualificationRequirement) -> str:
    """A requirement in plain words, exactly as workers see it: one whole sentence per kind,
    in the reader's language (numbers and percentages their way)."""
    kind = requirement.kind
    if kind == QualificationRequirement.Kind.APPROVAL_RATE:
        share = Decimal(requirement.value) / 100
        places = 0 if share == share.to_integral_value() else len(str(share.normalize()).split(".")[1])
        rate = f"{formats.number_format(share, decimal_pos=places, use_l10n=True)}%"
        return _("An approval rate of at least %(rate)s (see the published formula).") % {"rate": rate}
    if kind == QualificationRequirement.Kind.APPROVED_COUNT:
        return ngettext(
            "At least %(count)s approved assignment on the platform.",
            "At least %(count)s approved assignments on the platform.",
            requirement.value,
        ) % {"count": requirement.value}
    if kind == QualificationRequirement.Kind.LOCALE:
        return _("Located in %(countries)s. The requester's reason: %(reason)s") % {
            "countries": ", ".join(requirement.country_list),
            "reason": requirement.reason,
        }
    qualification = requirement.qualification
    if qualification is None:
        return _("A qualification.")
    if qualification.has_test:
        return _("The qualification '%(name)s' (take its test): %(description)s") % {
            "name": qualification.name,
            "description": qualification.description,
        }
    return _("The qualification '%(name)s' (granted by the requester): %(description)s") % {
        "name": qualification.name,
        "description": qualification.description,
    }


# Requirements by batch, in the order they were set. Plain SQL: the same read through
# the ORM (a prefetch with the qualifications joined) cost about 1 ms of building and
# compiling per batch list or feed, three times the query itself.
_REQUIREMENTS_SQL = "SELECT * FROM tasks_qualificationrequirement WHERE batch_id IN ({}) ORDER BY id"
_REQUIREMENTS_CHUNK = 1000  # ids per statement: within every database's limit on parameters


def attach_requirements(batches: list[Batch]) -> list[Batch]:
    """Sets ``batch.requirement_list`` (what ``Batch.requirement_rows`` reads) on each of
    ``batches``: its requirements with their qualifications, in one query for up to a
    thousand batches, and one more only when a requirement names a qualification."""
    found: dict[int, list[QualificationRequirement]] = {batch.pk: [] for batch in batches}
    ids = list(found)
    rows: list[QualificationRequirement] = []
    for start in range(0, len(ids), _REQUIREMENTS_CHUNK):
        chunk = ids[start : start + _REQUIREMENTS_CHUNK]
        sql = _REQUIREMENTS_SQL.format(", ".join(["%s"] * len(chunk)))
        rows.extend(QualificationRequirement.objects.raw(sql, chunk))
    named = {row.qualification_id for row in rows if row.qualification_id is not None}
    qualifications = Qualification.objects.in_bulk(named) if named else {}
    for row in rows:  # each batch's rows come from one statement, ordered by id
        if row.qualification_id is not None:
            row.qualification = qualifications[row.qualification_id]
        found[row.batch_id].append(row)
    for batch in batches:
        batch.requirement_list = found[batch.pk]  # type: ignore[attr-defined]
    return batches


@dataclass(frozen=True)
class WorkerStanding:
    # None: not read yet (``batch_standing``); ``worker_ineligibility`` reads it when a
    # requirement asks for it.
    rate: ApprovalRate | None
    country: str
    grants: dict[int, int] | None
    blocked_by: dict[int, str]
    # Organisations the worker is staff of, or left within ``former_staff_days`` (no self-dealing).
    staff_of: frozenset[int] = frozenset()


def worker_standing(*, worker: User) -> WorkerStanding:
    country = WorkerProfile.objects.filter(user=worker).values_list("country", flat=True).first() or ""
    return WorkerStanding(
        rate=worker_approval_rate(worker=worker),
        country=country,
        grants=dict(QualificationGrant.objects.filter(worker=worker).values_list("qualification_id", "value")),
        blocked_by=dict(BlockedWorker.objects.filter(worker=worker).values_list("organisation_id", "reason")),
        staff_of=frozenset(worker_staff_of(worker_id=worker.pk)),
    )


# What one batch's eligibility asks of a worker besides its requirements, in one statement:
# the worker's country, this organisation's block (its reason) and whether the worker is
# (or recently was) its staff. Plain SQL: the same read through the ORM (three subqueries)
# cost more to build and compile than to run.
_BATCH_STANDING_SQL = """
SELECT (SELECT p.country FROM {profile} p WHERE p.user_id = %s),
       (SELECT k.reason FROM {blocked} k WHERE k.organisation_id = %s AND k.worker_id = %s),
       EXISTS (SELECT 1 FROM {staff} s WHERE s.organisation_id = %s AND s.user_id = %s)
       OR EXISTS (SELECT 1 FROM {departure} d
                   WHERE d.organisation_id = %s AND d.user_id = %s AND d.left_at > %s)
"""


def batch_standing(*, worker: User, batch: Batch) -> WorkerStanding:
    """``worker``'s standing as far as ``batch`` asks, for a decision on that one batch
    (accepting, applying to a wave): its organisation's block and staff, and the country,
    in one query. The approval rate and the grants are left unread (None) for
    ``worker_ineligibility`` to read only when one of the batch's requirements asks."""
    from accounts.selectors import former_staff_since

    sql = _BATCH_STANDING_SQL.format(
        profile=WorkerProfile._meta.db_table,
        blocked=BlockedWorker._meta.db_table,
        staff=OrganisationStaff._meta.db_table,
        departure=OrganisationStaffDeparture._meta.db_table,
    )
    organisation, person = batch.organisation_id, worker.pk
    since = connection.ops.adapt_datetimefield_value(former_staff_since())
    params = [person, organisation, person, organisation, person, organisation, person, since]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        country, blocked_reason, staff = cursor.fetchone()
    return WorkerStanding(
        rate=None,
        country=country or "",
        grants=None,
        blocked_by={} if blocked_reason is None else {organisation: blocked_reason},
        staff_of=frozenset({organisation}) if staff else frozenset(),
    )


def worker_staff_of(*, worker_id: int) -> set[int]:
    """Ids of the organisations ``worker_id`` is staff of or left within ``former_staff_days``."""
    from accounts.selectors import former_staff_since

    # One query: present staff, or departed within the governed period.
    return set(
        Organisation.objects.filter(
            Q(staff__user_id=worker_id)
            | Q(staff_departures__user_id=worker_id, staff_departures__left_at__gt=former_staff_since())
        )
        .values_list("id", flat=True)
        .distinct()
    )


def worker_ineligibility(*, worker: User, batch: Batch, standing: WorkerStanding | None = None) -> list[str]:
    """Why ``worker`` may not take ``batch``, in plain words; empty when they may."""
    standing = standing or worker_standing(worker=worker)
    rate, grants = standing.rate, standing.grants  # read below if a requirement asks and they are not
    reasons: list[str] = []
    if batch.is_sandbox:
        # The sandbox is the other way round: only the organisation's present staff test it.
        if not OrganisationStaff.objects.filter(organisation_id=batch.organisation_id, user=worker).exists():
            reasons.append(
                _("This is a sandbox batch: only the requester's own people can work it, to test it with play money.")
            )
    elif batch.organisation_id in standing.staff_of:
        reasons.append(
            _(
                "You work for this requester (or did recently): its staff cannot take "
                "its tasks, so that nobody pays themselves through the platform."
            )
        )
    if batch.organisation_id in standing.blocked_by:
        reasons.append(
            _("This requester has blocked you from its batches: %(blocked_by)s")
            % {"blocked_by": standing.blocked_by[batch.organisation_id]}
        )
    for requirement in batch.requirement_rows:
        kind = requirement.kind
        if kind in ("approval_rate", "approved_count") and rate is None:
            rate = worker_approval_rate(worker=worker)
        if kind == "qualification" and grants is None:
            grants = dict(QualificationGrant.objects.filter(worker=worker).values_list("qualification_id", "value"))
        if kind == "approval_rate" and rate is not None and rate.rate_bps < requirement.value:
            reasons.append(
                _("Needs %(requirement_text)s Yours is %(value)s%%.")
                % {
                    "requirement_text": requirement_text(requirement),
                    "value": format(rate.rate_bps / 100, "g"),
                }
            )
        elif kind == "approved_count" and rate is not None and rate.approved_all_time < requirement.value:
            reasons.append(
                _("Needs %(requirement_text)s You have %(approved_all_time)s.")
                % {
                    "requirement_text": requirement_text(requirement),
                    "approved_all_time": rate.approved_all_time,
                }
            )
        elif kind == "locale" and standing.country not in requirement.country_list:
            where = standing.country or "no country in your profile"
            reasons.append(
                _("Needs %(requirement_text)s Yours: %(where)s.")
                % {"requirement_text": requirement_text(requirement), "where": where}
            )
        elif (
            kind == "qualification"
            and grants is not None
            and grants.get(requirement.qualification_id or 0, -1) < requirement.value
        ):
            reasons.append(_("Needs %(requirement_text)s") % {"requirement_text": requirement_text(requirement)})
    return reasons


# --- The task feed ---------------------------------------------------------------------------------

FEED_ORDERINGS = {
    "reward": ("reward", "id"),
    "-reward": ("-reward", "-id"),
    "hourly_pay": ("estimated_hourly_pay", "id"),
    "-hourly_pay": ("-estimated_hourly_pay", "-id"),
    "minutes": ("estimated_minutes", "id"),
    "-minutes": ("-estimated_minutes", "-id"),
    "newest": ("-published_at", "-id"),
    "available": ("-open_slots", "-id"),
}

FEED_FIELDS = (
    "id", "status", "title", "description", "purpose", "data_use", "content_warnings", "reward", "currency",
    "estimated_minutes", "estimated_hourly_pay", "time_allotted_minutes", "published_at", "expires_at",
    "organisation", "control_share_bps", "control_threshold_bps", "attention_checks",
    "keywords", "dispatch_mode", "dispatch_fcfs_at", "dispatch_rules", "is_sandbox",
)  # fmt: skip

# (built at, batches): this process's copy of the live market, see ``live_market``.
_market: tuple[float, list[Batch]] = (float("-inf"), [])


def live_market() -> list[Batch]:
    """Every live batch with at least one open slot, with its requester, the requester's
    pay statistic, its requirements (and their qualifications) and ``open_slots``: the market
    that every worker's feed is cut from. One query for the batches with their requesters,
    then ``attach_requirements``'s (one per thousand batches, and one for the qualifications).

    The market is the same for every worker, so each process keeps one copy for
    ``FEED_SNAPSHOT_SECONDS`` (0: none) and a feed page costs no query for it however many
    workers are looking. The copy may lag claims, publications and pauses by that long;
    accepting decides everything again on the live rows."""
    global _market
    built_at, batches = _market
    seconds = settings.FEED_SNAPSHOT_SECONDS
    if seconds > 0 and time.monotonic() - built_at < seconds:
        return batches
    now = timezone.now()
    open_slots = Assignment.objects.filter(batch=OuterRef("pk"), status=Assignment.Status.OPEN)
    count = open_slots.order_by().values("batch").annotate(n=Count("id")).values("n")
    batches = attach_requirements(
        list(
            Batch.objects.filter(status=Batch.Status.PUBLISHED, expires_at__gt=now, is_sandbox=False)
            .filter(Exists(open_slots))
            # What the feed filters, sorts and shows; not the template or the recorded rules.
            .only(*FEED_FIELDS)
            .select_related("organisation")
            .annotate(open_slots=Subquery(count, output_field=IntegerField()))
        )
    )
    attach_former_names(batches, at=now)
    attach_requester_figures(batches)
    if seconds > 0:
        _market = (time.monotonic(), batches)
    return batches


def attach_former_names(batches: list[Batch], *, at: Any = None) -> None:
    """Sets ``organisation.former_names`` on each batch's requester: the names it went by
    before a rename within the governed ``former_name_days``, oldest first, for the feed
    card's "formerly ...". One query for the whole market."""
    from accounts.models import OrganisationNameChange

    moment = at or timezone.now()
    since = moment - timedelta(days=rule_value("former_name_days", at=moment))
    organisation_ids = {batch.organisation_id for batch in batches}
    names: dict[int, list[str]] = {}
    for organisation_id, old_name in (
        OrganisationNameChange.objects.filter(organisation_id__in=organisation_ids, changed_at__gte=since)
        .order_by("changed_at", "id")
        .values_list("organisation_id", "old_name")
    ):
        names.setdefault(organisation_id, []).append(old_name)
    for batch in batches:
        current = batch.organisation.display_name
        batch.organisation.former_names = [  # type: ignore[attr-defined]
            name for name in dict.fromkeys(names.get(batch.organisation_id, [])) if name != current
        ]


def batch_tags(batch: Batch) -> set[str]:
    """The batch's tags: its keywords, comma-separated as MTurk's, in lower case."""
    return {tag.strip().lower() for tag in batch.keywords.split(",") if tag.strip()}


def keywords_match(words: list[str], batch: Batch) -> bool:
    """Every one of ``words`` (lower case) appears in the batch's title, description or tags."""
    text = " ".join([batch.title, batch.description, batch.keywords]).lower()
    return all(word in text for word in words)


# Each worker's standing for the feed, shared through the cache and copied in each process.
_standings: LocalCopies[WorkerStanding] = LocalCopies(max_entries=10_000)


def feed_standing(*, worker: User) -> WorkerStanding:
    """``worker_standing`` for the feed, at most ``FEED_SNAPSHOT_SECONDS`` old like the
    market: a worker refreshing the feed does not recount their decisions each time, and a
    process serving them again reads its own copy (``core.cache.LocalCopies``)."""
    seconds = settings.FEED_SNAPSHOT_SECONDS
    if seconds <= 0:
        return worker_standing(worker=worker)
    return _standings.get_or_set(f"feed:standing:{worker.pk}", seconds, lambda: worker_standing(worker=worker))


def task_feed(
    *,
    worker: User,
    ordering: str = "newest",
    min_reward: int | None = None,
    min_hourly_pay: int | None = None,
    max_minutes: int | None = None,
    requester: str | None = None,
    qualified_only: bool = True,
    search: str = "",
    tags: list[str] | None = None,
) -> list[Batch]:
    """Live batches with at least one open slot (``open_slots`` set on each), cut from
    ``live_market`` by the filters and sorted by ``ordering``.

    With ``qualified_only`` (the default) batches the worker cannot take (blocked,
    requirements not met) are left out, decided by ``worker_ineligibility``: the same
    rules, in the same words, that the preview gives as reasons. ``search``: every word must
    appear in the title, description or tags (any case), the rule saved searches alert by;
    ``tags``: every one must be among the batch's tags (its comma-separated keywords).
    Costs no query when the market and the worker's standing are cached, and a constant few
    when not."""
    now = timezone.now()
    words = search.lower().split()
    wanted_tags = {tag.strip().lower() for tag in tags or [] if tag.strip()}
    batches = [
        batch
        for batch in live_market()
        if batch.expires_at is not None
        and batch.expires_at > now
        and (min_reward is None or batch.reward >= min_reward)
        and (min_hourly_pay is None or batch.estimated_hourly_pay >= min_hourly_pay)
        and (max_minutes is None or batch.estimated_minutes <= max_minutes)
        and (not requester or batch.organisation.slug == requester)
        and (not words or keywords_match(words, batch))
        and (not wanted_tags or wanted_tags <= batch_tags(batch))
    ]
    if qualified_only:
        standing = feed_standing(worker=worker)
        batches = [b for b in batches if not worker_ineligibility(worker=worker, batch=b, standing=standing)]
    fields = FEED_ORDERINGS.get(ordering, FEED_ORDERINGS["newest"])
    descending = fields[0].startswith("-")  # every ordering runs one way (see FEED_ORDERINGS)
    return sorted(batches, key=lambda b: tuple(getattr(b, f.lstrip("-")) for f in fields), reverse=descending)


# --- Worker's own assignments ----------------------------------------------------------------------


def assignments_for_worker(*, worker: User, status: str | None = None) -> QuerySet[Assignment]:
    rows = Assignment.objects.filter(worker=worker).select_related("batch", "task").order_by("-id")
    return rows.filter(status=status) if status else rows


def worker_awaiting_review(*, worker: User) -> list[Assignment]:
    """The worker's submitted work not yet decided, soonest auto-approval first: the
    earnings it stands for are held in escrow and paid by ``auto_approve_at`` at the latest.
    Sandbox work is left out: it is paid in play money, which is no earning."""
    return list(
        Assignment.objects.filter(worker=worker, status=Assignment.Status.SUBMITTED, batch__is_sandbox=False)
        .select_related("batch")
        .order_by("auto_approve_at", "id")[:200]
    )


def access_assignment_for_worker(*, worker: User, assignment_id: int) -> Assignment:
    """The worker's own assignment; anyone else's is ``NotFound``."""
    assignment = (
        Assignment.objects.select_related("batch", "batch__organisation", "task")
        .filter(pk=assignment_id, worker=worker)
        .first()
    )
    if assignment is None or not worker.is_authenticated:
        raise NotFound("assignment")
    return assignment


# A live batch's row alone (see ``batch_for_worker``'s ``lean``).
_LIVE_BATCH_SQL = "SELECT * FROM {batch} WHERE id = %s AND status IN (%s, %s)"

# Each process's copy of the batches being accepted or applied to, at most
# ``FEED_SNAPSHOT_SECONDS`` old like the market (a rush asks for one batch thousands of times
# a second); shared by the requests of the process, so read only.
_claimed_batches: LocalCopies[Batch] = LocalCopies(max_entries=1_000)


def _sandbox_hidden(*, worker: User | None, organisation_id: int, is_sandbox: bool) -> bool:
    """A sandbox batch or qualification is the requester's test: only its own present
    staff see it; to anyone else it does not exist."""
    if not is_sandbox or worker is None:
        return False
    return not OrganisationStaff.objects.filter(organisation_id=organisation_id, user=worker).exists()


def batch_for_worker(*, batch_id: int, lean: bool = False, worker: User | None = None) -> Batch:
    """A live batch as workers may preview it (published or paused), with its requirements
    attached. Given the ``worker`` who asks, a sandbox batch is found only for the
    organisation's own staff (the accept and apply paths refuse others by eligibility).

    ``lean``, for the accept and apply endpoints: the batch's row alone, read by plain SQL
    (the same read through the ORM with the organisation joined costs about four times as
    much to build and compile; ``batch.organisation`` is read if asked), and kept by the
    process for ``FEED_SNAPSHOT_SECONDS`` (read only). What may change on a live batch in
    that time is its status and expiry, which the claim and the application check live
    (a batch that ended meanwhile is refused as not available rather than not found); its
    requirements, template and dispatch plan are fixed at publication."""
    if not lean:
        found = (
            Batch.objects.select_related("organisation")
            .filter(pk=batch_id, status__in=(Batch.Status.PUBLISHED, Batch.Status.PAUSED))
            .first()
        )
        if found is None or _sandbox_hidden(
            worker=worker, organisation_id=found.organisation_id, is_sandbox=found.is_sandbox
        ):
            raise NotFound("batch")
        return attach_requirements([found])[0]
    seconds = settings.FEED_SNAPSHOT_SECONDS
    if seconds <= 0:
        return _lean_batch(batch_id)
    return _claimed_batches.get_or_set(f"claim:batch:{batch_id}", seconds, lambda: _lean_batch(batch_id))


def _lean_batch(batch_id: int) -> Batch:
    sql = _LIVE_BATCH_SQL.format(batch=Batch._meta.db_table)
    found = next(iter(Batch.objects.raw(sql, [batch_id, Batch.Status.PUBLISHED, Batch.Status.PAUSED])), None)
    if found is None:
        raise NotFound("batch")
    return attach_requirements([found])[0]


def qualification_for_worker(*, qualification_id: int, worker: User | None = None) -> Qualification:
    """A qualification as a worker sees it; a sandbox one only for its organisation's staff."""
    qualification = Qualification.objects.filter(pk=qualification_id).first()
    if qualification is None or _sandbox_hidden(
        worker=worker, organisation_id=qualification.organisation_id, is_sandbox=qualification.is_sandbox
    ):
        raise NotFound("qualification")
    return qualification


# --- Requester reputation --------------------------------------------------------------------------


def requester_measured_pay(*, organisation: Organisation, days: int = 90) -> tuple[int | None, int]:
    """Median effective hourly pay (reward / work time, accept to submit) of the requester's
    submitted work in the last ``days`` days, with the sample size."""
    figures = requester_figures(organisation_ids=[organisation.pk], days=days)[organisation.pk]
    return figures.measured_hourly_pay, figures.measured_pay_sample


@dataclass(frozen=True)
class RequesterFigures:
    """The measured record a worker judges a requester by: the same numbers on the feed
    card, the API's feed items and the requester's public page (issue 25.4)."""

    measured_hourly_pay: int | None
    measured_pay_sample: int
    approved: int
    rejected: int
    overturned: int

    @property
    def approval_rate_bps(self) -> int | None:
        decided = self.approved + self.rejected
        return self.approved * 10_000 // decided if decided else None

    @property
    def rejection_rate_bps(self) -> int | None:
        decided = self.approved + self.rejected
        return self.rejected * 10_000 // decided if decided else None


REJECTED_ASSIGNMENT = (
    Assignment.Status.REJECTED,
    Assignment.Status.DISPUTED,
    Assignment.Status.REFUNDED,
    Assignment.Status.SETTLED,
)


def requester_figures(*, organisation_ids: Any, days: int = 90) -> dict[int, RequesterFigures]:
    """Each requester's measured pay (median effective hourly pay of its submitted work in
    the last ``days`` days, with the sample size) and its decisions (approved, rejected,
    overturned on dispute), computed from the rows, for many requesters in two queries.

    The feed card once read a statistic a periodic job refreshed, so it said "no measured
    pay yet" for a requester whose page, computed here, showed a median: both now read this."""
    ids = sorted(set(organisation_ids))
    since = timezone.now() - timedelta(days=days)
    pay: dict[int, list[int]] = {pk: [] for pk in ids}
    for organisation_id, reward, seconds in AssignmentAttempt.objects.filter(
        batch__organisation_id__in=ids,
        batch__is_sandbox=False,
        outcome=AssignmentAttempt.Outcome.SUBMITTED,
        ended_at__gte=since,
    ).values_list("batch__organisation_id", "batch__reward", "work_seconds"):
        pay[organisation_id].append(reward * 3600 // max(1, seconds or 1))
    decisions = {
        row["batch__organisation_id"]: row
        for row in Assignment.objects.filter(batch__organisation_id__in=ids, batch__is_sandbox=False)
        .order_by()
        .values("batch__organisation_id")
        .annotate(
            approved=Count("id", filter=Q(status=Assignment.Status.APPROVED)),
            rejected=Count("id", filter=Q(status__in=REJECTED_ASSIGNMENT)),
            overturned=Count("id", filter=Q(status=Assignment.Status.SETTLED)),
        )
    }
    empty = {"approved": 0, "rejected": 0, "overturned": 0}
    return {
        pk: RequesterFigures(
            measured_hourly_pay=int(statistics.median(pay[pk])) if pay[pk] else None,
            measured_pay_sample=len(pay[pk]),
            approved=decisions.get(pk, empty)["approved"],
            rejected=decisions.get(pk, empty)["rejected"],
            overturned=decisions.get(pk, empty)["overturned"],
        )
        for pk in ids
    }


def attach_requester_figures(batches: list[Batch]) -> None:
    """Sets ``organisation.figures`` (``RequesterFigures``) on each batch's requester: one
    computation for the whole market, the same the requester's page shows."""
    figures = requester_figures(organisation_ids={batch.organisation_id for batch in batches})
    for batch in batches:
        batch.organisation.figures = figures[batch.organisation_id]  # type: ignore[attr-defined]


def requester_reputation(*, organisation: Organisation) -> dict[str, Any]:
    """What every requester page shows: worker ratings, measured pay, approval and rejection
    rates, overturned rejections (from the decisions on its batches) and name history."""
    ratings = RequesterRating.objects.filter(organisation=organisation)
    count = ratings.count()

    def average(field: str) -> float | None:
        values = list(ratings.values_list(field, flat=True))
        return round(sum(values) / len(values), 2) if values else None

    figures = requester_figures(organisation_ids=[organisation.pk])[organisation.pk]
    stat = RequesterPayStat.objects.filter(organisation=organisation).first()
    return {
        "slug": organisation.slug,
        "display_name": organisation.display_name,
        "legal_name": organisation.legal_name,
        "ratings": {
            "count": count,
            "pay_fairness": average("pay_fairness"),
            "communication": average("communication"),
            "review_speed": average("review_speed"),
        },
        "measured_hourly_pay": figures.measured_hourly_pay,
        "measured_pay_sample": figures.measured_pay_sample,
        "measured_pay_refreshed_at": stat.computed_at if stat else None,
        "currency": platform_currency(),
        "approval_rate_bps": figures.approval_rate_bps,
        "rejection_rate_bps": figures.rejection_rate_bps,
        "overturned_rejections": figures.overturned,
        "name_history": [
            {"old_name": c.old_name, "new_name": c.new_name, "changed_at": c.changed_at}
            for c in organisation.name_changes.order_by("changed_at", "id")
        ],
    }


def task_templates_for_organisation(*, organisation: Organisation) -> QuerySet[TaskTemplate]:
    """The organisation's own task templates (its library; the caller checked its access)."""
    return TaskTemplate.objects.filter(organisation=organisation).order_by("name", "id")


# --- The co-op's data promises (issue 28) ----------------------------------------------------


def data_report_due_at(batch: Batch) -> datetime | None:
    """When the data report of a closed batch is due: its end plus the governed
    ``data_report_days`` in force when it ended. None for a batch that owes no report (not
    closed, or cancelled)."""
    if batch.status not in DATA_REPORTABLE_BATCH or batch.ended_at is None or batch.is_sandbox:
        return None
    return batch.ended_at + timedelta(days=rule_value("data_report_days", at=batch.ended_at))


def reuse_opted_out_ids(*, assignments: list[Assignment]) -> set[int]:
    """The ids of ``assignments`` whose present worker opted out of reuse (one query)."""
    pairs = {(a.pk, a.worker_id) for a in assignments if a.worker_id}
    if not pairs:
        return set()
    rows = ReuseOptOut.objects.filter(assignment_id__in=[pk for pk, _ in pairs]).values_list(
        "assignment_id", "worker_id"
    )
    return {assignment_id for assignment_id, worker_id in rows if (assignment_id, worker_id) in pairs}


def data_reports_for_worker(*, worker: User) -> dict[int, BatchDataReport]:
    """The data reports of the batches ``worker`` handed in work on, by batch id."""
    batch_ids = Assignment.objects.filter(worker=worker, status__in=WORKED_ASSIGNMENT).values("batch_id")
    return {r.batch_id: r for r in BatchDataReport.objects.filter(batch_id__in=batch_ids)}


def data_reports_public(*, organisation: Organisation) -> tuple[list[BatchDataReport], list[Batch]]:
    """A requester's filed data reports and its batches marked for a report not filed in time
    (public, newest first)."""
    reports = list(
        BatchDataReport.objects.filter(batch__organisation=organisation)
        .select_related("batch")
        .order_by("-filed_at")[:100]
    )
    overdue = list(
        Batch.objects.filter(organisation=organisation, data_report_overdue_at__isnull=False).order_by(
            "-data_report_overdue_at"
        )[:100]
    )
    return reports, overdue


def top_up_reason(review: FairPayReview, *, title: str, currency: str) -> str:
    """Why a fair-pay top-up was owed, in the active language, from the review's stored figures."""
    return _(
        "Fair-pay top-up: the median worker on “%(batch)s” took %(minutes)s min, so the reward paid "
        "%(pay)s/h, under the co-op's %(floor)s/h."
    ) % {
        "batch": title,
        "minutes": formats.localize(review.median_work_seconds // 60),
        "pay": format_amount(review.median_hourly_pay, currency),
        "floor": format_amount(review.floor_hourly, currency),
    }


def bonus_reasons(bonuses: list[Bonus]) -> dict[int, str]:
    """Each bonus's reason as its reader reads it (bonus id -> text): a fair-pay top-up's is
    written in the active language from its batch's review (rows stored with English prose
    included); a requester's bonus keeps the words the requester typed."""
    batch_ids = {bonus.assignment.batch_id for bonus in bonuses if bonus.kind == Bonus.Kind.FAIR_PAY_TOP_UP}
    reviews = {review.batch_id: review for review in FairPayReview.objects.filter(batch_id__in=batch_ids)}
    texts: dict[int, str] = {}
    for bonus in bonuses:
        review = reviews.get(bonus.assignment.batch_id) if bonus.kind == Bonus.Kind.FAIR_PAY_TOP_UP else None
        batch = bonus.assignment.batch
        texts[bonus.pk] = (
            top_up_reason(review, title=batch.title, currency=batch.currency) if review is not None else bonus.reason
        )
    return texts
