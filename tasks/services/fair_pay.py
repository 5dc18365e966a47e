"""Fair pay: a finished batch's good-faith median hourly pay against the floor in force at
publish, the top-ups that make up the difference (owed in the decision's transaction, paid
one by one by the job), and the owed ones paid on funding."""

import logging
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError
from governance.selectors import rule_in_force
from tasks import books, notices, selectors, states
from tasks.models import Assignment, AssignmentAttempt, Batch, Bonus, FairPayReview
from tasks.services.common import _lock_batch

logger = logging.getLogger(__name__)

FAIR_PAY_FORMULA = gettext_lazy(
    "Measured time is the median of the good-faith work times of the batch's eligible workers. An "
    "attempt counts if it was submitted and not finally rejected (its time runs from accepting to "
    "submitting), or if it expired while the worker was working (submitted after the time allotted and "
    "its grace period), counted as at least the time allotted. Attempts by the requester's present "
    "staff, and by people who left its staff within the “Former staff” period, are left out. Of the "
    "rest, attempts faster than the “Implausibly fast work” share of their median are left out, and the "
    "median of what remains is the measured time. When the reward divided by the measured time is under "
    "the minimum hourly wage the batch was published under, every paid attempt is owed a top-up of "
    "(minimum hourly wage times measured time in hours, rounded up) minus the reward (a partly paid attempt its "
    "share of it), paid by the requester whenever the attempt is paid: on approval, on auto-approval, or "
    "after a jury or an appeal."
)


def _notice(
    *, kind: str, figures: dict[str, int], batch: Batch, user: User | None = None, organisation: Any = None
) -> None:
    notices.fair_pay_notice(kind=kind, figures=figures, batch=batch, user=user, organisation=organisation)


def _review_figures(review: FairPayReview, top_up: int) -> dict[str, int]:
    """What a fair-pay notice says, as numbers (minor units, minutes): its words are the reader's."""
    return {
        "top_up": top_up,
        "minutes": review.median_work_seconds // 60,
        "median_hourly": review.median_hourly_pay,
        "floor_hourly": review.floor_hourly,
    }


@dataclass(frozen=True)
class FairPayFigures:
    median_work_seconds: int
    median_hourly_pay: int
    top_up_per_assignment: int


def good_faith_median(work_seconds: list[int], *, fast_share_bps: int = 0) -> int | None:
    """The median of ``work_seconds`` robust to a minority of implausibly fast ones: times
    under ``fast_share_bps`` of the plain median are dropped, then the median is taken again.
    While fewer than half the times are fast, the plain median is an honest time, so every
    fast one under the share of it is dropped and cannot pull the result down."""
    if not work_seconds:
        return None
    first = statistics.median(work_seconds)
    kept = [s for s in work_seconds if s * 10_000 >= first * fast_share_bps]
    return max(1, int(statistics.median(kept)))


