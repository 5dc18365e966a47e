"""Governance test helpers: proposals are made and moved through the services,
the way members and the jobs move them, with time passed in explicitly."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from governance import services
from governance.models import Proposal, RuleClass
from tests.factories import MemberFactory


def members(count: int, **kwargs: Any) -> list[User]:
    return [MemberFactory(**kwargs) for _ in range(count)]


def rule_change(author: User, rule_key: str = "minimum_hourly_wage", value: int = 1500, **kwargs: Any) -> Proposal:
    return services.proposal_create(
        author=author,
        kind=Proposal.Kind.RULE_CHANGE,
        title=kwargs.pop("title", f"Set {rule_key} to {value}"),
        body=kwargs.pop("body", "Because the cost of living went up."),
        rule_key=rule_key,
        proposed_value=value,
        **kwargs,
    )


def policy(author: User, rule_class_key: str = "operational") -> Proposal:
    return services.proposal_create(
        author=author,
        kind=Proposal.Kind.POLICY,
        title="A code of conduct for discussions",
        body="Be kind; argue about ideas, not people.",
        rule_class_key=rule_class_key,
    )


def to_voting(proposal: Proposal, start: datetime | None = None) -> Proposal:
    """Opens discussion at ``start`` and voting when the discussion period ends."""
    start = start or timezone.now()
    services.proposal_open_discussion(proposal=proposal, actor=proposal.author, now=start)
    days = RuleClass.objects.get(pk=proposal.rule_class_id).discussion_days
    return services.proposal_open_voting(proposal_id=proposal.pk, now=start + timedelta(days=days))


def vote(proposal: Proposal, voters: list[User], choice: str) -> None:
    for voter in voters:
        services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice=choice, now=proposal.voting_opened_at)


def after_close(proposal: Proposal) -> datetime:
    assert proposal.voting_closes_at is not None
    return proposal.voting_closes_at + timedelta(seconds=1)
