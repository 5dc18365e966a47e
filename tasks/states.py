"""Transition tables of the marketplace (see PRODUCT.md, Domain and lifecycles).

Actions are named as past participles so that a refusal reads well:
"This assignment is approved; it cannot be rejected."
"""

from core.labels import LABELS
from core.states import StateMachine
from tasks.models import Assignment, Batch

BATCH = StateMachine(
    "batch",
    {
        "published": (frozenset({Batch.Status.DRAFT}), Batch.Status.PUBLISHED),
        "paused": (frozenset({Batch.Status.PUBLISHED}), Batch.Status.PAUSED),
        "resumed": (frozenset({Batch.Status.PAUSED}), Batch.Status.PUBLISHED),
        "cancelled": (
            frozenset({Batch.Status.DRAFT, Batch.Status.PUBLISHED, Batch.Status.PAUSED}),
            Batch.Status.CANCELLED,
        ),
        "expired": (frozenset({Batch.Status.PUBLISHED, Batch.Status.PAUSED}), Batch.Status.EXPIRED),
        "completed": (frozenset({Batch.Status.PUBLISHED, Batch.Status.PAUSED}), Batch.Status.COMPLETED),
        # Editing inputs, template and settings is only possible before publishing.
        "edited": (frozenset({Batch.Status.DRAFT}), Batch.Status.DRAFT),
        # Only a draft is deleted (its row goes; nothing was reserved or shown to workers).
        "deleted": (frozenset({Batch.Status.DRAFT}), Batch.Status.DRAFT),
        # More slots or more time for a live batch.
        "extended": (frozenset({Batch.Status.PUBLISHED, Batch.Status.PAUSED}), Batch.Status.PUBLISHED),
    },
)

ASSIGNMENT = StateMachine(
    "assignment",
    {
        "accepted": (frozenset({Assignment.Status.OPEN}), Assignment.Status.ACCEPTED),
        "returned": (frozenset({Assignment.Status.ACCEPTED}), Assignment.Status.OPEN),
        "expired": (frozenset({Assignment.Status.ACCEPTED}), Assignment.Status.OPEN),
        "submitted": (frozenset({Assignment.Status.ACCEPTED}), Assignment.Status.SUBMITTED),
        "approved": (frozenset({Assignment.Status.SUBMITTED}), Assignment.Status.APPROVED),
        "rejected": (frozenset({Assignment.Status.SUBMITTED}), Assignment.Status.REJECTED),
        # A worker (or the mass-rejection guard) contests a provisional rejection.
        "disputed": (frozenset({Assignment.Status.REJECTED}), Assignment.Status.DISPUTED),
        # No dispute in time, or the rejection upheld: escrow goes back to the requester.
        "finalised": (frozenset({Assignment.Status.REJECTED, Assignment.Status.DISPUTED}), Assignment.Status.REFUNDED),
        # A dispute outcome pays a share of the reward.
        "settled": (frozenset({Assignment.Status.REJECTED, Assignment.Status.DISPUTED}), Assignment.Status.SETTLED),
        # Unclaimed slots of a cancelled or expired batch.
        "withdrawn": (frozenset({Assignment.Status.OPEN}), Assignment.Status.WITHDRAWN),
    },
)

# A batch open to claims, or paused: the one its lifetime and its clock still run for.
LIVE_BATCH = frozenset({Batch.Status.PUBLISHED, Batch.Status.PAUSED})
# A batch that has ended, for good: the fair-pay review measures it.
FINISHED_BATCH = frozenset({Batch.Status.COMPLETED, Batch.Status.CANCELLED, Batch.Status.EXPIRED})
# Work that was paid (in full, or a share decided by a dispute).
PAID_ASSIGNMENT = frozenset({Assignment.Status.APPROVED, Assignment.Status.SETTLED})
# A worker's slot is live (counted against a batch being finished) in these states.
UNFINISHED_ASSIGNMENT = frozenset({Assignment.Status.OPEN, Assignment.Status.ACCEPTED, Assignment.Status.SUBMITTED})
# Work the requester may read: its pay is still reserved in escrow or already paid.
REVIEWABLE_ASSIGNMENT = frozenset(
    {
        Assignment.Status.SUBMITTED,
        Assignment.Status.APPROVED,
        Assignment.Status.REJECTED,
        Assignment.Status.DISPUTED,
        Assignment.Status.SETTLED,
    }
)
# Work that has been paid and may be exported.
PAID_ASSIGNMENT = frozenset({Assignment.Status.APPROVED, Assignment.Status.SETTLED})

# The reasons a requester rejects for, in the reader's language (their words are labels, so a
# case page writes a stored reason with the ``label`` filter).
REJECTION_REASONS = {
    code: LABELS[code]
    for code in (
        "did_not_follow_instructions",
        "incomplete",
        "failed_gold_question",
        "nonsensical_answers",
        "duplicate_submission",
        "other",
    )
}

# Batches that produced data and closed: their requester owes the workers a data report
# (a cancelled batch owes none, and a report on one is refused).
DATA_REPORTABLE_BATCH = frozenset({Batch.Status.COMPLETED, Batch.Status.EXPIRED})
# Slots whose worker handed in work: the people a batch's data report is for.
WORKED_ASSIGNMENT = frozenset(
    {
        Assignment.Status.SUBMITTED,
        Assignment.Status.APPROVED,
        Assignment.Status.REJECTED,
        Assignment.Status.DISPUTED,
        Assignment.Status.REFUNDED,
        Assignment.Status.SETTLED,
    }
)
