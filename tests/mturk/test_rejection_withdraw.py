"""MTurk's ApproveAssignment with OverrideRejection on work whose worker opened a real
dispute case: the case is resolved (not left awaiting the requester's answer) and the
deadline job has nothing left to warn about (issue 18, point 7)."""

import logging
from datetime import timedelta

from django.utils import timezone

from disputes import jobs as dispute_jobs
from disputes import services as dispute_services
from disputes.models import Case, CaseItem
from ledger import accounts
from ledger.escrow import balance
from tasks.models import Assignment
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import SLOT_COST
from tests.mturk.test_assignments import submitted

pytestmark = [live]


def test_override_rejection_resolves_the_open_case(mturk, organisation, worker, monkeypatch, caplog) -> None:
    fund(organisation, 1_000)
    _, slot, assignment_id = submitted(mturk, worker)
    mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="[incomplete] The comment is missing.")
    case = dispute_services.dispute_open(worker=worker, assignment_id=slot.pk, statement="The comment is there.")
    assert case.state == Case.State.AWAITING_RESPONSE

    mturk.approve_assignment(AssignmentId=assignment_id, OverrideRejection=True)

    slot.refresh_from_db()
    case.refresh_from_db()
    assert (slot.status, slot.settled_share_bps) == (Assignment.Status.SETTLED, 10_000)
    assert (case.state, case.outcome, case.resolution) == (
        Case.State.CLOSED,
        Case.Outcome.PAY_FULL,
        Case.Resolution.REQUESTER_ACCEPTED,
    )
    assert list(case.items.values_list("state", flat=True)) == [CaseItem.State.EXECUTED]
    assert balance(accounts.worker_earnings(worker)).posted == 50
    assert SLOT_COST > 50

    # Past every deadline the job finds nothing to do and logs no warning.
    later = timezone.now() + timedelta(days=30)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with caplog.at_level(logging.WARNING, logger="disputes.jobs"):
        assert dispute_jobs.run_deadlines() == {}
    assert [r.getMessage() for r in caplog.records if r.name.startswith("disputes")] == []
    assert balance(accounts.worker_earnings(worker)).posted == 50


def test_a_bonus_needs_the_review_permission_as_in_the_api(mturk, organisation, worker) -> None:
    # The permission rule (docs/contracts.md): access is asked with the permission the act
    # needs. SendBonus once asked only to view the batch.
    import pytest
    from botocore.exceptions import ClientError
    from guardian.shortcuts import remove_perm

    from tasks.models import Bonus

    fund(organisation, 1_000)
    hit, _, assignment_id = submitted(mturk, worker)
    remove_perm("tasks.review_batch", organisation.staff_group, hit.batch)

    with pytest.raises(ClientError):
        mturk.send_bonus(
            WorkerId=worker.pseudonym,
            BonusAmount="1.25",
            AssignmentId=assignment_id,
            Reason="Great.",
            UniqueRequestToken="b",
        )
    assert Bonus.objects.count() == 0
    assert balance(accounts.worker_earnings(worker)).posted == 0
