"""Races on PostgreSQL with real threads, each on its own connection: a case is decided,
executed and paid exactly once, and an assignment is held by one case only."""

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from core.errors import AppError
from core.models import AuditEvent
from disputes import jobs, services
from disputes.models import Case, CaseItem, Juror
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import balance
from tests.disputes.factories import REWARD, approve, batch_for, jurors, reject, rejected_work, submitted
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], object]) -> Counter[str]:
    """Runs the calls at the same moment, one thread each; counts outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            try:
                call()
                result = "ok"
            except AppError as error:
                result = error.code
            with lock:
                outcomes[result] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def voting_case(clock) -> Case:
    jurors(5)
    work = rejected_work()
    case = services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="Right.")
    owner = case.organisation.staff.get(role="owner").user
    services.case_respond(case=case, actor=owner, action="contest", text="Wrong.")
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    return Case.objects.get(pk=case.pk)


def test_the_last_votes_at_once_decide_the_round_once(clock):
    case = voting_case(clock)
    first, *last = Juror.objects.filter(case=case).select_related("user")
    services.case_vote(case=case, juror_user=first.user, share_bps=10_000, reason="Good.")

    outcomes = race(
        *[
            lambda juror=juror: services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="Good.")
            for juror in last
        ]
    )

    assert outcomes == Counter({"ok": 2})
    case.refresh_from_db()
    assert (case.state, case.outcome) == ("decided", "pay_full")
    assert AuditEvent.objects.filter(action="case.decided", target_id=str(case.pk)).count() == 1
    assert Transfer.objects.filter(code="juror_fee").count() == 3
    assert balance(accounts.coop_juror_fees()).posted == -900


def test_deadline_jobs_at_once_execute_the_decision_once(clock):
    case = voting_case(clock)
    for juror in Juror.objects.filter(case=case).select_related("user"):
        services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="Good.")
    clock.advance(hours=73)

    outcomes = race(*[lambda: jobs.run_deadlines.delay() for _ in range(4)])

    assert outcomes == Counter({"ok": 4})
    case.refresh_from_db()
    assert (case.state, case.resolution) == ("closed", "panel")
    assert AuditEvent.objects.filter(action="case.finalise", target_id=str(case.pk)).count() == 1
    assert balance(accounts.worker_earnings(case.worker)).posted == REWARD


def test_an_appeal_racing_the_end_of_the_window_either_appeals_or_finalises(clock):
    case = voting_case(clock)
    for juror in Juror.objects.filter(case=case).select_related("user"):
        services.case_vote(case=case, juror_user=juror.user, share_bps=0, reason="Bad.")
    clock.advance(hours=72, seconds=-1)
    worker = case.worker

    outcomes = race(lambda: services.case_appeal(case=case, actor=worker, reason="Unfair."), jobs.run_deadlines.delay)

    # No database error in either thread: the loser of the lock sees the winner's state.
    assert sum(outcomes.values()) == 2

    case.refresh_from_db()
    if case.round == 2:
        assert case.state == Case.State.EVIDENCE and case.executed_at is None
    else:
        assert case.state == Case.State.CLOSED and case.executed_at is not None


def test_a_worker_disputing_while_the_guard_freezes_ends_in_one_case_only():
    organisation = OrganisationFactory()
    batch = batch_for(organisation, slots=10)
    work = [submitted(batch, UserFactory()) for _ in range(10)]
    for assignment in work[:7]:
        approve(assignment)
    rejected = [reject(assignment) for assignment in work[7:]]
    mine = rejected[0]

    outcomes = race(
        lambda: services.dispute_open(worker=mine.worker, assignment_id=mine.pk, statement="Mine was good."),
        lambda: services.mass_rejection_check(organisation_id=organisation.pk),
    )

    # Either the worker's case or the guard took it first; neither deadlocked.
    assert outcomes in (Counter({"ok": 2}), Counter({"ok": 1, "already_disputed": 1}))

    live = CaseItem.objects.filter(assignment=mine).exclude(state=CaseItem.State.SPLIT)
    assert live.count() == 1
    assert CaseItem.objects.exclude(state=CaseItem.State.SPLIT).count() == 3
