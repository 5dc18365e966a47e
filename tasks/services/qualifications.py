"""Requester qualifications (granted by hand or by a test, paid or not), the organisation's
block list, and the workers' ratings of requesters."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.selectors import user_is_organisation_staff
from core.audit import audit_record
from core.errors import AppError
from governance.selectors import rule_value
from ledger import escrow
from notifications.selectors import moment_for
from tasks import notices
from tasks.models import (
    Assignment,
    BlockedWorker,
    Qualification,
    QualificationGrant,
    QualificationTestAttempt,
    QualificationTestOffer,
    RequesterRating,
)
from tasks.quality.scoring import Check, answer_correct
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
    pool_size: int = 0,
    sandbox: bool = False,
) -> Qualification:
    """A requester qualification, granted by hand or by a test whose answer key grants it.
    A ``sandbox`` one (made at the sandbox endpoint) gates only sandbox batches and its
    test pays nothing.
    A test estimated longer than the governed ``qualification_test_free_minutes`` is paid
    to every worker who takes it (``qualification_test_offer``). Each attempt draws
    ``pool_size`` of the questions (0: all) in random order. Raises ``invalid`` with field
    errors and saves nothing on bad input."""
    _require_staff(actor, organisation)
    fields: dict[str, list[str]] = {}
    if not name.strip():
        fields["name"] = [_("Required.")]
    if not description.strip():
        fields["description"] = [_("Say in plain words what it certifies; workers read it.")]
    questions = test_questions or []
    key = answer_key or {}
    names = [q.get("name") for q in questions if isinstance(q, dict)]
    if len(names) != len(questions) or not all(isinstance(n, str) and n for n in names):
        fields["test_questions"] = [_("Each question needs a name and the question text.")]
    elif any(not isinstance(q.get("question"), str) or not q["question"].strip() for q in questions):
        fields["test_questions"] = [_("Each question needs the question text.")]
    elif any(
        not isinstance(q.get("options", []), list) or not all(isinstance(o, str) for o in q.get("options", []))
        for q in questions
    ):
        fields["test_questions"] = [_("A question's options are a list of texts.")]
    elif len(set(names)) != len(names):
        fields["test_questions"] = [_("Two questions have the same name.")]
    elif set(names) != set(key) or not all(str(answer).strip() for answer in key.values()):
        fields["answer_key"] = [_("Give exactly one answer for each question.")]
    else:
        for question in questions:
            options = question.get("options") or []
            if options and str(key[question["name"]]) not in options:
                fields["answer_key"] = [
                    _("The answer to '%(name)s' is not one of its options.") % {"name": question["name"]}
                ]
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 0:
        fields["pool_size"] = [_("A whole number, zero or more (0: every question in each attempt).")]
    elif pool_size > len(questions):
        fields["pool_size"] = [
            _("The test has %(count)s question(s), not enough to draw %(pool)s for each attempt.")
            % {"count": len(questions), "pool": pool_size}
        ]
    if not 0 < pass_bps <= 10_000:
        fields["pass_bps"] = [_("Between 1 and 10000.")]
    if not isinstance(estimated_minutes, int) or not 1 <= estimated_minutes <= 600:
        fields["estimated_minutes"] = [_("Between 1 and 600 minutes: how long the test takes an honest worker.")]
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
            pool_size=pool_size,
            is_sandbox=sandbox,
        )
        audit_record(actor=actor, action="qualification.created", target=qualification, after={"name": name})
    return qualification


def qualification_grant(
    *, qualification: Qualification, worker: User, actor: User | None, value: int = 1
) -> QualificationGrant:
    with transaction.atomic():
        grant, _created = QualificationGrant.objects.update_or_create(
            qualification=qualification, worker=worker, defaults={"value": value, "by_test": actor is None}
        )
        audit_record(actor=actor, action="qualification.granted", target=grant, after={"value": value})
        notices.qualification_changed(qualification, worker.pk, granted=True)
    return grant


def qualification_revoke(*, qualification: Qualification, worker: User, actor: User) -> None:
    with transaction.atomic():
        deleted, _created = QualificationGrant.objects.filter(qualification=qualification, worker=worker).delete()
        if deleted:
            audit_record(actor=actor, action="qualification.revoked", target=qualification, after={"worker": worker.pk})
            notices.qualification_changed(qualification, worker.pk, granted=False)


def qualification_test_pay(*, qualification: Qualification) -> int:
    """What taking the test pays (minor units): nothing for a test no longer than the governed
    ``qualification_test_free_minutes``, otherwise the minimum hourly wage for its estimated
    length, rounded up. A sandbox qualification's test pays nothing: no real money for play."""
    if (
        qualification.is_sandbox
        or not qualification.has_test
        or qualification.estimated_minutes <= rule_value("qualification_test_free_minutes")
    ):
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
            _("This test is paid, and its requester's balance cannot cover its pay right now; try again later."),
            status=409,
        ) from error
    return offer


@dataclass(frozen=True)
class RetakeStanding:
    """Where a worker stands with a test: attempts used and allowed, when the next may start
    (None: now, or never when none are left), and whether the qualification is held."""

    attempts_used: int
    attempts_allowed: int
    next_attempt_at: datetime | None
    granted: bool
    open_attempt: QualificationTestAttempt | None

    @property
    def attempts_left(self) -> int:
        return max(0, self.attempts_allowed - self.attempts_used)


