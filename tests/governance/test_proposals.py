"""Making, editing and withdrawing proposals, and discussion threads."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import AppError
from core.models import AuditEvent
from governance import services
from governance.models import Comment, Proposal, VoterRollEntry
from tests.factories import UserFactory
from tests.governance.factories import members, policy, rule_change, to_voting

pytestmark = pytest.mark.django_db

START = timezone.now() - timedelta(days=40)


def _snapshot(proposal: Proposal) -> tuple[object, ...]:
    fresh = Proposal.objects.get(pk=proposal.pk)
    return (
        fresh.state,
        fresh.title,
        fresh.body,
        fresh.proposed_value,
        fresh.class_parameters,
        AuditEvent.objects.count(),
    )


def test_a_rule_change_is_governed_by_the_rules_class() -> None:
    (author,) = members(1)
    proposal = rule_change(author, "contest_window_days", 14)
    assert (proposal.state, proposal.rule_class.key, proposal.rule.key, proposal.proposed_value) == (
        "draft",
        "dispute_procedure",
        "contest_window_days",
        14,
    )


@pytest.mark.parametrize("value", [-1, 100_001])
def test_a_value_outside_the_rules_limits_is_refused(value: int) -> None:
    (author,) = members(1)
    count = Proposal.objects.count()
    with pytest.raises(AppError) as error:
        rule_change(author, "minimum_hourly_wage", value)
    assert error.value.code == "value_out_of_limits"
    assert "between 0.00 EUR an hour and 1000.00 EUR an hour" in error.value.message  # the unit, never minor units
    assert error.value.fields["proposed_value"]
    assert Proposal.objects.count() == count


def test_editing_to_a_value_outside_the_limits_is_refused() -> None:
    (author,) = members(1)
    proposal = rule_change(author, "jury_size", 5)
    before = _snapshot(proposal)
    with pytest.raises(AppError) as error:
        services.proposal_update(proposal=proposal, actor=author, proposed_value=16)
    assert error.value.code == "value_out_of_limits"
    assert _snapshot(proposal) == before


def test_non_members_cannot_propose_or_comment() -> None:
    outsider = UserFactory()
    count = Proposal.objects.count()
    with pytest.raises(AppError) as error:
        rule_change(outsider, "jury_size", 5)
    assert (error.value.code, error.value.status_code) == ("not_a_member", 403)
    assert Proposal.objects.count() == count
    (author,) = members(1)
    proposal = to_voting(policy(author), START)
    with pytest.raises(AppError) as error:
        services.comment_add(proposal=proposal, author=outsider, body="hello")
    assert error.value.code == "not_a_member"
    assert not Comment.objects.exists()


def test_the_author_edits_during_discussion_but_not_after_voting_opens() -> None:
    (author,) = members(1)
    proposal = rule_change(author, "jury_size", 5)
    services.proposal_open_discussion(proposal=proposal, actor=author, now=START)
    services.proposal_update(proposal=proposal, actor=author, proposed_value=7, title="Seven jurors")
    proposal.refresh_from_db()
    assert (proposal.proposed_value, proposal.title) == (7, "Seven jurors")
    services.proposal_open_voting(proposal_id=proposal.pk, now=START + timedelta(days=7))
    before = _snapshot(proposal)
    with pytest.raises(AppError) as error:
        services.proposal_update(proposal=proposal, actor=author, proposed_value=9)
    assert (error.value.code, error.value.status_code) == ("invalid_state", 409)
    assert "Voting" in error.value.message and error.value.details["state"] == "voting"
    assert _snapshot(proposal) == before


def test_only_the_author_edits() -> None:
    author, other = members(2)
    proposal = rule_change(author, "jury_size", 5)
    before = _snapshot(proposal)
    with pytest.raises(AppError) as error:
        services.proposal_update(proposal=proposal, actor=other, title="Mine now")
    assert error.value.code == "permission_denied"
    assert _snapshot(proposal) == before


def test_voting_does_not_open_before_the_discussion_period_ends() -> None:
    (author,) = members(1)
    proposal = rule_change(author, "jury_size", 5)
    services.proposal_open_discussion(proposal=proposal, actor=author, now=START)
    before = _snapshot(proposal)
    with pytest.raises(AppError) as error:
        services.proposal_open_voting(proposal_id=proposal.pk, now=START + timedelta(days=6))
    assert error.value.code == "discussion_not_over"
    assert _snapshot(proposal) == before
    assert not VoterRollEntry.objects.filter(proposal=proposal).exists()


def test_withdrawing_before_voting_and_not_after() -> None:
    (author,) = members(1)
    draft = policy(author)
    assert services.proposal_withdraw(proposal=draft, actor=author).state == Proposal.State.WITHDRAWN
    voting = to_voting(policy(author), START)
    before = _snapshot(voting)
    with pytest.raises(AppError) as error:
        services.proposal_withdraw(proposal=voting, actor=author)
    assert error.value.code == "invalid_state"
    assert _snapshot(voting) == before


def test_bylaw_class_parameters_are_checked() -> None:
    (author,) = members(1)
    count = Proposal.objects.count()
    for parameters, code in [
        ({"quorum_bps": 10_001}, "value_out_of_limits"),
        ({"threshold_numerator": 4, "threshold_denominator": 3}, "value_out_of_limits"),
        ({"colour": "red"}, "invalid"),
        ({"secret_ballot": "yes"}, "invalid"),
    ]:
        with pytest.raises(AppError) as error:
            services.proposal_create(
                author=author,
                kind="bylaw",
                title="Change a class",
                body="Why not.",
                target_class_key="economic",
                class_parameters=parameters,
            )
        assert error.value.code == code, parameters
    assert Proposal.objects.count() == count


def test_comments_form_threads_during_discussion_only() -> None:
    author, other = members(2)
    proposal = policy(author)
    with pytest.raises(AppError) as error:
        services.comment_add(proposal=proposal, author=author, body="Too early")
    assert error.value.code == "discussion_closed"
    services.proposal_open_discussion(proposal=proposal, actor=author, now=START)
    first = services.comment_add(proposal=proposal, author=other, body="Why this wording?")
    reply = services.comment_add(proposal=proposal, author=author, body="It follows the bylaws.", parent_id=first.pk)
    assert reply.parent_id == first.pk
    elsewhere = policy(author)
    services.proposal_open_discussion(proposal=elsewhere, actor=author, now=START)
    with pytest.raises(AppError) as error:
        services.comment_add(proposal=elsewhere, author=author, body="Cross-thread", parent_id=first.pk)
    assert error.value.code == "invalid"
    assert Comment.objects.filter(proposal=elsewhere).count() == 0
