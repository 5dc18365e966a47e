"""What the marketplace tells workers and requesters, and its deadlines for reminders.

A worker is told only about their own work; a requester's notices go to its staff."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse

from core.money import format_amount
from core.rules import rule_value
from notifications.models import Notification
from notifications.reminders import Deadline
from notifications.services import notify, staff_of
from tasks.models import Assignment, Batch, BatchDataReport, Bonus, DispatchWave, Qualification
from tasks.selectors import data_report_due_at
from tasks.states import DATA_REPORTABLE_BATCH

# The fair-pay notices' kinds (tasks.services.fair_pay._notice) and their categories.
NOTICE_CATEGORIES = {
    ("fair_pay_top_up", False): "top_up",
    ("fair_pay_top_up_owed", False): "top_up_owed",
    ("fair_pay_top_up", True): "top_up_requester",
    ("fair_pay_top_up_owed", True): "top_up_requester",
}


def _assignment_url(assignment: Assignment) -> str:
    return reverse("worker_assignment", args=[assignment.pk])


def marked(batch: Batch, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` of a notice about ``batch``, marked ``sandbox`` for a sandbox batch: its
    title then reads "[Sandbox] ..." in the inbox, the e-mail and every list (issue 24.6)."""
    return {**params, "sandbox": True} if batch.is_sandbox else params


def rejected(assignment: Assignment) -> None:
    """The worker learns the reason and the last moment to dispute (sandbox work, paid in
    play money, cannot be disputed: its own notice says so)."""
    notify(
        users=[assignment.worker_id],
        category="sandbox_rejection" if assignment.batch.is_sandbox else "rejection",
        params=marked(
            assignment.batch,
            {
                "batch": assignment.batch.title,
                "reason": assignment.rejection_text,
                "deadline": assignment.rejection_final_at,
            },
        ),
        url=_assignment_url(assignment),
    )


def bonus_paid(bonus: Bonus, assignment: Assignment) -> None:
    batch = assignment.batch
    notify(
        users=[bonus.worker_id],
        category="bonus",
        params=marked(
            batch,
            {
                "amount": format_amount(bonus.amount, batch.currency),
                "batch": batch.title,
                "requester": batch.organisation.display_name,
                "reason": bonus.reason,
            },
        ),
        url=reverse("worker_earnings"),
    )


def qualification_changed(qualification: Qualification, worker_id: int, *, granted: bool) -> None:
    notify(
        users=[worker_id],
        category="qualification_granted" if granted else "qualification_revoked",
        params={"qualification": qualification.name, "requester": qualification.organisation.display_name},
        url=reverse("worker_feed"),
    )


def fair_pay_notice(
    *, kind: str, figures: dict[str, int], batch: Batch, user: Any = None, organisation: Any = None
) -> None:
    """A fair-pay top-up paid or owed, to the worker, or the review's summary to the requester's staff.
    ``figures`` (amounts in minor units of the batch's currency, minutes, counts) are stored, not
    words: the notice is written in each reader's language when read."""
    category = NOTICE_CATEGORIES[(kind, organisation is not None)]
    users = list(staff_of(organisation)) if organisation is not None else [user.pk]
    url = (
        reverse("org_batch", args=[organisation.slug, batch.pk])
        if organisation is not None
        else reverse("worker_earnings")
    )
    notify(
        users=users,
        category=category,
        params={"batch": batch.title, "batch_id": batch.pk, "currency": batch.currency, **figures},
        url=url,
        organisation=organisation,
    )


def top_up_owed_told(*, worker_id: int, batch_id: int) -> bool:
    """Whether the worker was already told that a top-up on this batch waits for funds."""
    return Notification.objects.filter(user_id=worker_id, category="top_up_owed", params__batch_id=batch_id).exists()