def qualification_retake_standing(
    *, qualification: Qualification, worker: User, now: datetime | None = None
) -> RetakeStanding:
    """The governed retake rules applied to ``worker`` (read-only)."""
    now = now or timezone.now()
    attempts = list(QualificationTestAttempt.objects.filter(qualification=qualification, worker=worker))
    scored = [a for a in attempts if a.submitted_at is not None]
    open_attempt = next((a for a in attempts if a.submitted_at is None), None)
    allowed = rule_value("qualification_test_max_attempts", at=now)
    next_at: datetime | None = None
    if scored:
        last = max(a.submitted_at for a in scored if a.submitted_at is not None)
        next_at = last + timedelta(hours=rule_value("qualification_retake_cooldown_hours", at=now))
        if next_at <= now:
            next_at = None
    return RetakeStanding(
        attempts_used=len(scored),
        attempts_allowed=allowed,
        next_attempt_at=next_at,
        granted=QualificationGrant.objects.filter(qualification=qualification, worker=worker).exists(),
        open_attempt=open_attempt,
    )


def qualification_test_start(*, qualification: Qualification, worker: User) -> QualificationTestAttempt:
    """Opens an attempt: draws ``pool_size`` questions in random order, or returns the attempt
    already open (the same questions: reloading never redraws). Refuses, changing nothing,
    ``no_test`` (409), ``already_qualified`` (409), ``attempts_exhausted`` (409) after the
    governed number of attempts, and ``retake_too_soon`` (409, with the time) within the
    governed cooldown after the last attempt. A paid test's pay is escrowed (once)."""
    if not qualification.has_test:
        raise AppError("no_test", _("This qualification is granted by the requester, not by a test."), status=409)
    with transaction.atomic():
        # One worker, one test at a time: the grant row's neighbours are not enough, so lock
        # the worker's row (a double click must not open two attempts).
        User.objects.select_for_update().filter(pk=worker.pk).first()
        standing = qualification_retake_standing(qualification=qualification, worker=worker)
        if standing.open_attempt is not None:
            return standing.open_attempt
        if standing.granted:
            raise AppError("already_qualified", _("You already hold this qualification."), status=409)
        if standing.attempts_left == 0:
            raise AppError(
                "attempts_exhausted",
                _("You have taken this test %(count)s time(s), the most the co-op's rules allow.")
                % {"count": standing.attempts_used},
                status=409,
            )
        if standing.next_attempt_at is not None:
            raise AppError(
                "retake_too_soon",
                _("You can take this test again from %(moment)s, after the wait the co-op's rules set.")
                % {"moment": moment_for(user=worker, moment=standing.next_attempt_at, deadline=True)},
                status=409,
                details={"next_attempt_at": standing.next_attempt_at.isoformat()},
            )
        names = [question["name"] for question in qualification.test_questions]
        drawn = random.SystemRandom().sample(names, qualification.questions_per_attempt)
        attempt = QualificationTestAttempt.objects.create(
            qualification=qualification,
            worker=worker,
            number=standing.attempts_used + 1,
            question_names=drawn,
            started_at=timezone.now(),
            pass_bps=qualification.pass_bps,
        )
        audit_record(
            actor=worker, action="qualification.test_started", target=qualification, after={"attempt": attempt.number}
        )
        # In the same transaction: a paid test the requester cannot fund opens no attempt.
        qualification_test_offer(qualification=qualification, worker=worker)
    return attempt


def qualification_test_take(
    *, qualification: Qualification, worker: User, answers: dict[str, str]
) -> QualificationTestAttempt:
    """Scores the worker's open attempt (opening one first, under the same rules, for a
    client that never opened it) against the answer key, over the questions drawn for it;
    grants the qualification when the score reaches the pass mark. A paid test pays the
    worker its escrowed pay whatever the score, once. Returns the scored attempt (score and
    pass mark, never the key). Answers must be text; a malformed one is ``invalid``."""
    bad = sorted(str(name) for name, value in answers.items() if not isinstance(value, str))
    if bad:
        raise _invalid({"answers": [_("Answers are text: %(names)s.") % {"names": ", ".join(bad[:10])}]})
    attempt = qualification_test_start(qualification=qualification, worker=worker)
    with transaction.atomic():
        attempt = QualificationTestAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.submitted_at is not None:  # a concurrent submission scored it first
            return attempt
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
        key = qualification.answer_key
        correct = sum(
            1
            for name in attempt.question_names
            if answer_correct(given=answers.get(name), check=Check(str(key.get(name, ""))))
        )
        attempt.correct = correct
        attempt.score_bps = correct * 10_000 // max(1, len(attempt.question_names))
        attempt.submitted_at = timezone.now()
        attempt.save(update_fields=["correct", "score_bps", "submitted_at"])
        audit_record(
            actor=worker,
            action="qualification.test_taken",
            target=qualification,
            after={"attempt": attempt.number, "score_bps": attempt.score_bps},
        )
        if attempt.passed:
            qualification_grant(qualification=qualification, worker=worker, actor=None)
    return attempt


def worker_block(*, organisation: Organisation, actor: User, worker: User, reason: str) -> BlockedWorker:
    """Adds a worker to the organisation's own block list; it affects only its batches."""
    _require_staff(actor, organisation)
    if not reason.strip():
        raise _invalid({"reason": ["Say why; the worker can see it."]})
    with transaction.atomic():
        block, _created = BlockedWorker.objects.update_or_create(
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
    # Sandbox work (play money, the requester's own testers) gives no say on its reputation.
    worked = Assignment.objects.filter(
        batch__organisation=organisation, worker=worker, submitted_at__isnull=False, batch__is_sandbox=False
    ).exists()
    if not worked:
        raise AppError("not_worked", _("You can rate a requester after submitting work to it."), status=403)
    if user_is_organisation_staff(user_id=worker.pk, organisation_id=organisation.pk):
        raise AppError(
            "own_organisation", _("Staff (present or recent) cannot rate their own organisation."), status=403
        )
    with transaction.atomic():
        rating, _created = RequesterRating.objects.update_or_create(
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
