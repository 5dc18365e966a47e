"""Offline review, as MTurk requesters know it: the submissions awaiting review go out as a
CSV in the batch-results shape (``tasks.selectors.batch_review_file``), the requester marks
``Approve`` or ``Reject`` in a spreadsheet and uploads the file back; bonuses come the same
way. Every row is checked first and every problem is listed with its row; then the whole
file is applied in one transaction through the review services (``assignments_approve_many``,
``assignment_reject``, ``assignment_bonus``), or nothing is."""

import csv
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from core.audit import audit_record
from core.errors import AppError
from core.labels import label
from core.money import MAX_BONUS, format_amount, parse_amount, platform_currency
from tasks import books
from tasks.models import Assignment, Batch, Bonus
from tasks.services.review import assignment_bonus, assignment_reject, assignments_approve_many
from tasks.states import REJECTION_REASONS

# Far above a batch anyone reviews by hand, and what one transaction settles comfortably.
MAX_FILE_ROWS = 5000
# What people type under "Approve" to mean yes; any other text is also the feedback to the worker.
APPROVE_MARKS = frozenset({"x", "yes", "y", "1", "true", "approve", "approved", "ok", "✓", "✔"})
# A bare mark under "Reject" is not a reason a worker could dispute.
_BARE_MARKS = frozenset({"x", "yes", "y", "1", "true", "reject", "rejected", "no"})


@dataclass(frozen=True)
class ReviewFileResult:
    approved: int
    rejected: int
    undecided: int


@dataclass(frozen=True)
class BonusFileResult:
    paid: int
    already_paid: int
    amount: int  # newly paid, minor units


@dataclass
class _Problems:
    rows: list[dict[str, Any]]

    def add(self, row: int, column: str, message: str) -> None:
        self.rows.append({"row": row, "column": column, "message": message})

    def raise_if_any(self, code: str) -> None:
        if not self.rows:
            return
        self.rows.sort(key=lambda problem: problem["row"])
        count = len(self.rows)
        raise AppError(
            code,
            _("Nothing was applied: %(count)d problem(s) in the file. Correct the rows listed and upload it again.")
            % {"count": count},
            details={"errors": self.rows[:500], "error_count": count},
        )


def _read(content: str, required: list[str]) -> list[dict[str, str]]:
    """The data rows of a CSV (first line the header), each with its spreadsheet row number
    under ``"__row"`` (the header is row 1)."""
    text = content.lstrip("\ufeff")
    if not text.strip():
        raise AppError("invalid_file", _("The file is empty."))
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [name for name in required if name not in header]
        if missing:
            raise AppError(
                "invalid_file",
                _("The file has no column %(columns)s. Upload the CSV you downloaded, with its first line unchanged.")
                % {"columns": ", ".join(missing)},
                details={"missing_columns": missing},
            )
        reader.fieldnames = header
        rows = []
        for index, raw in enumerate(reader):
            if index >= MAX_FILE_ROWS:
                raise AppError(
                    "invalid_file",
                    _("The file has more than %(max)d rows; split it into smaller files.") % {"max": MAX_FILE_ROWS},
                )
            row = {key: (value or "").strip() for key, value in raw.items() if isinstance(key, str)}
            row["__row"] = str(index + 2)
            rows.append(row)
    except csv.Error as error:
        raise AppError("invalid_file", _("The file is not a readable CSV: %(error)s") % {"error": error}) from None
    return rows


def _assignment_ids(rows: list[dict[str, str]], problems: _Problems) -> dict[int, list[int]]:
    """AssignmentId -> the rows naming it; bad or repeated ids become problems."""
    seen: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        number, text = int(row["__row"]), row.get("AssignmentId", "")
        if not text.isdigit():
            problems.add(number, "AssignmentId", _("'%(value)s' is not an assignment id.") % {"value": text[:40]})
            continue
        seen[int(text)].append(number)
    for assignment_id, numbers in seen.items():
        if len(numbers) > 1:
            for number in numbers:
                problems.add(
                    number,
                    "AssignmentId",
                    _("Assignment %(id)d appears more than once (rows %(rows)s); keep one row.")
                    % {"id": assignment_id, "rows": ", ".join(map(str, numbers))},
                )
    return seen


