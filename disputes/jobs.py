"""Celery jobs of the dispute procedure: every stage deadline, and the mass-rejection guard.

Each job is idempotent and safe to retry: the services re-check the case's state and
deadline under the row lock, so a job delivered twice does nothing the second time.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.runner import run_each
from disputes import services
from governance.selectors import rule_value
from tasks.models import Assignment

logger = logging.getLogger(__name__)


@shared_task(name="disputes.jobs.run_deadlines")
def run_deadlines() -> dict[str, int]:
    """Moves every case whose stage deadline has passed (see ``case_deadline_pass``)."""
    # Each case alone: a refusal (e.g. no eligible juror yet) leaves the case as it is for
    # the next run; an unexpected failure is retried later and, if it keeps failing, parked,
    # never holding up the other cases' deadlines.
    run = run_each(
        "disputes.jobs.run_deadlines",
        services.cases_due_with_times(),
        lambda case_id: services.case_deadline_pass(case_id=case_id),
    )
    done: dict[str, int] = {}
    for result in [*run.values, *run.refusals]:
        done[result] = done.get(result, 0) + 1
    return done


@shared_task(name="disputes.jobs.check_mass_rejection")
def check_mass_rejection(organisation_id: int) -> int | None:
    """The guard for one requester, queued by the marketplace after a rejection commits."""
    case = services.mass_rejection_check(organisation_id=organisation_id)
    return case.pk if case is not None else None


@shared_task(name="disputes.jobs.scan_mass_rejections")
def scan_mass_rejections() -> int:
    """The guard for every requester that rejected work in the governed period; a safety
    net for rejections that reached no on-commit check. Returns the cases touched."""
    since = timezone.now() - timedelta(hours=rule_value("mass_rejection_period_hours"))
    organisation_ids = (
        Assignment.objects.filter(status=Assignment.Status.REJECTED, rejected_at__gte=since, batch__is_sandbox=False)
        .values_list("batch__organisation_id", flat=True)
        .distinct()
        .order_by("batch__organisation_id")
    )
    run = run_each(
        "disputes.jobs.scan_mass_rejections",
        [(pk, None) for pk in organisation_ids],
        lambda pk: services.mass_rejection_check(organisation_id=pk),
    )
    return sum(1 for case in run.values if case is not None)


def _execute_all(case_id: int) -> int:
    settled = 0
    while True:
        done = services.case_execute_chunk(case_id=case_id)
        settled += done
        if done == 0:
            return settled


@shared_task(name="disputes.jobs.case_execute")
def case_execute(case_id: int) -> int:
    """Settles a large closed case chunk by chunk (each chunk one transaction), queued
    when it closes; ``execute_closed_cases`` resumes it if this job is lost or fails."""
    return _execute_all(case_id)


@shared_task(name="disputes.jobs.execute_closed_cases")
def execute_closed_cases() -> int:
    """Resumes the settlement of every closed case not yet fully executed."""
    run = run_each("disputes.jobs.execute_closed_cases", services.cases_to_execute(), _execute_all, atomic=False)
    return sum(run.values)


@shared_task(name="disputes.jobs.pay_juror_fees")
def pay_juror_fees() -> int:
    """Pays every juror fee a decision left owed, each juror alone (one transaction each,
    ``services.juror_fee_pay``); queued when a round is decided and run periodically, so a
    fee owed by a decision whose follow-up was lost is paid at the next tick. Returns how
    many were paid now."""
    run = run_each(
        "disputes.jobs.pay_juror_fees",
        services.juror_fees_owed(),
        lambda juror_id: services.juror_fee_pay(juror_id=juror_id),
    )
    return sum(1 for paid in run.values if paid)
