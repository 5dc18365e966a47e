"""Requester qualifications (granted by hand or by a test, paid or not), the organisation's
block list, and the workers' ratings of requesters."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.selectors import user_is_organisation_staff
from core.audit import audit_record
from core.errors import AppError
from governance.selectors import rule_value
from ledger import escrow
from tasks import notices
from tasks.models import (
    Assignment,
    BlockedWorker,
    Qualification,
    QualificationGrant,
    QualificationTestOffer,
    RequesterRating,
)
from tasks.services.common import _invalid, _require_staff


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
