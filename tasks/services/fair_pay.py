"""Fair pay: a finished batch's measured median hourly pay against the floor in force at
publish, the top-ups that make up the difference, and the owed ones paid on funding."""

import statistics
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError
from core.money import format_amount
from ledger import escrow
from tasks.models import Assignment, AssignmentAttempt, Batch, Bonus, FairPayReview, Notice
from tasks.services.common import _lock_batch


def _notice(*, kind: str, message: str, batch: Batch, user: User | None = None, organisation: Any = None) -> None:
    Notice.objects.create(kind=kind, message=message, batch=batch, user=user, organisation=organisation)


@dataclass(frozen=True)
class FairPayFigures:
    median_work_seconds: int
    median_hourly_pay: int
    top_up_per_assignment: int


def fair_pay_figures(*, reward: int, work_seconds: list[int], floor_hourly: int) -> FairPayFigures | None:
    """Median effective hourly pay and the top-up that brings it to the floor.

    The top-up is what the median worker was short: floor * median time - reward,
    rounded up to a whole minor unit so the floor is always met."""
    if not work_seconds:
        return None
    median = max(1, int(statistics.median(work_seconds)))
    hourly = batch_hourly_pay(reward, median)
    owed = -(-floor_hourly * median // 3600) - reward
    return FairPayFigures(median_work_seconds=median, median_hourly_pay=hourly, top_up_per_assignment=max(0, owed))


def batch_hourly_pay(reward: int, seconds: int) -> int:
    return reward * 3600 // max(1, seconds)


def batch_fair_pay_review(*, batch: Batch) -> FairPayReview | None:
    """Measures a finished batch's median work time (accept to submit); when its median
    hourly pay is below the floor in force at publish, pays each worker of approved work the
    shortfall as a top-up bonus from the requester's balance and notifies both sides.
    A top-up the balance cannot cover is recorded as owed (with a notice) and retried by
    ``fair_pay_collect_owed``. Runs once per batch (idempotent)."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.fair_pay_reviewed_at is not None or batch.status not in ("completed", "cancelled", "expired"):
            return None
        seconds = list(
            AssignmentAttempt.objects.filter(batch=batch, outcome="submitted").values_list("work_seconds", flat=True)
        )
        batch.fair_pay_reviewed_at = timezone.now()
        batch.save(update_fields=["fair_pay_reviewed_at"])
        floor = batch.rule("minimum_hourly_wage")
        figures = fair_pay_figures(reward=batch.reward, work_seconds=[s or 0 for s in seconds], floor_hourly=floor)
        if figures is None:
            return None
        review = FairPayReview.objects.create(
            batch=batch,
            median_work_seconds=figures.median_work_seconds,
            median_hourly_pay=figures.median_hourly_pay,
            floor_hourly=floor,
            top_up_per_assignment=figures.top_up_per_assignment,
        )
        audit_record(
            actor=None,
            action="batch.fair_pay_reviewed",
            target=batch,
            after={"median_hourly_pay": figures.median_hourly_pay, "top_up": figures.top_up_per_assignment},
        )
    if figures.top_up_per_assignment:
        _pay_top_ups(batch, review)
    return review


def _pay_top_ups(batch: Batch, review: FairPayReview) -> None:
    amount = review.top_up_per_assignment
    paid_work = Assignment.objects.filter(batch=batch, status__in=("approved", "settled")).select_related("worker")
    currency = batch.currency
    for slot in paid_work.order_by("id"):
        key = f"topup:assignment:{slot.pk}"
        if Bonus.objects.filter(key=key, paid=True).exists():
            continue
        reason = (
            f"Fair-pay top-up: the median worker on '{batch.title}' took {review.median_work_seconds // 60} min, "
            f"so the reward paid {format_amount(review.median_hourly_pay, currency)}/h, under the co-op's "
            f"{format_amount(review.floor_hourly, currency)}/h."
        )
        try:
            with transaction.atomic():
                Bonus.objects.update_or_create(
                    key=key,
                    defaults={
                        "assignment": slot,
                        "worker_id": slot.worker_id,
                        "kind": Bonus.Kind.FAIR_PAY_TOP_UP,
                        "amount": amount,
                        "reason": reason,
                        "paid": True,
                    },
                )
                escrow.bonus_pay(organisation=batch.organisation, worker=slot.worker, amount=amount, key=key)  # type: ignore[arg-type]
                FairPayReview.objects.filter(pk=review.pk).update(top_ups_paid=F("top_ups_paid") + 1)
                _notice(kind="fair_pay_top_up", message=reason, batch=batch, user=slot.worker)
        except AppError as error:
            if error.code != "insufficient_funds":
                raise
            with transaction.atomic():
                Bonus.objects.update_or_create(
                    key=key,
                    defaults={
                        "assignment": slot,
                        "worker_id": slot.worker_id,
                        "kind": Bonus.Kind.FAIR_PAY_TOP_UP,
                        "amount": amount,
                        "reason": reason,
                        "paid": False,
                    },
                )
                FairPayReview.objects.filter(pk=review.pk).update(top_ups_owed=F("top_ups_owed") + 1)
                _notice(
                    kind="fair_pay_top_up_owed",
                    message=reason + " The requester's balance cannot cover it yet; it is owed and paid on funding.",
                    batch=batch,
                    user=slot.worker,
                )
    review.refresh_from_db()
    _notice(
        kind="fair_pay_top_up",
        message=(
            f"'{batch.title}' paid a median {format_amount(review.median_hourly_pay, currency)}/h against the co-op's "
            f"minimum {format_amount(review.floor_hourly, currency)}/h: each approved assignment gets a top-up of "
            f"{format_amount(amount, currency)} ({review.top_ups_paid} paid, {review.top_ups_owed} owed until "
            "you add funds). Correct the time estimate for future batches."
        ),
        batch=batch,
        organisation=batch.organisation,
    )


def fair_pay_collect_owed(*, batch: Batch) -> int:
    """Retries owed top-ups of ``batch`` (after the requester adds funds); returns how many paid."""
    paid = 0
    for bonus in Bonus.objects.filter(assignment__batch=batch, kind="fair_pay_top_up", paid=False).select_related(
        "worker"
    ):
        try:
            with transaction.atomic():
                locked = Bonus.objects.select_for_update().get(pk=bonus.pk)
                if locked.paid:
                    continue
                escrow.bonus_pay(
                    organisation=batch.organisation, worker=bonus.worker, amount=bonus.amount, key=bonus.key
                )
                locked.paid = True
                locked.save(update_fields=["paid"])
                FairPayReview.objects.filter(batch=batch).update(
                    top_ups_paid=F("top_ups_paid") + 1, top_ups_owed=F("top_ups_owed") - 1
                )
                _notice(kind="fair_pay_top_up", message=bonus.reason, batch=batch, user=bonus.worker)
                paid += 1
        except AppError as error:
            if error.code != "insufficient_funds":
                raise
            break
    return paid
