"""Celery jobs of the dispute procedure: every stage deadline, and the mass-rejection guard.

Each job is idempotent and safe to retry: the services re-check the case's state and
deadline under the row lock, so a job delivered twice does nothing the second time.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.errors import AppError
from disputes import services
from governance.selectors import rule_value
from tasks.models import Assignment

logger = logging.getLogger(__name__)


@shared_task(name="disputes.jobs.run_deadlines")
def run_deadlines() -> dict[str, int]:
    """Moves every case whose stage deadline has passed (see ``case_deadline_pass``)."""
    done: dict[str, int] = {}
    for case_id in services.cases_due():
        try:
            result = services.case_deadline_pass(case_id=case_id)
        except AppError as error:
            # E.g. no eligible juror yet: the case stays as it is and the next run retries.
            logger.warning("case %s deadline: %s (%s)", case_id, error.code, error.message)
            result = error.code
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
        Assignment.objects.filter(status=Assignment.Status.REJECTED, rejected_at__gte=since)
        .values_list("batch__organisation_id", flat=True)
        .distinct()
        .order_by("batch__organisation_id")
    )
    touched = 0
    for organisation_id in organisation_ids:
        if services.mass_rejection_check(organisation_id=organisation_id) is not None:
            touched += 1
    return touched
