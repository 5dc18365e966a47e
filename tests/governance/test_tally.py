"""Quorum and pass thresholds per rule class, at and around their edges, through a real close."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance import services
from governance.models import Proposal, RuleClass
from tests.governance.factories import after_close, members, policy, rule_change, to_voting, vote

pytestmark = pytest.mark.django_db

START = timezone.now() - timedelta(days=40)


def _close(proposal: Proposal) -> Proposal:
    return services.proposal_close(proposal_id=proposal.pk, now=after_close(proposal))


@pytest.mark.parametrize(
    ("yes", "no", "abstain", "expected"),
    [
        (2, 2, 0, "rejected"),  # exactly at one half: the economic class needs more than half
        (3, 2, 0, "adopted"),
        (3, 3, 4, "rejected"),  # abstentions count for quorum, not for the majority
        (1, 0, 9, "adopted"),
    ],
)
def test_economic_class_needs_more_than_half(yes: int, no: int, abstain: int, expected: str) -> None:
    voters = members(yes + no + abstain)
    proposal = to_voting(rule_change(voters[0], "platform_fee_bps", 800), START)
    vote(proposal, voters[:yes], "yes")
    vote(proposal, voters[yes : yes + no], "no")
    vote(proposal, voters[yes + no :], "abstain")
    proposal = _close(proposal)
    assert proposal.state == expected
    assert (proposal.yes_count, proposal.no_count, proposal.abstain_count) == (yes, no, abstain)


@pytest.mark.parametrize(
    ("yes", "no", "expected"),
    [
        (2, 1, "adopted"),  # exactly two thirds passes
        (4, 2, "adopted"),
        (1, 1, "rejected"),
        (3, 2, "rejected"),  # 60%: one vote under two thirds
        (5, 3, "rejected"),  # 62.5%
        (6, 3, "adopted"),
    ],
)
def test_bylaws_need_two_thirds(yes: int, no: int, expected: str) -> None:
    voters = members(yes + no)
    proposal = to_voting(rule_change(voters[0], "voter_activity_days", 365), START)
    assert proposal.rule_class.key == "bylaws"
    vote(proposal, voters[:yes], "yes")
    vote(proposal, voters[yes:], "no")
    assert _close(proposal).state == expected


@pytest.mark.parametrize(("ballots", "expected"), [(10, "adopted"), (9, "failed_quorum")])
def test_operational_quorum_of_ten_percent_exactly_and_one_under(ballots: int, expected: str) -> None:
    voters = members(100)
    proposal = to_voting(policy(voters[0], "operational"), START)
    assert proposal.roll_size == 100
    vote(proposal, voters[:1], "yes")
    vote(proposal, voters[1:ballots], "abstain")
    proposal = _close(proposal)
    assert proposal.state == expected
    assert proposal.quorum_met is (expected == "adopted")
    assert proposal.turnout == ballots


@pytest.mark.parametrize(("ballots", "expected"), [(3, "adopted"), (2, "failed_quorum")])
def test_bylaws_quorum_of_thirty_percent(ballots: int, expected: str) -> None:
    voters = members(10)
    proposal = to_voting(rule_change(voters[0], "voter_activity_days", 30), START)
    vote(proposal, voters[:ballots], "yes")
    assert _close(proposal).state == expected


@pytest.mark.parametrize(("ballots", "expected"), [(3, "adopted"), (2, "failed_quorum")])
def test_dispute_procedure_quorum_of_fifteen_percent(ballots: int, expected: str) -> None:
    voters = members(20)
    proposal = to_voting(rule_change(voters[0], "jury_size", 5), START)
    vote(proposal, voters[:ballots], "yes")
    assert _close(proposal).state == expected


def test_no_decisive_ballot_passes_nothing() -> None:
    voters = members(4)
    proposal = to_voting(policy(voters[0]), START)
    vote(proposal, voters, "abstain")
    proposal = _close(proposal)
    assert (proposal.state, proposal.quorum_met) == ("rejected", True)


def test_an_empty_roll_fails_nothing_silently() -> None:
    author = members(1)[0]
    proposal = policy(author)
    services.proposal_open_discussion(proposal=proposal, actor=author, now=START)
    author.membership.status = "left"
    author.membership.save()
    proposal = services.proposal_open_voting(proposal_id=proposal.pk, now=START + timedelta(days=3))
    assert proposal.roll_size == 0
    assert _close(proposal).state == Proposal.State.REJECTED


@pytest.mark.parametrize(
    ("yes", "no", "numerator", "denominator", "inclusive", "passes"),
    [
        (2, 1, 2, 3, True, True),
        (2, 1, 2, 3, False, False),
        (1, 1, 1, 2, False, False),
        (1, 1, 1, 2, True, True),
        (0, 0, 1, 2, True, False),
        (66_666, 33_334, 2, 3, True, False),
        (66_667, 33_333, 2, 3, True, True),
    ],
)
def test_threshold_arithmetic(
    yes: int, no: int, numerator: int, denominator: int, inclusive: bool, passes: bool
) -> None:
    assert (
        services.threshold_met(yes=yes, no=no, numerator=numerator, denominator=denominator, inclusive=inclusive)
        is passes
    )


def test_class_parameters_are_frozen_when_voting_opens() -> None:
    voters = members(10)
    proposal = to_voting(policy(voters[0], "operational"), START)
    # A class amended while a vote runs does not change that vote's quorum.
    RuleClass.objects.filter(key="operational").update(quorum_bps=9000)
    vote(proposal, voters[:1], "yes")
    assert _close(proposal).state == Proposal.State.ADOPTED
