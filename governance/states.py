"""The proposal lifecycle as a transition table.

draft -> discussion -> voting -> adopted | rejected | failed_quorum;
adopted -> scheduled -> in_effect. A proposal can be withdrawn by its author
until voting opens; after that only the vote decides.
"""

from core.states import StateMachine
from governance.models import Proposal

DRAFT = Proposal.State.DRAFT
DISCUSSION = Proposal.State.DISCUSSION
VOTING = Proposal.State.VOTING
ADOPTED = Proposal.State.ADOPTED
REJECTED = Proposal.State.REJECTED
FAILED_QUORUM = Proposal.State.FAILED_QUORUM
SCHEDULED = Proposal.State.SCHEDULED
IN_EFFECT = Proposal.State.IN_EFFECT
WITHDRAWN = Proposal.State.WITHDRAWN

# States in which the result of the vote is published.
CLOSED = frozenset({ADOPTED, REJECTED, FAILED_QUORUM, SCHEDULED, IN_EFFECT})
# States in which the author may still edit the text or the proposed value.
EDITABLE = frozenset({DRAFT, DISCUSSION})
# States in which members may comment.
COMMENTABLE = frozenset({DISCUSSION, VOTING})

proposal_machine = StateMachine(
    "proposal",
    {
        "open_discussion": (frozenset({DRAFT}), DISCUSSION),
        "withdraw": (frozenset({DRAFT, DISCUSSION}), WITHDRAWN),
        "open_voting": (frozenset({DISCUSSION}), VOTING),
        "adopt": (frozenset({VOTING}), ADOPTED),
        "reject": (frozenset({VOTING}), REJECTED),
        "fail_quorum": (frozenset({VOTING}), FAILED_QUORUM),
        "schedule": (frozenset({ADOPTED}), SCHEDULED),
        "take_effect": (frozenset({SCHEDULED}), IN_EFFECT),
    },
)
