"""The whole lifecycle, driven by the jobs with time moved forward, and its real effect."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from governance import jobs, services
from governance.models import Proposal, RuleClass, RuleVersion, VoterRollEntry
from governance.selectors import rule_in_force, rule_value
from tests.factories import MemberFactory, UserFactory
from tests.governance.factories import members, rule_change

pytestmark = pytest.mark.django_db


def test_a_higher_minimum_wage_adopted_by_vote_takes_effect_after_the_notice_period() -> None:
    voters = members(5)
    start = timezone.now()
    proposal = rule_change(voters[0], "minimum_hourly_wage", 1500)
    services.proposal_open_discussion(proposal=proposal, actor=voters[0], now=start)

    # Before the discussion period ends the job leaves it alone.
    assert jobs.open_due_votes(now=(start + timedelta(days=6)).isoformat()) == 0
    opened_at = start + timedelta(days=7)  # economic: 7 days of discussion
    assert jobs.open_due_votes(now=opened_at.isoformat()) == 1
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.VOTING
    assert proposal.roll_size == 5
    assert proposal.secret_ballot is True  # the economic class votes in secret

    for voter, choice in zip(voters, ["yes", "yes", "yes", "no", "abstain"], strict=True):
        services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice=choice, now=opened_at + timedelta(hours=1))

    closes_at = opened_at + timedelta(days=7)
    assert jobs.close_due_votes(now=(closes_at - timedelta(seconds=1)).isoformat()) == 0
    assert jobs.close_due_votes(now=closes_at.isoformat()) == 1
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.SCHEDULED
    assert (proposal.yes_count, proposal.no_count, proposal.abstain_count, proposal.quorum_met) == (3, 1, 1, True)
    effective_at = closes_at + timedelta(days=14)  # economic: 14 days' notice
    assert proposal.effective_at == effective_at

    version = RuleVersion.objects.get(adopted_by_proposal=proposal)
    assert (version.rule.key, version.value, version.effective_at) == ("minimum_hourly_wage", 1500, effective_at)
    # The selector answers by time: the old floor until the effective time, the new one from it.
    assert rule_value("minimum_hourly_wage", at=effective_at - timedelta(microseconds=1)) == 1200
    assert rule_value("minimum_hourly_wage", at=effective_at) == 1500
    assert rule_value("minimum_hourly_wage") == 1200  # now is before the effective time
    assert rule_in_force("minimum_hourly_wage", at=effective_at).version_id == version.pk

    # The registry shows the adopted value as scheduled, with the proposal that adopted it.
    api = APIClient()
    api.force_authenticate(voters[0])
    history = api.get("/api/governance/rules/minimum_hourly_wage/").json()
    assert history["value"] == 1200
    assert [(v["value"], v["status"], v["adopted_by_proposal"]) for v in history["versions"]] == [
        (1200, "in_force", None),
        (1500, "scheduled", proposal.pk),
    ]

    assert jobs.activate_due_proposals(now=(effective_at - timedelta(seconds=1)).isoformat()) == 0
    assert jobs.activate_due_proposals(now=effective_at.isoformat()) == 1
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.IN_EFFECT
    # Running the jobs again changes nothing.
    assert jobs.close_due_votes(now=effective_at.isoformat()) == 0
    assert jobs.activate_due_proposals(now=effective_at.isoformat()) == 0
    assert RuleVersion.objects.filter(rule__key="minimum_hourly_wage").count() == 2

    actions = list(
        AuditEvent.objects.filter(target_type="governance.proposal", target_id=str(proposal.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "proposal.created",
        "proposal.discussion_opened",
        "proposal.voting_opened",
        *["ballot.cast"] * 5,
        "proposal.adopted",
        "proposal.scheduled",
        "proposal.in_effect",
    ]


def test_the_cache_serves_the_new_value_once_in_force() -> None:
    voters = members(3)
    proposal = rule_change(voters[0], "jury_size", 5)
    start = timezone.now() - timedelta(days=60)
    services.proposal_open_discussion(proposal=proposal, actor=voters[0], now=start)
    services.proposal_open_voting(proposal_id=proposal.pk, now=start + timedelta(days=7))
    assert rule_value("jury_size") == 3  # cached now
    proposal.refresh_from_db()
    for voter in voters:
        services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes", now=proposal.voting_opened_at)
    services.proposal_close(proposal_id=proposal.pk, now=proposal.voting_closes_at)
    services.proposal_schedule(proposal_id=proposal.pk)
    # Closed 46 days ago, 7 days' notice: in force now, and the cache entry was dropped.
    assert rule_value("jury_size") == 5


def test_the_roll_is_frozen_when_voting_opens_and_follows_the_tenure_rule() -> None:
    veteran = MemberFactory()
    settled = MemberFactory(membership__joined_at=timezone.now() - timedelta(days=10))
    newcomer = MemberFactory(membership__joined_at=timezone.now() - timedelta(days=2))
    left = MemberFactory()
    left.membership.status = "left"
    left.membership.save()
    non_member = UserFactory()
    # Seven days' tenure, adopted the only way a rule changes: by a vote.
    tenure = rule_change(veteran, "voter_min_tenure_days", 7)
    start = timezone.now() - timedelta(days=100)
    services.proposal_open_discussion(proposal=tenure, actor=veteran, now=start)
    tenure = services.proposal_open_voting(proposal_id=tenure.pk, now=start + timedelta(days=14))
    assert tenure.roll_size == 1  # 86 days ago only the veteran was a member
    services.ballot_cast(proposal_id=tenure.pk, voter=veteran, choice="yes", now=tenure.voting_opened_at)
    services.proposal_close(proposal_id=tenure.pk, now=tenure.voting_closes_at)
    services.proposal_schedule(proposal_id=tenure.pk)
    assert rule_value("voter_min_tenure_days") == 7

    proposal = rule_change(veteran, "jury_size", 4)
    services.proposal_open_discussion(proposal=proposal, actor=veteran, now=timezone.now() - timedelta(days=7))
    voting = services.proposal_open_voting(proposal_id=proposal.pk)
    on_roll = set(VoterRollEntry.objects.filter(proposal=voting).values_list("user_id", flat=True))
    assert on_roll == {veteran.pk, settled.pk}
    assert voting.roll_size == 2
    assert not {newcomer.pk, left.pk, non_member.pk} & on_roll
    # Joining after voting opened does not put anyone on this roll.
    late = MemberFactory()
    assert not VoterRollEntry.objects.filter(proposal=voting, user=late).exists()
    assert VoterRollEntry.objects.filter(proposal=voting).count() == 2


def test_a_bylaw_amending_a_class_needs_the_bylaws_class_and_changes_it_when_in_effect() -> None:
    voters = members(3)
    proposal = services.proposal_create(
        author=voters[0],
        kind=Proposal.Kind.BYLAW,
        title="Operational rules need a larger quorum",
        body="Ten percent is too few for rules that shape everyone's work.",
        target_class_key="operational",
        class_parameters={"quorum_bps": 2500, "secret_ballot": True},
    )
    assert proposal.rule_class.key == "bylaws"
    start = timezone.now() - timedelta(days=60)
    services.proposal_open_discussion(proposal=proposal, actor=voters[0], now=start)
    proposal = services.proposal_open_voting(proposal_id=proposal.pk, now=start + timedelta(days=14))
    assert (proposal.threshold_numerator, proposal.threshold_denominator, proposal.threshold_inclusive) == (2, 3, True)
    for voter in voters:
        services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes", now=proposal.voting_opened_at)
    jobs.close_due_votes(now=proposal.voting_closes_at.isoformat())
    proposal.refresh_from_db()
    assert proposal.effective_at == proposal.closed_at + timedelta(days=30)
    operational = RuleClass.objects.get(key="operational")
    assert (operational.quorum_bps, operational.secret_ballot) == (1000, False)  # not before it takes effect
    jobs.activate_due_proposals(now=proposal.effective_at.isoformat())
    operational.refresh_from_db()
    assert (operational.quorum_bps, operational.secret_ballot) == (2500, True)
    assert AuditEvent.objects.filter(action="rule_class.amended", target_id=str(operational.pk)).count() == 1


def test_failed_quorum_and_rejection_schedule_nothing() -> None:
    voters = members(10)
    proposal = rule_change(voters[0], "auto_approval_hours", 48)  # operational: 10% quorum, open ballot
    start = timezone.now() - timedelta(days=30)
    services.proposal_open_discussion(proposal=proposal, actor=voters[0], now=start)
    proposal = services.proposal_open_voting(proposal_id=proposal.pk, now=start + timedelta(days=3))
    jobs.close_due_votes(now=proposal.voting_closes_at.isoformat())
    proposal.refresh_from_db()
    assert (proposal.state, proposal.quorum_met, proposal.roll_size) == ("failed_quorum", False, 10)
    assert not RuleVersion.objects.filter(adopted_by_proposal=proposal).exists()
    assert rule_value("auto_approval_hours") == 72
