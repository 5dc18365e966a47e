"""What governance holds about a person, for export and erasure (``accounts.personal_data``).
Secret ballots are not the person's to download: nothing links them to anyone."""

from typing import Any

from accounts.models import User
from accounts.personal_data import Erasure, PersonalDataSection, personal_data_register
from governance.models import Ballot, Comment, Proposal, VoterRollEntry


def _export(user: User) -> dict[str, Any]:
    return {
        "proposals_written": list(
            Proposal.objects.filter(author=user).order_by("id").values("id", "title", "body", "state")
        ),
        "comments": list(
            Comment.objects.filter(author=user).order_by("id").values("proposal_id", "body", "created_at")
        ),
        "open_ballots": list(Ballot.objects.filter(voter=user).values("proposal_id", "choice")),
        "voter_rolls": list(VoterRollEntry.objects.filter(user=user).values("proposal_id", "voted")),
    }


def _erase(user: User, erasure: Erasure) -> None:
    # Other members' words about the person; their own comments stay in the discussion
    # under the erased label.
    for identifier in erasure.identifiers:
        for model, field in ((Comment, "body"), (Proposal, "body")):
            for row in model.objects.filter(**{f"{field}__icontains": identifier}):
                scrubbed = erasure.scrub(getattr(row, field))
                if scrubbed != getattr(row, field):
                    model.objects.filter(pk=row.pk).update(**{field: scrubbed})


personal_data_register(PersonalDataSection(name="governance", export=_export, erase=_erase))
