"""Sandbox batches through the services (issue 24.6): publishing, approvals, bonuses and
rejections write no ledger row; real statements, reputation, approval rates, the feed and
disputes never see them."""

from datetime import date

import pytest

from accounts.services import organisation_staff_add
from core.errors import AppError
from disputes.services import dispute_open
from ledger.models import Transfer
from payments.statements import organisation_statement
from payouts.selectors import worker_statement
from tasks import selectors, services
from tasks.models import Batch
from tests.factories import UserFactory
from tests.tasks.factories import available, make_batch

pytestmark = pytest.mark.django_db


def test_sandbox_work_moves_no_money_and_stays_out_of_real_records(organisation) -> None:
    owner = organisation.staff.get(role="owner").user
    tester = UserFactory()
    organisation_staff_add(organisation=organisation, user=tester, actor=owner)
    transfers = Transfer.objects.count()
    batch = make_batch(organisation, sandbox=True, assignments_per_task=1)
    batch = services.batch_publish(batch=batch, actor=owner)  # unfunded: play money needs none
    assert batch.status == Batch.Status.PUBLISHED and available(organisation) == 0

    first = services.assignment_accept(worker=tester, batch=batch)
    services.assignment_submit(worker=tester, assignment=first, answers={"answer": "yes"})
    approved = services.assignment_approve(actor=owner, assignment=first)
    services.assignment_bonus(actor=owner, assignment=approved, amount=30, reason="Thanks")
    second = services.assignment_accept(worker=tester, batch=batch)
    services.assignment_submit(worker=tester, assignment=second, answers={"answer": "no"})
    services.assignment_reject(actor=owner, assignment=second, reason="incomplete", text="Wrong on purpose.")
    with pytest.raises(AppError) as refused:
        dispute_open(worker=tester, assignment_id=second.pk, statement="It was right.")
    assert refused.value.code == "sandbox"

    assert Transfer.objects.count() == transfers
    statement = organisation_statement(organisation=organisation, month=date.today())
    assert set(statement.summary.values()) == {0}
    assert worker_statement(user=tester).lines == []
    assert selectors.worker_approval_rate(worker=tester).approved_all_time == 0
    reputation = selectors.requester_reputation(organisation=organisation)
    assert reputation["approval_rate_bps"] is None and reputation["measured_pay_sample"] == 0
    assert batch.pk not in {b.pk for b in selectors.live_market()}


def test_a_sandbox_batch_is_never_in_the_feed(organisation) -> None:
    owner = organisation.staff.get(role="owner").user
    batch = services.batch_publish(batch=make_batch(organisation, sandbox=True), actor=owner)
    assert batch.status == Batch.Status.PUBLISHED
    assert batch.pk not in {b.pk for b in selectors.live_market()}
