"""Suspensions state their reason, go through the same queue, and never touch earnings."""

import pytest
from rest_framework.test import APIClient

from accounts.reasons import SUSPENSION_REASONS
from core.errors import AppError
from disputes import jobs, services
from disputes.models import Case, Juror
from ledger import accounts
from ledger.selectors import balance
from tests.disputes.factories import approve, batch_for, jurors, submitted
from tests.factories import OrganisationFactory, UserFactory, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return staff_member("moderator")


@pytest.fixture
def earner():
    """A worker with 1000 in earnings from approved work."""
    worker = UserFactory()
    approve(submitted(batch_for(OrganisationFactory()), worker))
    return worker


@pytest.fixture
def suspended(earner, staff):
    return services.user_suspend(
        user=earner, actor=staff, code="fraudulent_work", reason="Answers copied from another worker."
    )


def earnings(user) -> int:
    return balance(accounts.worker_earnings(user)).posted


def test_only_co_op_staff_suspend(earner):
    with pytest.raises(AppError) as refused:
        services.user_suspend(user=earner, actor=UserFactory(), code="harassment", reason="I do not like them.")
    assert refused.value.code == "permission_denied"
    earner.refresh_from_db()
    assert earner.suspended_at is None


def test_a_suspended_worker_reads_the_reason_and_keeps_their_earnings(suspended):
    client = APIClient()
    client.force_authenticate(suspended)
    me = client.get("/api/me/").json()
    assert (me["suspended"], me["suspension_reason"]) == (
        True,
        SUSPENSION_REASONS["fraudulent_work"] + " Answers copied from another worker.",
    )
    suspended.refresh_from_db()
    assert suspended.is_active and earnings(suspended) == 1000


def test_the_suspender_accepting_the_appeal_lifts_the_suspension(suspended, staff):
    client = APIClient()
    client.force_authenticate(suspended)
    response = client.post("/api/disputes/suspension-appeal/", {"statement": "I worked alone."}, format="json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert (case.kind, case.respondent_id, case.state) == ("suspension", staff.pk, "awaiting_response")
    assert staff.has_perm("disputes.view_case", case)

    services.case_respond(case=case, actor=staff, action="accept")

    suspended.refresh_from_db()
    assert suspended.suspended_at is None and suspended.suspension_reason == ""
    assert earnings(suspended) == 1000


def test_silence_on_an_appeal_lifts_the_suspension(suspended, clock):
    services.suspension_appeal_open(worker=suspended, statement="I worked alone.")
    clock.advance(hours=72, seconds=1)
    jobs.run_deadlines.delay()
    suspended.refresh_from_db()
    assert not suspended.is_suspended


def test_a_panel_without_staff_may_uphold_a_suspension(suspended, staff, clock):
    other_staff = jurors(1)[0]
    other_staff.is_staff = True
    other_staff.save(update_fields=["is_staff"])
    jurors(3)
    case = services.suspension_appeal_open(worker=suspended, statement="I worked alone.")
    with pytest.raises(AppError) as refused:
        services.case_respond(case=case, actor=staff, action="offer", share_bps=5000)
    assert refused.value.code == "offer_not_available"
    services.case_respond(case=case, actor=staff, action="contest", text="Identical answers, same minute.")
    seated = list(Juror.objects.filter(case=case))
    assert other_staff.pk not in {j.user_id for j in seated} and len(seated) == 3
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    with pytest.raises(AppError) as refused:
        services.case_vote(case=case, juror_user=seated[0].user, share_bps=5000, reason="Half.")
    assert refused.value.code == "invalid"
    for juror in seated:
        services.case_vote(case=case, juror_user=juror.user, share_bps=0, reason="The logs are clear.")
    clock.advance(hours=73)
    jobs.run_deadlines.delay()

    case.refresh_from_db()
    suspended.refresh_from_db()
    assert (case.state, case.outcome) == ("closed", "uphold")
    assert suspended.is_suspended and earnings(suspended) == 1000


def test_appeal_refusals(suspended, earner):
    services.suspension_appeal_open(worker=suspended, statement="First.")
    with pytest.raises(AppError) as refused:
        services.suspension_appeal_open(worker=suspended, statement="Second.")
    assert refused.value.code == "already_appealed"
    with pytest.raises(AppError) as refused:
        services.suspension_appeal_open(worker=UserFactory(), statement="Me?")
    assert refused.value.code == "not_suspended"
    assert Case.objects.count() == 1
