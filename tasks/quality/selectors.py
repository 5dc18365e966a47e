"""Reads of quality control, each scoped by its caller (the requester's batch from
``access_batch``, the worker's own work): control accuracy, aggregated answers, agreement,
and every score the platform keeps about a worker (issue 27.5: no hidden scores)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from tasks.models import Assignment, Batch, Qualification, QualificationTestAttempt
from tasks.quality.aggregation import ItemResult, dawid_skene, krippendorff_alpha, majority_vote
from tasks.quality.scoring import Check, answer_correct
from tasks.states import REVIEWABLE_ASSIGNMENT

CONTROL_ACCURACY_FORMULA = _(
    "control accuracy = checks answered correctly / checks answered, over your submitted work in this batch: "
    "the batch's control tasks (tasks whose answer the requester knows) and its attention checks. Each check "
    "is scored by the rules below."
)
QUALIFICATION_SCORE_FORMULA = _(
    "test score = questions answered correctly / questions drawn for your attempt; the qualification is granted "
    "when the score reaches the pass mark."
)
# Work that was submitted and is scored (everything after submission; the slot's later fate
# does not change what was answered).
SCORED_STATUSES = (
    Assignment.Status.SUBMITTED,
    Assignment.Status.APPROVED,
    Assignment.Status.REJECTED,
    Assignment.Status.DISPUTED,
    Assignment.Status.REFUNDED,
    Assignment.Status.SETTLED,
)
EVIDENCE_ITEMS = 100


@dataclass(frozen=True)
class CheckResult:
    assignment_id: int
    kind: str  # "control" or "attention"
    field: str
    expected: str
    tolerance: str
    given: str
    correct: bool

    def as_evidence(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment_id,
            "kind": self.kind,
            "field": self.field,
            "expected": self.expected,
            "tolerance": self.tolerance,
            "given": self.given,
            "correct": self.correct,
        }


@dataclass
class ControlScore:
    worker_id: int
    pseudonym: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.checks)

    @property
    def correct(self) -> int:
        return sum(1 for check in self.checks if check.correct)

    @property
    def accuracy_bps(self) -> int | None:
        return self.correct * 10_000 // self.answered if self.checks else None


def batch_has_checks(batch: Batch) -> bool:
    return bool(batch.control_share_bps or batch.attention_checks)


def _score_assignment(batch: Batch, assignment: Assignment) -> list[CheckResult]:
    results = []
    for kind, checks in (("control", assignment.task.control), ("attention", batch.attention_checks)):
        for name, check in checks.items():
            given = assignment.answers.get(name)
            results.append(
                CheckResult(
                    assignment_id=assignment.pk,
                    kind=kind,
                    field=name,
                    expected=check["expected"],
                    tolerance=check.get("tolerance", ""),
                    given="" if given is None else str(given),
                    correct=answer_correct(given=given, check=Check(check["expected"], check.get("tolerance", ""))),
                )
            )
    return results


def _scores(batch: Batch, assignments: Iterable[Assignment]) -> dict[int, ControlScore]:
    scores: dict[int, ControlScore] = {}
    for assignment in assignments:
        assert assignment.worker_id is not None
        score = scores.get(assignment.worker_id)
        if score is None:
            pseudonym = assignment.worker.pseudonym if assignment.worker else ""
            score = scores[assignment.worker_id] = ControlScore(worker_id=assignment.worker_id, pseudonym=pseudonym)
        score.checks.extend(_score_assignment(batch, assignment))
    return {worker_id: score for worker_id, score in scores.items() if score.checks}


def batch_control_scores(*, batch: Batch) -> dict[int, ControlScore]:
    """Each worker's control accuracy in ``batch`` (from ``access_batch``), by worker id, over
    the work its requester may read (escrowed or paid: never finally rejected work)."""
    if not batch_has_checks(batch):
        return {}
    rows = batch.assignments.filter(status__in=REVIEWABLE_ASSIGNMENT, worker__isnull=False).select_related(
        "task", "worker"
    )
    if not batch.attention_checks:
        rows = rows.exclude(task__control={})
    return _scores(batch, rows.order_by("id").iterator(chunk_size=2000))


def worker_control_score(*, batch: Batch, worker: User) -> ControlScore | None:
    """``worker``'s own control accuracy in ``batch`` (None: no checks answered)."""
    if not batch_has_checks(batch):
        return None
    rows = batch.assignments.filter(status__in=SCORED_STATUSES, worker=worker).select_related("task", "worker")
    return _scores(batch, rows.order_by("id")).get(worker.pk)