def deadlines(now: datetime, until: datetime) -> Iterable[Deadline]:
    """Reminder source: a provisional rejection becomes final (and its pay is lost) unless
    the worker disputes it before ``rejection_final_at``. Sandbox work costs nothing real
    and cannot be disputed: no reminder."""
    due = Assignment.objects.filter(
        status=Assignment.Status.REJECTED,
        rejection_final_at__gt=now,
        rejection_final_at__lte=until,
        batch__is_sandbox=False,
    ).select_related("batch")
    for assignment in due.iterator(chunk_size=500):
        yield Deadline(
            key=f"rejection:{assignment.pk}",
            due_at=assignment.rejection_final_at,  # type: ignore[arg-type]
            user_ids=[assignment.worker_id],  # type: ignore[list-item]
            category="rejection_deadline",
            params={"batch": assignment.batch.title},
            url=_assignment_url(assignment),
        )


def data_report_deadlines(now: datetime, until: datetime) -> Iterable[Deadline]:
    """Reminder source: a closed batch's data report falls due (it is then marked on the
    requester's public page); to the organisation's staff, until the report is filed."""
    days = rule_value("data_report_days", at=now)
    # The rule may change; a window of a day either side, then the exact due time decides.
    closing = (
        Batch.objects.filter(
            status__in=DATA_REPORTABLE_BATCH,
            data_report__isnull=True,
            data_report_overdue_at__isnull=True,
            ended_at__gt=now - timedelta(days=days + 1),
            ended_at__lte=until - timedelta(days=days - 1),
        )
        .select_related("organisation")
        .order_by("id")
    )
    for batch in closing.iterator(chunk_size=500):
        due_at = data_report_due_at(batch)
        if due_at is None or not now < due_at <= until:
            continue
        yield Deadline(
            key=f"batch:{batch.pk}:data-report",
            due_at=due_at,
            user_ids=list(staff_of(batch.organisation)),
            category="data_report_due",
            params={"batch": batch.title, "deadline": due_at},
            url=reverse("org_batch", args=[batch.organisation.slug, batch.pk]),
        )


def data_report_filed(report: BatchDataReport, worker_ids: list[int]) -> None:
    """The requester's report, to every worker who handed in work on the batch."""
    batch = report.batch
    notify(
        users=worker_ids,
        category="batch_data_report",
        params={"batch": batch.title, "requester": batch.organisation.display_name, "used_for": report.used_for[:300]},
        url=reverse("worker_assignments") + f"#batch-{batch.pk}",
    )


def wave_drawn(
    *,
    batch: Batch,
    wave: DispatchWave,
    given: dict[int, tuple[int, datetime]],
    not_drawn: list[int],
    applicants: int,
) -> None:
    """A wave's draw, to its applicants: each worker given a slot learns it is theirs and by
    when to hand it in (the slot's clock runs from the draw); those not drawn learn how many
    slots went by lot and when their next chance comes (the next wave's window, or first
    come, first served after the last), on their inbox (e-mail only if they choose it). Those
    drawn but skipped (no longer eligible, or at the cap) are not told: their result is on
    their draws page, and "not drawn" would not be true."""
    for worker_id, (assignment_id, deadline) in sorted(given.items()):
        notify(
            users=[worker_id],
            category="dispatch_given",
            params={"batch": batch.title, "wave": wave.number, "deadline": deadline},
            url=reverse("worker_assignment", args=[assignment_id]),
        )
    if not not_drawn:
        return
    upcoming = (
        DispatchWave.objects.filter(batch_id=batch.pk, number__gt=wave.number)
        .order_by("number")
        .values_list("opens_at", flat=True)
        .first()
    )
    next_chance = upcoming or batch.dispatch_fcfs_at
    if next_chance is None:
        return
    notify(
        users=sorted(not_drawn),
        category="dispatch_not_drawn",
        params={
            "batch": batch.title,
            "wave": wave.number,
            "given": len(given),
            "applicants": applicants,
            "next_chance": next_chance,
        },
        url=reverse("worker_batch", args=[batch.pk]),
    )
