"""The governance timers survive a crash at every write of their steps (issue 29): after
the crash and the next tick, every due proposal has moved exactly once, its voter roll is
frozen once, an adopted rule change appends exactly one rule version, and nothing else
changed.

Each fault point starts from the same moments (the jobs take ``now``); the members of an
earlier point leave the co-op first, so every roll holds only the point's own voters."""

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership, User
from core.models import AuditEvent, JobItemFailure
from governance import jobs, services, states
from governance.models import Proposal, RuleVersion, VoterRollEntry
from tests.faults import every_write
from tests.governance.factories import members, policy, rule_change, vote

pytestmark = pytest.mark.django_db

ITEM_WRITES = {"only": lambda sql: "core_job" not in sql}
START = timezone.now() - timedelta(days=30)


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Moves the runner's clock (its retry delays), not the proposals' moments."""
    real_now = timezone.now
    moved = Clock()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + moved.offset)
    yield moved


def retry_after(clock: Clock, job, moment: datetime) -> None:  # type: ignore[no-untyped-def]
    clock.offset += timedelta(hours=2)  # past the runner's retry delay
    job.delay(now=moment.isoformat()).get()


def fresh_voters(count: int) -> list[User]:
    Membership.objects.filter(status=Membership.Status.ACTIVE).update(status=Membership.Status.LEFT)
    return members(count)


def in_discussion(author: User) -> list[Proposal]:
    proposals = [policy(author), rule_change(author, "minimum_hourly_wage", 1300)]
    for proposal in proposals:
        services.proposal_open_discussion(proposal=proposal, actor=author, now=START)
    return proposals


def voting(voters: list[User]) -> list[Proposal]:
    proposals = in_discussion(voters[0])
    opened = [services.proposal_open_voting(proposal_id=p.pk, now=p.discussion_ends_at) for p in proposals]
    for proposal in opened:
        vote(proposal, voters, "yes")
    return opened


def latest(proposals: list[Proposal], field: str) -> datetime:
    """The moment by which every proposal's ``field`` has passed (each class has its own periods)."""
    return max(getattr(Proposal.objects.get(pk=p.pk), field) for p in proposals) + timedelta(seconds=1)


def actions(proposals: list[Proposal]) -> Counter[tuple[str, str]]:
    rows = AuditEvent.objects.filter(target_type="governance.proposal", target_id__in=[str(p.pk) for p in proposals])
    return Counter((target_id, action) for target_id, action in rows.values_list("target_id", "action"))


def test_votes_open_once_with_one_roll_whatever_write_fails(clock: Clock) -> None:
    moment: dict[str, datetime] = {}

    def setup() -> tuple[list[Proposal], list[User]]:
        voters = fresh_voters(3)
        proposals = in_discussion(voters[0])
        moment["opens"] = latest(proposals, "discussion_ends_at")
        return proposals, voters

    def check(items: tuple[list[Proposal], list[User]]) -> None:
        proposals, voters = items
        assert actions(proposals) == Counter(
            {
                (str(p.pk), action): 1
                for p in proposals
                for action in ("proposal.created", "proposal.discussion_opened", "proposal.voting_opened")
            }
        )
        for proposal in Proposal.objects.filter(pk__in=[p.pk for p in proposals]):
            assert (proposal.state, proposal.roll_size) == (states.VOTING, 3)
            rolled = VoterRollEntry.objects.filter(proposal=proposal).values_list("user_id", flat=True)
            assert sorted(rolled) == sorted(v.pk for v in voters)
        assert not JobItemFailure.objects.exists()

    tried = every_write(
        setup=setup,
        run=lambda: jobs.open_due_votes.delay(now=moment["opens"].isoformat()),
        retry=lambda: retry_after(clock, jobs.open_due_votes, moment["opens"]),
        check=check,
        **ITEM_WRITES,
    )
    assert tried > 3


def test_votes_close_and_adopted_changes_are_scheduled_once_whatever_write_fails(clock: Clock) -> None:
    moment: dict[str, datetime] = {}

    def setup() -> list[Proposal]:
        proposals = voting(fresh_voters(3))
        moment["closes"] = latest(proposals, "voting_closes_at")
        return proposals

    def check(proposals: list[Proposal]) -> None:
        counted = actions(proposals)
        for proposal in Proposal.objects.filter(pk__in=[p.pk for p in proposals]):
            assert (proposal.state, proposal.yes_count, proposal.roll_size) == (states.SCHEDULED, 3, 3)
            assert counted[(str(proposal.pk), "proposal.adopted")] == 1
            assert counted[(str(proposal.pk), "proposal.scheduled")] == 1
        change = next(p for p in proposals if p.kind == Proposal.Kind.RULE_CHANGE)
        assert list(RuleVersion.objects.filter(adopted_by_proposal=change).values_list("value", flat=True)) == [1300]
        assert not JobItemFailure.objects.exists()

    tried = every_write(
        setup=setup,
        run=lambda: jobs.close_due_votes.delay(now=moment["closes"].isoformat()),
        retry=lambda: retry_after(clock, jobs.close_due_votes, moment["closes"]),
        check=check,
        **ITEM_WRITES,
    )
    assert tried > 3


def test_scheduled_proposals_take_effect_once_whatever_write_fails(clock: Clock) -> None:
    moment: dict[str, datetime] = {}

    def setup() -> list[Proposal]:
        proposals = voting(fresh_voters(3))
        for proposal in proposals:
            services.proposal_close(proposal_id=proposal.pk, now=latest([proposal], "voting_closes_at"))
            services.proposal_schedule(proposal_id=proposal.pk)
        moment["effective"] = latest(proposals, "effective_at")
        return proposals

    def check(proposals: list[Proposal]) -> None:
        counted = actions(proposals)
        for proposal in Proposal.objects.filter(pk__in=[p.pk for p in proposals]):
            assert (proposal.state, proposal.in_effect_at) == (states.IN_EFFECT, moment["effective"])
            assert counted[(str(proposal.pk), "proposal.in_effect")] == 1
        assert not JobItemFailure.objects.exists()

    tried = every_write(
        setup=setup,
        run=lambda: jobs.activate_due_proposals.delay(now=moment["effective"].isoformat()),
        retry=lambda: retry_after(clock, jobs.activate_due_proposals, moment["effective"]),
        check=check,
        **ITEM_WRITES,
    )
    assert tried > 2