def fair_pay_figures(
    *, reward: int, work_seconds: list[int], floor_hourly: int, fast_share_bps: int = 0
) -> FairPayFigures | None:
    """Median effective hourly pay and the top-up that brings it to the floor.

    The top-up is what the median worker was short: floor * median time - reward,
    rounded up to a whole minor unit so the floor is always met."""
    median = good_faith_median(work_seconds, fast_share_bps=fast_share_bps)
    if median is None:
        return None
    hourly = batch_hourly_pay(reward, median)
    owed = -(-floor_hourly * median // 3600) - reward
    return FairPayFigures(median_work_seconds=median, median_hourly_pay=hourly, top_up_per_assignment=max(0, owed))


def batch_hourly_pay(reward: int, seconds: int) -> int:
    return reward * 3600 // max(1, seconds)


def batch_good_faith_seconds(*, batch: Batch, at: Any = None) -> list[int]:
    """The work times the fair-pay median is taken over (``FAIR_PAY_FORMULA``, before the
    fast ones are dropped): one query for the attempts, one for the requester's staff."""
    from accounts.selectors import organisation_staff_ids

    staff = organisation_staff_ids(organisation_id=batch.organisation_id, at=at)
    allotted = batch.time_allotted_minutes * 60
    rows = (
        AssignmentAttempt.objects.filter(batch=batch, outcome__in=("submitted", "expired"))
        .exclude(worker_id__in=staff)
        .values_list("outcome", "work_seconds", "late_submission_at", "assignment__status")
    )
    seconds: list[int] = []
    for outcome, work, late_at, status in rows:
        if outcome == "submitted" and status != Assignment.Status.REFUNDED:
            seconds.append(work or 0)
        elif outcome == "expired" and late_at is not None:
            seconds.append(max(work or 0, allotted))
    return seconds


def _batch_rule(batch: Batch, key: str) -> int:
    """A rule the batch recorded at publish, or for a batch published before the rule
    existed, the value in force at its publication."""
    if key in batch.rule_versions:
        return batch.rule(key)
    return rule_in_force(key, at=batch.published_at).value


def _top_up_amount(review: FairPayReview, slot: Assignment) -> int:
    """The top-up owed on one paid attempt: in full for approved work, its share for a partly paid one."""
    if slot.status == Assignment.Status.SETTLED and slot.settled_share_bps is not None:
        return -(-review.top_up_per_assignment * slot.settled_share_bps // 10_000)
    return review.top_up_per_assignment


def _top_up_reason(batch: Batch, review: FairPayReview) -> str:
    """The English sentence kept in ``Bonus.reason`` (the audit's words); people read it in
    their own language, written from the review's figures (``selectors.bonus_reasons``)."""
    with translation.override("en"):
        return selectors.top_up_reason(review, title=batch.title, currency=batch.currency)


def _owe_top_ups(batch: Batch, review: FairPayReview, slots: list[Assignment]) -> int:
    """Records the top-ups owed on ``slots`` (paid attempts) as unpaid bonuses, once each
    (the key ``topup:assignment:<id>`` is unique); the caller's transaction holds the batch
    lock. Returns how many were newly owed. The payment is the job's (``fair_pay_top_up_pay``)."""
    if review.top_up_per_assignment <= 0 or not slots:
        return 0
    reason = _top_up_reason(batch, review)
    keys = {f"topup:assignment:{slot.pk}": slot for slot in slots}
    existing = set(Bonus.objects.filter(key__in=list(keys)).values_list("key", flat=True))
    new = [
        Bonus(
            assignment=slot,
            worker_id=slot.worker_id,
            kind=Bonus.Kind.FAIR_PAY_TOP_UP,
            amount=_top_up_amount(review, slot),
            reason=reason,
            key=key,
            paid=False,
        )
        for key, slot in keys.items()
        if key not in existing and slot.worker_id is not None
    ]
    Bonus.objects.bulk_create(new)
    if new:
        FairPayReview.objects.filter(pk=review.pk).update(top_ups_owed=F("top_ups_owed") + len(new))
    return len(new)


def fair_pay_owe_late_top_ups(*, batch_id: int, slots: list[Assignment]) -> int:
    """For the marketplace's payment services, inside their transaction: work paid after its
    batch's fair-pay review (a late approval, a jury's or an appeal's outcome) is owed its
    top-up at once, written with the payment itself. Returns how many were owed."""
    review = FairPayReview.objects.filter(batch_id=batch_id, top_up_per_assignment__gt=0).first()
    if review is None:
        return 0
    batch = Batch.objects.get(pk=batch_id)
    return _owe_top_ups(batch, review, slots)


def batch_fair_pay_review(*, batch: Batch) -> FairPayReview | None:
    """Measures a finished batch's good-faith median work time (``FAIR_PAY_FORMULA``); when
    its median hourly pay is below the floor in force at publish, every paid attempt is owed
    the shortfall as a top-up, written as unpaid bonuses in this same transaction, and both
    sides are told. ``fair_pay_collect_owed`` (the job) pays them, each once. Work paid later
    is owed its top-up when it is paid (``fair_pay_owe_late_top_ups``).

    Runs once per batch (idempotent); a batch that never published (a cancelled draft) is
    marked reviewed with nothing measured. Any error leaves the batch unreviewed, and
    ``batch_fair_pay_review_failed`` records it for the job's retry."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.fair_pay_reviewed_at is not None or batch.status not in states.FINISHED_BATCH:
            return None
        now = timezone.now()
        batch.fair_pay_reviewed_at = now
        batch.fair_pay_error = ""
        batch.fair_pay_retry_at = None
        batch.save(update_fields=["fair_pay_reviewed_at", "fair_pay_error", "fair_pay_retry_at"])
        if batch.published_at is None or "minimum_hourly_wage" not in batch.rule_versions:
            # Never published: no work, no rules it ran under, nothing to measure.
            return None
        floor = batch.rule("minimum_hourly_wage")
        figures = fair_pay_figures(
            reward=batch.reward,
            work_seconds=batch_good_faith_seconds(batch=batch, at=now),
            floor_hourly=floor,
            fast_share_bps=_batch_rule(batch, "fair_pay_fast_share_bps"),
        )
        if figures is None:
            return None
        review = FairPayReview.objects.create(
            batch=batch,
            median_work_seconds=figures.median_work_seconds,
            median_hourly_pay=figures.median_hourly_pay,
            floor_hourly=floor,
            top_up_per_assignment=figures.top_up_per_assignment,
        )
        owed = 0
        if figures.top_up_per_assignment:
            paid_work = list(Assignment.objects.filter(batch=batch, status__in=states.PAID_ASSIGNMENT).order_by("id"))
            owed = _owe_top_ups(batch, review, paid_work)
            _notice(
                kind="fair_pay_top_up",
                figures={**_review_figures(review, figures.top_up_per_assignment), "owed": owed},
                batch=batch,
                organisation=batch.organisation,
            )
        audit_record(
            actor=None,
            action="batch.fair_pay_reviewed",
            target=batch,
            after={
                "median_hourly_pay": figures.median_hourly_pay,
                "top_up": figures.top_up_per_assignment,
                "owed": owed,
            },
        )
    review.refresh_from_db()
    return review


def batch_fair_pay_review_failed(*, batch_id: int, error: BaseException) -> None:
    """Records on the batch that its fair-pay review failed; the job retries it after a
    backoff that doubles with each failure (at most a day), and staff see the error."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.fair_pay_reviewed_at is not None:
            return
        failures = batch.fair_pay_failures + 1
        batch.fair_pay_failures = failures
        batch.fair_pay_error = f"{type(error).__name__}: {error}"[:2000]
        batch.fair_pay_retry_at = timezone.now() + timedelta(minutes=min(2 ** (failures - 1) * 10, 24 * 60))
        batch.save(update_fields=["fair_pay_failures", "fair_pay_error", "fair_pay_retry_at"])


def fair_pay_top_up_pay(*, bonus_id: int) -> bool:
    """Pays one owed top-up from the requester's balance, exactly once: the ledger transfer
    (``bonus:<key>``), the bonus marked paid, the review's counters and the worker's notice
    are one transaction, so a crash anywhere leaves it owed and the next run pays it.
    Returns True if paid now; raises ``insufficient_funds`` (409) with nothing changed."""
    with transaction.atomic():
        bonus = (
            Bonus.objects.select_for_update(of=("self",))
            .select_related("assignment__batch__organisation", "worker")
            .filter(pk=bonus_id, kind=Bonus.Kind.FAIR_PAY_TOP_UP)
            .first()
        )
        if bonus is None or bonus.paid:
            return False
        batch = bonus.assignment.batch
        books.bonus_pay(batch, worker=bonus.worker, amount=bonus.amount, key=bonus.key)
        bonus.paid = True
        bonus.save(update_fields=["paid"])
        FairPayReview.objects.filter(batch=batch).update(
            top_ups_paid=F("top_ups_paid") + 1, top_ups_owed=F("top_ups_owed") - 1
        )
        _notice(kind="fair_pay_top_up", figures=_bonus_figures(bonus), batch=batch, user=bonus.worker)
    return True


def _bonus_figures(bonus: Bonus) -> dict[str, int]:
    review = FairPayReview.objects.get(batch_id=bonus.assignment.batch_id)
    return _review_figures(review, bonus.amount)


def _tell_top_up_waits(bonus_id: int) -> None:
    """The worker hears once that their top-up waits for the requester's funds."""
    bonus = Bonus.objects.select_related("assignment__batch", "worker").get(pk=bonus_id)
    batch = bonus.assignment.batch
    if notices.top_up_owed_told(worker_id=bonus.worker_id, batch_id=batch.pk):
        return
    _notice(
        kind="fair_pay_top_up_owed",
        figures=_bonus_figures(bonus),
        batch=batch,
        user=bonus.worker,
    )


def fair_pay_collect_owed(*, batch: Batch) -> int:
    """Pays the owed top-ups of ``batch``, each on its own (``fair_pay_top_up_pay``); returns
    how many were paid. Stops at the requester's first ``insufficient_funds`` (the rest wait
    for funding); any other failure is logged and left owed for the next run, and the others
    are still paid."""
    paid = 0
    owed_ids = list(
        Bonus.objects.filter(assignment__batch=batch, kind=Bonus.Kind.FAIR_PAY_TOP_UP, paid=False)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for bonus_id in owed_ids:
        try:
            paid += fair_pay_top_up_pay(bonus_id=bonus_id)
        except AppError as error:
            if error.code != "insufficient_funds":
                logger.warning("top-up %s not paid: %s", bonus_id, error.code)
                continue
            _tell_top_up_waits(bonus_id)
            break
        except Exception:
            logger.exception("top-up %s not paid; the next run retries it", bonus_id)
    return paid
