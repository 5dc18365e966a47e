"""A requester withdraws its own rejection: one service (``assignment_rejection_withdraw``)
for the API and the pages (MTurk's OverrideRejection: tests/mturk/test_rejection_withdraw.py),
which resolves the worker's open case or refuses, so no case is left awaiting an answer."""

import logging

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent
from disputes import jobs, services
from disputes.models import Case, CaseItem
from ledger import accounts
from ledger.selectors import balance
from tasks.models import Assignment
from tests.disputes.factories import FEE, REWARD, batch_for, jurors, rejected_work, submitted
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def owner_of(assignment: Assignment):
    return assignment.batch.organisation.staff.get(role="owner").user


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def withdraw_url(assignment: Assignment) -> str:
    return f"/api/batches/{assignment.batch_id}/submissions/{assignment.pk}/withdraw-rejection/"


def money(assignment: Assignment) -> dict[str, int]:
    organisation = assignment.batch.organisation
    return {
        "escrow_pending": balance(accounts.org_escrow(organisation)).credits_pending,
        "worker": balance(accounts.worker_earnings(assignment.worker)).posted,
        "fees": balance(accounts.coop_fees()).posted,
    }


PAID_IN_FULL = {"escrow_pending": 0, "worker": REWARD, "fees": FEE}
RESERVED = {"escrow_pending": REWARD + FEE, "worker": 0, "fees": 0}


@pytest.fixture
def work() -> Assignment:
    return rejected_work()


@pytest.fixture
def case(work: Assignment) -> Case:
    return services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I followed the instructions.")


def test_withdrawing_through_the_api_resolves_the_open_case(work, case, clock, caplog) -> None:
    response = api_for(owner_of(work)).post(withdraw_url(work))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == Assignment.Status.SETTLED
    work.refresh_from_db()
    assert (work.status, work.settled_share_bps) == (Assignment.Status.SETTLED, 10_000)
    case.refresh_from_db()
    assert (case.state, case.outcome, case.outcome_share_bps, case.resolution, case.due_at) == (
        Case.State.CLOSED,
        Case.Outcome.PAY_FULL,
        10_000,
        Case.Resolution.REQUESTER_ACCEPTED,
        None,
    )
    assert list(case.items.values_list("state", "executed_share_bps")) == [(CaseItem.State.EXECUTED, 10_000)]
    assert money(work) == PAID_IN_FULL
    assert AuditEvent.objects.filter(action="case.accept", target_id=str(case.pk)).count() == 1

    # Past the response deadline the deadline job has nothing to do and warns about nothing.
    clock.advance(hours=73)
    with caplog.at_level(logging.WARNING, logger="disputes.jobs"):
        assert jobs.run_deadlines() == {}
    assert [r.getMessage() for r in caplog.records if r.name.startswith("disputes")] == []
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    assert money(work) == PAID_IN_FULL


def test_withdrawing_on_the_review_page_resolves_the_open_case(client, work, case) -> None:
    client.force_login(owner_of(work))
    organisation = work.batch.organisation
    url = reverse("org_review_decide", args=[organisation.slug, work.batch_id, work.pk, "withdraw-rejection"])

    response = client.post(url)

    assert response.status_code == 302
    work.refresh_from_db()
    case.refresh_from_db()
    assert (work.status, case.state, case.resolution) == (
        Assignment.Status.SETTLED,
        Case.State.CLOSED,
        Case.Resolution.REQUESTER_ACCEPTED,
    )
    assert money(work) == PAID_IN_FULL


def test_the_review_page_offers_the_withdrawal_for_a_rejection(client, work) -> None:
    client.force_login(owner_of(work))
    organisation = work.batch.organisation
    page = client.get(reverse("org_review", args=[organisation.slug, work.batch_id]) + "?show=all")
    assert "Withdraw the rejection and pay in full" in page.content.decode()


def test_withdrawing_once_the_case_went_to_a_panel_is_refused_and_changes_nothing(work, case) -> None:
    jurors(12)
    services.case_respond(case=case, actor=owner_of(work), action="contest", text="Answers were random.")
    case.refresh_from_db()
    before_state = case.state

    response = api_for(owner_of(work)).post(withdraw_url(work))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "rejection_under_dispute"
    work.refresh_from_db()
    case.refresh_from_db()
    assert (work.status, case.state, before_state) == (Assignment.Status.DISPUTED, Case.State.EVIDENCE, "evidence")
    assert list(case.items.values_list("state", flat=True)) == [CaseItem.State.HELD]
    assert money(work) == RESERVED


def test_withdrawing_a_rejection_with_no_case_pays_in_full(work) -> None:
    response = api_for(owner_of(work)).post(withdraw_url(work))

    assert response.status_code == 200, response.content
    work.refresh_from_db()
    assert (work.status, work.settled_share_bps) == (Assignment.Status.SETTLED, 10_000)
    assert money(work) == PAID_IN_FULL
    assert AuditEvent.objects.filter(action="assignment.rejection_withdrawn", target_id=str(work.pk)).count() == 1
    # Once: a second withdrawal is refused and pays nothing more.
    again = api_for(owner_of(work)).post(withdraw_url(work))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_rejected")
    assert money(work) == PAID_IN_FULL


def test_withdrawing_work_that_was_not_rejected_is_refused(db) -> None:
    organisation = OrganisationFactory()
    from tests.factories import UserFactory

    work = submitted(batch_for(organisation), UserFactory())

    response = api_for(owner_of(work)).post(withdraw_url(work))

    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_rejected")
    work.refresh_from_db()
    assert work.status == Assignment.Status.SUBMITTED


def test_another_requester_cannot_withdraw_and_nothing_changes(work, case) -> None:
    stranger = OrganisationFactory().staff.get(role="owner").user

    response = api_for(stranger).post(withdraw_url(work))
    assert response.status_code == 404

    # Nor through the service directly: it checks its caller itself.
    from core.errors import NotFound
    from tasks import services as task_services

    with pytest.raises(NotFound):
        task_services.assignment_rejection_withdraw(actor=stranger, assignment=work)
    work.refresh_from_db()
    case.refresh_from_db()
    assert (work.status, case.state) == (Assignment.Status.DISPUTED, Case.State.AWAITING_RESPONSE)
    assert money(work) == RESERVED
