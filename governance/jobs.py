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

from core.errors import AppError
from governance import services, states
from governance.models import Proposal

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


def _each(proposal_ids: list[int], step: Callable[[int], object], what: str) -> int:
    done = 0
    for proposal_id in proposal_ids:
        try:
            step(proposal_id)
        except AppError as error:
            logger.warning(
                "governance: could not %s proposal %s: %s (%s)", what, proposal_id, error.message, error.code
            )
        else:
            done += 1
    return done


@shared_task(name="governance.jobs.open_due_votes")
def open_due_votes(now: str | None = None) -> int:
    """Opens voting on every proposal whose discussion period is over."""
    moment = _moment(now)
    due = list(
        Proposal.objects.filter(state=states.DISCUSSION, discussion_ends_at__lte=moment)
        .order_by("discussion_ends_at", "id")
        .values_list("id", flat=True)
    )
    return _each(due, lambda pk: services.proposal_open_voting(proposal_id=pk, now=moment), "open voting on")


@shared_task(name="governance.jobs.close_due_votes")
def close_due_votes(now: str | None = None) -> int:
    """Closes every vote whose time is up, then schedules the adopted ones
    (including any left adopted by an earlier run that stopped half-way)."""
    moment = _moment(now)
    due = list(
        Proposal.objects.filter(state=states.VOTING, voting_closes_at__lte=moment)
        .order_by("voting_closes_at", "id")
        .values_list("id", flat=True)
    )
    closed = _each(due, lambda pk: services.proposal_close(proposal_id=pk, now=moment), "close")
    adopted = list(
        Proposal.objects.filter(state=states.ADOPTED).order_by("closed_at", "id").values_list("id", flat=True)
    )
    _each(adopted, lambda pk: services.proposal_schedule(proposal_id=pk), "schedule")
    return closed


@shared_task(name="governance.jobs.activate_due_proposals")
def activate_due_proposals(now: str | None = None) -> int:
    """Puts into effect every scheduled proposal whose effective time has come."""
    moment = _moment(now)
    due = list(
        Proposal.objects.filter(state=states.SCHEDULED, effective_at__lte=moment)
        .order_by("effective_at", "id")
        .values_list("id", flat=True)
    )
    return _each(due, lambda pk: services.proposal_take_effect(proposal_id=pk, now=moment), "put into effect")
