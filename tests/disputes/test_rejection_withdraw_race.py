"""A requester's withdrawal racing the worker's dispute and the deadline job, on PostgreSQL
with real threads: the work is paid in full exactly once and no case is left awaiting an
answer (issue 18, point 7)."""

import pytest

from disputes import services
from disputes.models import Case
from ledger import accounts
from ledger.selectors import balance
from tasks import services as task_services
from tasks.models import Assignment
from tests.disputes.factories import REWARD, rejected_work
from tests.disputes.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def owner_of(work: Assignment):
    return work.batch.organisation.staff.get(role="owner").user


def test_withdrawing_while_the_worker_opens_a_dispute_pays_once_and_leaves_no_case_open() -> None:
    work = rejected_work()
    owner = owner_of(work)

    outcomes = race(
        lambda: task_services.assignment_rejection_withdraw(actor=owner, assignment=work),
        lambda: services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="It was right."),
    )

    # Withdrawal first: the dispute finds nothing to contest. Dispute first: the withdrawal
    # resolves the case it opened.
    assert outcomes in ({"ok": 1, "not_rejected": 1}, {"ok": 2})
    work.refresh_from_db()
    assert (work.status, work.settled_share_bps) == (Assignment.Status.SETTLED, 10_000)
    assert balance(accounts.worker_earnings(work.worker)).posted == REWARD
    assert not Case.objects.exclude(state=Case.State.CLOSED).exists()


def test_withdrawing_while_the_deadline_job_closes_the_case_pays_once(clock) -> None:
    work = rejected_work()
    case = services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="It was right.")
    clock.advance(hours=73)

    outcomes = race(
        lambda: task_services.assignment_rejection_withdraw(actor=owner_of(work), assignment=work),
        lambda: services.case_deadline_pass(case_id=case.pk),
    )

    # Whichever closes the case first pays; after the job, the withdrawal finds the work paid.
    assert outcomes in ({"ok": 2}, {"ok": 1, "not_rejected": 1})
    case.refresh_from_db()
    work.refresh_from_db()
    assert (case.state, case.outcome_share_bps) == (Case.State.CLOSED, 10_000)
    assert work.status == Assignment.Status.SETTLED
    assert balance(accounts.worker_earnings(work.worker)).posted == REWARD