def _known(organisation: Organisation, batch: Batch | None, ids: list[int]) -> dict[int, Assignment]:
    rows = Assignment.objects.filter(pk__in=ids, batch__organisation=organisation).select_related("batch", "worker")
    if batch is not None:
        rows = rows.filter(batch=batch)
    return {assignment.pk: assignment for assignment in rows}


def _unknown_message(assignment_id: int, batch: Batch | None) -> str:
    if batch is not None:
        return _("There is no assignment %(id)d in this batch.") % {"id": assignment_id}
    return _("There is no assignment %(id)d in this organisation.") % {"id": assignment_id}


def _rejection_reason(text: str) -> str | None:
    """A reason code of ``REJECTION_REASONS`` from its code or its words; None if neither."""
    wanted = text.strip().lower().rstrip(".")
    for code, words in REJECTION_REASONS.items():
        with translation.override("en"):
            english = str(words).lower().rstrip(".")
        if wanted in (code, code.replace("_", " "), english, str(words).lower().rstrip(".")):
            return code
    return None


def review_file_apply(
    *, actor: User, organisation: Organisation, content: str, batch: Batch | None = None
) -> ReviewFileResult:
    """Applies a review file: ``AssignmentId`` plus ``Approve`` (a mark such as ``x``; any
    other text is the feedback to the worker) or ``Reject`` (the explanation the worker reads
    and may dispute), and optionally ``RejectionReason`` (one of ``REJECTION_REASONS``,
    "other" when empty). Rows with neither are left undecided.

    Every row must name an assignment of ``organisation`` (and of ``batch`` when given)
    that is awaiting review with its pay in escrow, once, and not the actor's own work.
    Any problem raises ``review_file_invalid`` (400) with every problem in
    ``details["errors"]`` (row, column, message) and nothing applied. Otherwise one
    transaction approves per batch through ``assignments_approve_many`` and rejects through
    ``assignment_reject``; if one of them refuses (work decided meanwhile), everything rolls
    back and the refusal is raised. The caller checked the actor's review capability."""
    rows = _read(content, ["AssignmentId", "Approve", "Reject"])
    problems = _Problems([])
    by_id = _assignment_ids(rows, problems)
    known = _known(organisation, batch, list(by_id))
    escrow_states = books.statuses(known.values())
    approvals: dict[tuple[int, str], list[int]] = defaultdict(list)
    rejections: list[tuple[Assignment, str, str]] = []
    undecided = 0
    has_reason_column = any("RejectionReason" in row for row in rows)
    for row in rows:
        number, text = int(row["__row"]), row.get("AssignmentId", "")
        approve, reject = row.get("Approve", ""), row.get("Reject", "")
        if not text.isdigit():
            continue
        if not approve and not reject:
            undecided += 1
            continue
        assignment_id = int(text)
        assignment = known.get(assignment_id)
        if assignment is None:
            problems.add(number, "AssignmentId", _unknown_message(assignment_id, batch))
            continue
        if approve and reject:
            problems.add(number, "Approve", _("Fill either Approve or Reject, not both."))
            continue
        if assignment.status != Assignment.Status.SUBMITTED:
            problems.add(
                number,
                "AssignmentId",
                _("Assignment %(id)d is already decided; it cannot be decided again. Its state: %(state)s.")
                % {"id": assignment_id, "state": label(assignment.status)},
            )
            continue
        if escrow_states.get(assignment.escrow_key) != "pending":
            problems.add(
                number, "AssignmentId", _("The pay of assignment %(id)d is not held in escrow.") % {"id": assignment_id}
            )
            continue
        if assignment.worker_id == actor.pk:
            problems.add(
                number,
                "AssignmentId",
                _("Assignment %(id)d is your own work; another of your team must review it.") % {"id": assignment_id},
            )
            continue
        if approve:
            feedback = "" if approve.lower() in APPROVE_MARKS else approve
            approvals[(assignment.batch_id, feedback)].append(assignment_id)
            continue
        if reject.lower() in _BARE_MARKS:
            problems.add(
                number,
                "Reject",
                _("Write the reason for the rejection in the Reject column; the worker reads it and may dispute it."),
            )
            continue
        reason_text = row.get("RejectionReason", "") if has_reason_column else ""
        reason = _rejection_reason(reason_text) if reason_text else "other"
        if reason is None:
            problems.add(
                number,
                "RejectionReason",
                _("'%(value)s' is not a rejection reason; use one of: %(choices)s.")
                % {"value": reason_text[:40], "choices": ", ".join(REJECTION_REASONS)},
            )
            continue
        rejections.append((assignment, reason, reject))
    problems.raise_if_any("review_file_invalid")
    if not approvals and not rejections:
        raise AppError(
            "review_file_empty",
            _("No row is marked: put x under Approve, or the reason under Reject, on the rows to decide."),
        )
    rows_of = {assignment_id: numbers[0] for assignment_id, numbers in by_id.items()}
    batches = {key[0] for key in approvals} | {assignment.batch_id for assignment, _r, _t in rejections}
    approved = 0
    with transaction.atomic():
        # Batches in ascending id, each locked before its assignments (the services' lock order).
        for batch_id in sorted(batches):
            batch_row = Batch.objects.get(pk=batch_id)
            for (approval_batch, feedback), ids in sorted(approvals.items()):
                if approval_batch != batch_id:
                    continue
                try:
                    approved += assignments_approve_many(
                        actor=actor, batch=batch_row, assignment_ids=ids, feedback=feedback
                    )
                except AppError as error:
                    _raise_on_rows(error, [rows_of[i] for i in error.details.get("assignment_ids", ids)])
            for assignment, reason, text in sorted(rejections, key=lambda item: item[0].pk):
                if assignment.batch_id != batch_id:
                    continue
                try:
                    assignment_reject(actor=actor, assignment=assignment, reason=reason, text=text)
                except AppError as error:
                    _raise_on_rows(error, [rows_of[assignment.pk]])
        audit_record(
            actor=actor,
            action="assignment.review_file_applied",
            target=batch if batch is not None else organisation,
            after={"approved": approved, "rejected": len(rejections), "undecided": undecided},
        )
    return ReviewFileResult(approved=approved, rejected=len(rejections), undecided=undecided)


