"""Double votes and a vote racing the close, with real threads on PostgreSQL."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import AppError
from governance import services
from governance.models import Ballot, VoterRollEntry
from tests.governance.factories import members, policy, rule_change, to_voting

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("founding_rules")]

THREADS = 8


def _race(calls: list[Callable[[], object]]) -> list[object]:
    """Runs the calls at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = calls[index]()
        except AppError as error:
            outcomes[index] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("rule_key", ["auto_approval_hours", "platform_fee_bps"])  # open, then secret ballots
def test_concurrent_double_votes_leave_exactly_one_ballot(rule_key: str) -> None:
    (voter,) = members(1)
    proposal = to_voting(
        rule_change(voter, rule_key, 48 if rule_key == "auto_approval_hours" else 900),
        timezone.now() - timedelta(days=7),
    )
    outcomes = _race(
        [lambda: services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice="yes") for _ in range(THREADS)]
    )
    assert sum(1 for o in outcomes if isinstance(o, services.BallotReceipt)) == 1
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["already_voted"] * (THREADS - 1)
    assert Ballot.objects.filter(proposal=proposal).count() == 1
    assert VoterRollEntry.objects.get(proposal=proposal, user=voter).voted is True


def test_many_members_voting_at_once_are_all_counted() -> None:
    voters = members(THREADS)
    proposal = to_voting(policy(voters[0], "operational"), timezone.now() - timedelta(days=3))
    outcomes = _race([lambda v=v: services.ballot_cast(proposal_id=proposal.pk, voter=v, choice="yes") for v in voters])
    assert all(isinstance(o, services.BallotReceipt) for o in outcomes)
    assert services.ballot_tally(proposal_id=proposal.pk).yes == THREADS


def test_a_ballot_racing_the_close_is_either_counted_or_refused() -> None:
    voters = members(THREADS)
    proposal = to_voting(policy(voters[0], "operational"), timezone.now() - timedelta(days=3))
    assert proposal.voting_closes_at is not None
    just_before = proposal.voting_closes_at - timedelta(microseconds=1)
    calls: list[Callable[[], object]] = [
        lambda v=v: services.ballot_cast(proposal_id=proposal.pk, voter=v, choice="yes", now=just_before)
        for v in voters
    ]
    calls.append(lambda: services.proposal_close(proposal_id=proposal.pk, now=proposal.voting_closes_at))
    outcomes = _race(calls)
    proposal.refresh_from_db()
    counted = sum(1 for o in outcomes[:-1] if isinstance(o, services.BallotReceipt))
    assert all(o == "voting_closed" for o in outcomes[:-1] if not isinstance(o, services.BallotReceipt))
    # Every ballot that was accepted is in the published count, and no other.
    assert proposal.yes_count == counted == Ballot.objects.filter(proposal=proposal).count()
