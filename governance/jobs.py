"""Timers of governance: opening votes after discussion, closing them, and
putting adopted proposals into effect. Run by beat every minute (coop.schedule).

Each job finds the proposals that are due and calls one service per proposal,
each in its own transaction; the services are idempotent, so overlapping runs
and retries do no harm, and one failing proposal does not hold up the rest.
``now`` (ISO 8601) lets tests and operators run a job as of a given moment.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.runner import run_each
from governance import dividends, services, states
from governance.models import DividendAllocation, Proposal

logger = logging.getLogger(__name__)


def _moment(now: str | datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if isinstance(now, datetime):
        return now
    parsed = parse_datetime(now)
    if parsed is None:
        raise ValueError(f"not an ISO 8601 time: {now!r}")
    return parsed


def _each(job: str, proposals: list[tuple[int, datetime | None]], step: Callable[[int], object]) -> int:
    """Each proposal alone (``core.runner``): a refusal is logged, an unexpected failure
    is retried later and parked if it keeps failing."""
    return run_each(job, proposals, step).processed


@shared_task(name="governance.jobs.open_due_votes")
def open_due_votes(now: str | None = None) -> int:
    """Opens voting on every proposal whose discussion period is over."""
    moment = _moment(now)
    due = list(
        Proposal.objects.filter(state=states.DISCUSSION, discussion_ends_at__lte=moment)
        .order_by("discussion_ends_at", "id")
        .values_list("id", "discussion_ends_at")
    )
    return _each(
        "governance.jobs.open_due_votes", due, lambda pk: services.proposal_open_voting(proposal_id=pk, now=moment)
    )


@shared_task(name="governance.jobs.close_due_votes")
def close_due_votes(now: str | None = None) -> int:
    """Closes every vote whose time is up, then schedules the adopted ones
    (including any left adopted by an earlier run that stopped half-way)."""
    moment = _moment(now)
    due = list(
        Proposal.objects.filter(state=states.VOTING, voting_closes_at__lte=moment)
        .order_by("voting_closes_at", "id")
        .values_list("id", "voting_closes_at")
    )
    closed = _each(
        "governance.jobs.close_due_votes", due, lambda pk: services.proposal_close(proposal_id=pk, now=moment)
    )
    adopted = list(
        Proposal.objects.filter(state=states.ADOPTED).order_by("closed_at", "id").values_list("id", "closed_at")
    )
    _each("governance.jobs.schedule_adopted", adopted, lambda pk: services.proposal_schedule(proposal_id=pk))
    return closed


@shared_task(name="governance.jobs.activate_due_proposals")
def activate_due_proposals(now: str | None = None) -> int:
    """Puts into effect every scheduled proposal whose effective time has come."""
    moment = _moment(now)
    due = list(
        Proposal.objects.filter(state=states.SCHEDULED, effective_at__lte=moment)
        .order_by("effective_at", "id")
        .values_list("id", "effective_at")
    )
    return _each(
        "governance.jobs.activate_due_proposals",
        due,
        lambda pk: services.proposal_take_effect(proposal_id=pk, now=moment),
    )


@shared_task(name="governance.jobs.pay_dividends")
def pay_dividends() -> int:
    """Books every owed dividend share to its member's earnings, one per transaction
    (queued when a dividend is decided, and every five minutes for what a lost message or
    a crash left owed); each share is paid exactly once."""
    owed = list(
        DividendAllocation.objects.filter(status=DividendAllocation.Status.OWED)
        .order_by("id")
        .values_list("id", "dividend__created_at")
    )
    return run_each(
        "governance.jobs.pay_dividends", owed, lambda pk: dividends.dividend_allocation_pay(allocation_id=pk)
    ).processed