def _raise_on_rows(error: AppError, rows: list[int]) -> None:
    """A service refused inside the file's transaction: everything rolls back; say which rows."""
    raise AppError(
        "review_file_conflict",
        _("Nothing was applied: %(message)s") % {"message": error.message},
        status=409,
        details={"errors": [{"row": row, "column": "AssignmentId", "message": error.message} for row in rows]},
    ) from error


def bonus_file_token(*, assignment_id: int, amount: int, reason: str) -> str:
    """The idempotency token of a bonus row without its own ``UniqueRequestToken``: the same
    row uploaded again is the same bonus, paid once."""
    digest = hashlib.sha256(f"{assignment_id}\n{amount}\n{reason}".encode()).hexdigest()
    return f"file:{digest[:40]}"


def bonus_file_apply(
    *, actor: User, organisation: Organisation, content: str, batch: Batch | None = None
) -> BonusFileResult:
    """Pays the bonuses of a CSV with ``AssignmentId``, ``BonusAmount`` (major units, as
    MTurk's SendBonus: ``0.50``) and ``Reason``, optionally ``WorkerId`` (checked against the
    assignment) and ``UniqueRequestToken``. Amounts are bounded as every bonus is
    (``core.money.MAX_BONUS``).

    Idempotent: each row's token (its own, or one derived from assignment, amount and
    reason) is the bonus's key, so a file uploaded again pays nothing twice; those rows count
    as ``already_paid``. Any problem raises ``bonus_file_invalid`` with every row listed and
    pays nothing; the payments run in one transaction through ``assignment_bonus``, so a
    balance too small for the whole file (``insufficient_funds``) pays none of it."""
    rows = _read(content, ["AssignmentId", "BonusAmount", "Reason"])
    problems = _Problems([])
    parsed: list[tuple[int, int, int, str, str]] = []  # row, assignment id, amount, reason, token
    worker_of_row = {int(row["__row"]): row.get("WorkerId", "") for row in rows}
    for row in rows:
        number, text = int(row["__row"]), row.get("AssignmentId", "")
        if not text.isdigit():
            problems.add(number, "AssignmentId", _("'%(value)s' is not an assignment id.") % {"value": text[:40]})
            continue
        try:
            amount = parse_amount(
                row.get("BonusAmount", "").lstrip("$€£").strip(),
                field="BonusAmount",
                currency=batch.currency if batch is not None else platform_currency(),
                maximum=MAX_BONUS,
            )
        except AppError as error:
            problems.add(number, "BonusAmount", error.message.removeprefix("BonusAmount: "))
            continue
        reason = row.get("Reason", "")
        if not reason:
            problems.add(number, "Reason", _("Tell the worker why they get the bonus."))
            continue
        token = row.get("UniqueRequestToken", "")[:64] or bonus_file_token(
            assignment_id=int(text), amount=amount, reason=reason
        )
        parsed.append((number, int(text), amount, reason, token))
    rows_of_token: dict[str, list[int]] = defaultdict(list)
    for number, _id, _amount, _reason, token in parsed:
        rows_of_token[token].append(number)
    for numbers in rows_of_token.values():
        if len(numbers) > 1:
            for number in numbers:
                problems.add(
                    number,
                    "AssignmentId",
                    _(
                        "The same bonus appears more than once (rows %(rows)s); keep one row, or give each its own "
                        "UniqueRequestToken."
                    )
                    % {"rows": ", ".join(map(str, numbers))},
                )
    known = _known(organisation, batch, [item[1] for item in parsed])
    existing = {
        bonus.key: bonus
        for bonus in Bonus.objects.filter(key__in=[f"organisation:{organisation.pk}:{item[4]}" for item in parsed])
    }
    to_pay: list[tuple[int, Assignment, int, str, str]] = []
    already_paid = 0
    for number, assignment_id, amount, reason, token in parsed:
        assignment = known.get(assignment_id)
        if assignment is None:
            problems.add(number, "AssignmentId", _unknown_message(assignment_id, batch))
            continue
        worker_column = worker_of_row.get(number, "")
        if worker_column and (assignment.worker is None or assignment.worker.pseudonym != worker_column):
            problems.add(
                number,
                "WorkerId",
                _("Assignment %(id)d was not done by %(worker)s.") % {"id": assignment_id, "worker": worker_column},
            )
            continue
        if assignment.worker_id is None or assignment.status in (
            Assignment.Status.OPEN,
            Assignment.Status.ACCEPTED,
            Assignment.Status.WITHDRAWN,
        ):
            problems.add(
                number, "AssignmentId", _("Assignment %(id)d has no submitted work to reward.") % {"id": assignment_id}
            )
            continue
        paid_before = existing.get(f"organisation:{organisation.pk}:{token}")
        if paid_before is not None:
            if paid_before.assignment_id != assignment_id or paid_before.amount != amount:
                problems.add(
                    number,
                    "UniqueRequestToken",
                    _("This UniqueRequestToken was already used for a different bonus."),
                )
            else:
                already_paid += 1
            continue
        if assignment.worker_id == actor.pk:
            problems.add(number, "AssignmentId", _("You cannot pay yourself a bonus."))
            continue
        to_pay.append((number, assignment, amount, reason, token))
    problems.raise_if_any("bonus_file_invalid")
    total = sum(item[2] for item in to_pay)
    with transaction.atomic():
        for number, assignment, amount, reason, token in to_pay:
            try:
                assignment_bonus(actor=actor, assignment=assignment, amount=amount, reason=reason, token=token)
            except AppError as error:
                if error.code == "insufficient_funds":
                    raise AppError(
                        "insufficient_funds",
                        _("Nothing was paid: the file's bonuses come to %(total)s, more than your available balance.")
                        % {"total": format_amount(total, assignment.batch.currency)},
                        status=409,
                        details=error.details,
                    ) from error
                _raise_on_rows(error, [number])
        if to_pay:
            audit_record(
                actor=actor,
                action="assignment.bonus_file_applied",
                target=batch if batch is not None else organisation,
                after={"paid": len(to_pay), "already_paid": already_paid, "amount": total},
            )
    return BonusFileResult(paid=len(to_pay), already_paid=already_paid, amount=total)
