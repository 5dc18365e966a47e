"""What members hear about proposals and rules, and the voting deadlines for reminders.

Proposals are the members' business: only active members (or, once voting opens, the
members on the frozen voter roll) are told."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import Membership
from governance import states
from governance.models import Proposal, VoterRollEntry
from notifications.reminders import Deadline
from notifications.services import notify


def _members() -> QuerySet[Membership, int]:
    return Membership.objects.filter(status=Membership.Status.ACTIVE, user__is_active=True).values_list(
        "user_id", flat=True
    )


def _url(proposal: Proposal) -> str:
    return reverse("proposal", args=[proposal.pk])


def discussion_opened(proposal: Proposal) -> None:
    params = {"proposal": proposal.title, "deadline": proposal.discussion_ends_at}
    notify(users=_members(), category="proposal_discussion", params=params, url=_url(proposal))


def voting_opened(proposal: Proposal) -> None:
    """Everyone on the frozen roll, in bulk (a roll of 100,000 costs flat memory)."""
    roll = VoterRollEntry.objects.filter(proposal=proposal).order_by("user_id").values_list("user_id", flat=True)
    params = {"proposal": proposal.title, "deadline": proposal.voting_closes_at}
    notify(users=roll, category="proposal_voting", params=params, url=_url(proposal))


def rule_adopted(proposal: Proposal) -> None:
    params = {"proposal": proposal.title, "effective": proposal.effective_at}
    notify(users=_members(), category="rule_adopted", params=params, url=_url(proposal))


def rule_in_effect(proposal: Proposal) -> None:
    notify(users=_members(), category="rule_in_effect", params={"proposal": proposal.title}, url=_url(proposal))


def deadlines(now: datetime, until: datetime) -> Iterable[Deadline]:
    """Reminder source: voting closes; members on the roll who have not voted yet."""
    closing = Proposal.objects.filter(state=states.VOTING, voting_closes_at__gt=now, voting_closes_at__lte=until)
    for proposal in closing:
        yield Deadline(
            key=f"proposal:{proposal.pk}:closes",
            due_at=proposal.voting_closes_at,  # type: ignore[arg-type]
            user_ids=list(
                VoterRollEntry.objects.filter(proposal=proposal, voted=False).values_list("user_id", flat=True)
            ),
            category="proposal_closing",
            params={"proposal": proposal.title},
            url=_url(proposal),
        )