def worker_control_scores(*, worker: User) -> list[tuple[Batch, ControlScore]]:
    """Every batch where ``worker`` answered checks, with their accuracy there (newest first)."""
    batches = (
        Batch.objects.filter(assignments__worker=worker, assignments__status__in=SCORED_STATUSES)
        .exclude(control_share_bps=0, attention_checks={})
        .select_related("organisation")
        .distinct()
        .order_by("-id")[:200]
    )
    shown = []
    for batch in batches:
        score = worker_control_score(batch=batch, worker=worker)
        if score is not None:
            shown.append((batch, score))
    return shown


def worker_qualification_attempts(*, worker: User) -> list[QualificationTestAttempt]:
    """The worker's own scored test attempts, newest first (score and pass mark, never the key)."""
    return list(
        QualificationTestAttempt.objects.filter(worker=worker, submitted_at__isnull=False)
        .select_related("qualification__organisation")
        .order_by("-submitted_at")[:200]
    )


# --- Aggregation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldAggregate:
    field: str
    alpha: float | None
    items: int
    answers: int
    majority: dict[int, ItemResult]  # by task id
    dawid_skene: dict[int, ItemResult]


def aggregate_answers(
    *, answer_fields: list[str], rows: Iterable[tuple[int, int, dict[str, Any]]]
) -> list[FieldAggregate]:
    """Majority vote, Dawid-Skene and alpha per answer field over ``(task id, worker id,
    answers)`` rows; a field nobody answered is left out."""
    per_field: dict[str, list[tuple[int, int, str]]] = {name: [] for name in answer_fields}
    for task_id, worker_id, answers in rows:
        for name, bucket in per_field.items():
            value = answers.get(name)
            if value is not None and str(value).strip():
                bucket.append((task_id, worker_id, " ".join(str(value).split())))
    aggregates = []
    for name, given in per_field.items():
        if not given:
            continue
        aggregates.append(
            FieldAggregate(
                field=name,
                alpha=krippendorff_alpha(given),
                items=len({task for task, _worker, _label in given}),
                answers=len(given),
                majority={cast(int, result.item): result for result in majority_vote(given)},
                dawid_skene={cast(int, result.item): result for result in dawid_skene(given)},
            )
        )
    return aggregates


def batch_aggregates(*, batch: Batch, statuses: Iterable[str] = REVIEWABLE_ASSIGNMENT) -> list[FieldAggregate]:
    """Aggregated answers of ``batch`` (from ``access_batch``) over work in ``statuses`` (by
    default what its requester may read: escrowed or paid work)."""
    rows = (
        batch.assignments.filter(status__in=list(statuses), worker__isnull=False)
        .values_list("task_id", "worker_id", "answers")
        .iterator(chunk_size=5000)
    )
    return aggregate_answers(answer_fields=[f["name"] for f in batch.answer_fields], rows=rows)


def qualification_attempt_questions(attempt: QualificationTestAttempt) -> list[dict[str, Any]]:
    """The drawn questions in the attempt's order, as workers see them (never the key)."""
    by_name = {question["name"]: question for question in attempt.qualification.test_questions}
    return [
        {
            "name": name,
            "question": by_name[name].get("question", ""),
            "options": list(by_name[name].get("options") or []),
        }
        for name in attempt.question_names
        if name in by_name
    ]


def qualification_for_requester(*, organisation_id: int, qualification_id: int) -> Qualification | None:
    return Qualification.objects.filter(organisation_id=organisation_id, pk=qualification_id).first()
