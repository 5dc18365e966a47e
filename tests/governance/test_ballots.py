"""Casting and changing ballots, and every refusal leaving nothing changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import AppError
from core.models import AuditEvent
from governance import services
from governance.models import Ballot, Proposal, VoterRollEntry
from tests.factories import MemberFactory
from tests.governance.factories import after_close, members, policy, rule_change, to_voting

pytestmark = pytest.mark.django_db

START = timezone.now() - timedelta(days=40)


def _state(proposal: Proposal) -> tuple[list[tuple[str | None, int | None, str]], list[tuple[int, bool]], int]:
    """Everything a ballot could change: ballots, roll marks, audit rows."""
    ballots = sorted(Ballot.objects.filter(proposal=proposal).values_list("receipt", "voter_id", "choice"), key=str)
    roll = sorted(VoterRollEntry.objects.filter(proposal=proposal).values_list("user_id", "voted"))
    return ballots, roll, AuditEvent.objects.count()


def _refused(code: str, call, proposal: Proposal) -> AppError:  # type: ignore[no-untyped-def]
    before = _state(proposal)
    with pytest.raises(AppError) as error:
        call()
    assert error.value.code == code, error.value.message
    assert _state(proposal) == before
    return error.value


def test_an_open_ballot_is_cast_and_changed_until_close() -> None:
    voter, other = members(2)
    proposal = to_voting(policy(voter, "operational"), START)
    receipt = services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="no", now=proposal.voting_opened_at)
    assert (receipt.secret, receipt.receipt, receipt.ballot_secret) == (False, None, None)
    services.ballot_change(proposal_id=proposal.pk, voter=voter, choice="yes", now=proposal.voting_opened_at)
    assert list(Ballot.objects.filter(proposal=proposal).values_list("voter_id", "choice")) == [(voter.pk, "yes")]
    assert VoterRollEntry.objects.get(proposal=proposal, user=voter).voted is True
    assert VoterRollEntry.objects.get(proposal=proposal, user=other).voted is False


def test_voting_twice_is_refused_and_changes_nothing() -> None:
    (voter,) = members(1)
    proposal = to_voting(policy(voter, "operational"), START)
    services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="no", now=proposal.voting_opened_at)
    error = _refused(
        "already_voted",
        lambda: services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes", now=proposal.voting_opened_at),
        proposal,
    )
    assert error.status_code == 409
    assert "change your ballot" in error.message
    assert Ballot.objects.get(proposal=proposal).choice == "no"


def test_a_member_not_on_the_roll_cannot_vote() -> None:
    (author,) = members(1)
    proposal = to_voting(policy(author, "operational"), START)
    latecomer = MemberFactory()  # joined after the roll was frozen
    error = _refused(
        "not_on_roll",
        lambda: services.ballot_cast(
            proposal_id=proposal.pk, voter=latecomer, choice="yes", now=proposal.voting_opened_at
        ),
        proposal,
    )
    assert error.status_code == 403


def test_voting_after_close_is_refused_even_before_the_job_runs() -> None:
    (voter,) = members(1)
    proposal = to_voting(policy(voter, "operational"), START)
    late = after_close(proposal)
    _refused(
        "voting_closed",
        lambda: services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes", now=late),
        proposal,
    )
    services.proposal_close(proposal_id=proposal.pk, now=late)
    _refused(
        "voting_closed",
        lambda: services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes"),
        proposal,
    )
    _refused(
        "voting_closed",
        lambda: services.ballot_change(proposal_id=proposal.pk, voter=voter, choice="yes"),
        proposal,
    )


def test_voting_before_voting_opens_is_refused() -> None:
    (voter,) = members(1)
    proposal = policy(voter, "operational")
    services.proposal_open_discussion(proposal=proposal, actor=voter, now=START)
    _refused(
        "voting_not_open",
        lambda: services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes"),
        proposal,
    )


def test_an_unknown_choice_is_refused() -> None:
    (voter,) = members(1)
    proposal = to_voting(policy(voter, "operational"), START)
    error = _refused(
        "invalid",
        lambda: services.ballot_cast(
            proposal_id=proposal.pk, voter=voter, choice="maybe", now=proposal.voting_opened_at
        ),
        proposal,
    )
    assert error.fields == {"choice": ["Choose yes, no or abstain."]}


def test_changing_before_voting_is_refused() -> None:
    (voter,) = members(1)
    proposal = to_voting(policy(voter, "operational"), START)
    _refused(
        "not_voted",
        lambda: services.ballot_change(
            proposal_id=proposal.pk, voter=voter, choice="yes", now=proposal.voting_opened_at
        ),
        proposal,
    )


def test_a_secret_ballot_stores_only_the_choice_and_a_receipt() -> None:
    voter, other = members(2)
    proposal = to_voting(rule_change(voter, "platform_fee_bps", 900), START)  # economic: secret
    cast = services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="no", now=proposal.voting_opened_at)
    assert cast.secret is True
    assert cast.ballot_secret is not None and len(cast.ballot_secret) >= 16
    assert cast.receipt == services.ballot_receipt(proposal_id=proposal.pk, ballot_secret=cast.ballot_secret)
    ballot = Ballot.objects.get(proposal=proposal)
    assert (ballot.voter_id, ballot.receipt, ballot.choice) == (None, cast.receipt, "no")
    # The audit row says that the member voted, not how.
    event = AuditEvent.objects.filter(action="ballot.cast").get()
    assert (event.actor_id, event.after) == (voter.pk, {"ballot": "secret"})

    changed = services.ballot_change(
        proposal_id=proposal.pk,
        voter=voter,
        choice="yes",
        ballot_secret=cast.ballot_secret,
        now=proposal.voting_opened_at,
    )
    assert changed.receipt == cast.receipt
    assert list(Ballot.objects.filter(proposal=proposal).values_list("receipt", "choice")) == [(cast.receipt, "yes")]

    # A member-chosen secret works the same way.
    own = services.ballot_cast(
        proposal_id=proposal.pk,
        voter=other,
        choice="abstain",
        ballot_secret="my own long ballot secret",
        now=proposal.voting_opened_at,
    )
    assert own.ballot_secret is None  # not echoed: the member already has it
    assert own.receipt == services.ballot_receipt(proposal_id=proposal.pk, ballot_secret="my own long ballot secret")


def test_changing_a_secret_ballot_needs_the_right_secret() -> None:
    (voter,) = members(1)
    proposal = to_voting(rule_change(voter, "platform_fee_bps", 900), START)
    services.ballot_cast(
        proposal_id=proposal.pk,
        voter=voter,
        choice="no",
        ballot_secret="the secret I wrote down",
        now=proposal.voting_opened_at,
    )
    for wrong in (None, "a secret I never used"):
        _refused(
            "ballot_secret_mismatch",
            lambda wrong=wrong: services.ballot_change(
                proposal_id=proposal.pk,
                voter=voter,
                choice="yes",
                ballot_secret=wrong,
                now=proposal.voting_opened_at,
            ),
            proposal,
        )
    assert Ballot.objects.get(proposal=proposal).choice == "no"


def test_a_secret_ballot_is_changed_only_by_its_own_voter() -> None:
    """Issue 19, point 10: knowing another member's ballot secret is not enough to change
    their ballot; the attempt is refused and changes nothing (ballots, roll, audit)."""
    voter, other = members(2)
    proposal = to_voting(rule_change(voter, "platform_fee_bps", 900), START)
    moment = proposal.voting_opened_at
    services.ballot_cast(
        proposal_id=proposal.pk, voter=voter, choice="no", ballot_secret="victim's secret!", now=moment
    )
    services.ballot_cast(proposal_id=proposal.pk, voter=other, choice="yes", now=moment)
    victims = Ballot.objects.get(
        proposal=proposal, receipt=services.ballot_receipt(proposal_id=proposal.pk, ballot_secret="victim's secret!")
    )

    error = _refused(
        "not_your_ballot",
        lambda: services.ballot_change(
            proposal_id=proposal.pk, voter=other, choice="yes", ballot_secret="victim's secret!", now=moment
        ),
        proposal,
    )
    assert error.status_code == 403
    victims.refresh_from_db()
    assert victims.choice == "no"
    # The binding links nothing without the secret: it is neither the voter's id nor the receipt.
    assert victims.voter_binding not in ("", str(voter.pk), victims.receipt)
    # The voter still changes their own ballot.
    services.ballot_change(
        proposal_id=proposal.pk, voter=voter, choice="abstain", ballot_secret="victim's secret!", now=moment
    )
    victims.refresh_from_db()
    assert victims.choice == "abstain"


def test_a_secret_ballot_is_changed_only_through_the_voters_own_sign_in() -> None:
    """Over the API the ballot belongs to the signed-in person: another member who sends
    the secret is refused, an organisation key is refused outright."""
    from rest_framework.test import APIClient

    voter, other = members(2)
    proposal = to_voting(rule_change(voter, "platform_fee_bps", 900), timezone.now() - timedelta(days=1))
    mine = APIClient()
    mine.force_authenticate(voter)
    cast = mine.post(f"/api/governance/proposals/{proposal.pk}/ballot/", {"choice": "no"}, format="json")
    assert cast.status_code == 201, cast.json()
    secret = cast.json()["ballot_secret"]

    theirs = APIClient()
    theirs.force_authenticate(other)
    assert (
        theirs.post(f"/api/governance/proposals/{proposal.pk}/ballot/", {"choice": "yes"}, format="json").status_code
        == 201
    )
    before = _state(proposal)
    attempt = theirs.put(
        f"/api/governance/proposals/{proposal.pk}/ballot/", {"choice": "yes", "ballot_secret": secret}, format="json"
    )
    assert attempt.status_code == 403 and attempt.json()["error"]["code"] == "not_your_ballot"
    assert _state(proposal) == before
