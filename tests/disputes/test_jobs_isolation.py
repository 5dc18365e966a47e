"""One case whose deadline step keeps failing never holds up the other cases' deadlines."""

import pytest
from django.db import OperationalError

from core.models import JobItemFailure
from core.runner import jobs_health
from disputes import jobs, services
from disputes.models import Case
from tests.disputes.factories import rejected_work

pytestmark = pytest.mark.django_db


def opened() -> Case:
    work = rejected_work()
    return services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="My labels were right.")


def test_a_failing_case_is_parked_and_the_other_deadlines_are_acted_on(clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stuck, other = opened(), opened()
    real = services.case_deadline_pass

    def deadline_pass(*, case_id: int, **kwargs):  # type: ignore[no-untyped-def]
        if case_id == stuck.pk:
            raise OperationalError("could not obtain lock on row in relation disputes_case")
        return real(case_id=case_id, **kwargs)

    monkeypatch.setattr(services, "case_deadline_pass", deadline_pass)
    clock.advance(hours=73)
    jobs.run_deadlines.delay().get()

    assert Case.objects.get(pk=stuck.pk).state == Case.State.AWAITING_RESPONSE
    assert Case.objects.get(pk=other.pk).state != Case.State.AWAITING_RESPONSE
    assert JobItemFailure.objects.get().item_key == str(stuck.pk)
    report = jobs_health()["disputes.jobs.run_deadlines"]
    assert report["failing"] == 1 and report["oldest_due_age_seconds"] >= 3600 - 5

    for _ in range(10):
        clock.advance(hours=2)
        jobs.run_deadlines.delay().get()
    assert len(jobs_health()["disputes.jobs.run_deadlines"]["parked"]) == 1
