"""The effect is real: a minimum wage raised by vote binds batch publishing from
its effective time, and batches published before keep the terms they had."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import AppError
from governance import jobs
from governance import services as governance
from governance.models import Proposal, RuleVersion
from tasks import services as marketplace
from tasks.models import Batch
from tests.governance.factories import members, rule_change
from tests.ledger.factories import fund
from tests.tasks.factories import available, make_batch, published_batch, slot_cost

pytestmark = pytest.mark.django_db


def test_a_wage_floor_adopted_by_vote_refuses_cheaper_batches_only_from_its_effective_time(
    organisation, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    voters = members(3)
    clock = [timezone.now()]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    start = clock[0]
    founding = RuleVersion.objects.get(rule__key="minimum_hourly_wage")

    proposal = rule_change(voters[0], "minimum_hourly_wage", 1800)  # 12.00/h -> 18.00/h
    governance.proposal_open_discussion(proposal=proposal, actor=voters[0])
    clock[0] = start + timedelta(days=7)
    jobs.open_due_votes()
    for voter in voters:
        governance.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes")
    clock[0] = start + timedelta(days=14)
    jobs.close_due_votes()
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.SCHEDULED
    assert proposal.effective_at == start + timedelta(days=28)

    # A minute before the effective time: 0.50 for 2 minutes (15.00/h) is above the old floor.
    clock[0] = proposal.effective_at - timedelta(minutes=1)
    earlier = published_batch(organisation)
    assert earlier.rule_versions["minimum_hourly_wage"] == {"version_id": founding.pk, "value": 1200}

    clock[0] = proposal.effective_at
    assert jobs.activate_due_proposals() == 1
    new_version = RuleVersion.objects.get(adopted_by_proposal=proposal)

    # The same terms are now under the floor: refused, nothing reserved.
    cheap = make_batch(organisation)
    fund(organisation, 4 * slot_cost(cheap))
    funds = available(organisation)
    with pytest.raises(AppError) as error:
        marketplace.batch_publish(batch=cheap, actor=organisation.staff.get(role="owner").user)
    assert error.value.code == "below_minimum_wage"
    assert "18.00" in error.value.message
    cheap.refresh_from_db()
    assert (cheap.status, cheap.rule_versions, cheap.assignments.count()) == ("draft", {}, 0)
    assert available(organisation) == funds

    # Paying the new floor publishes, under the new version.
    fair = published_batch(organisation, reward=60)  # 0.60 for 2 minutes = 18.00/h
    assert fair.rule_versions["minimum_hourly_wage"] == {"version_id": new_version.pk, "value": 1800}

    # The batch published before keeps its terms.
    earlier = Batch.objects.get(pk=earlier.pk)
    assert (earlier.status, earlier.reward) == ("published", 50)
    assert earlier.rule_versions["minimum_hourly_wage"] == {"version_id": founding.pk, "value": 1200}
