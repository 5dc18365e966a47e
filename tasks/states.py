"""Transition tables of the marketplace (see PRODUCT.md, Domain and lifecycles).

Actions are named as past participles so that a refusal reads well:
"This assignment is approved; it cannot be rejected."
"""

from core.states import StateMachine

BATCH = StateMachine(
    "batch",
    {
        "published": (frozenset({"draft"}), "published"),
        "paused": (frozenset({"published"}), "paused"),
        "resumed": (frozenset({"paused"}), "published"),
        "cancelled": (frozenset({"draft", "published", "paused"}), "cancelled"),
        "expired": (frozenset({"published", "paused"}), "expired"),
        "completed": (frozenset({"published", "paused"}), "completed"),
        # Editing inputs, template and settings is only possible before publishing.
        "edited": (frozenset({"draft"}), "draft"),
        # More slots or more time for a live batch.
        "extended": (frozenset({"published", "paused"}), "published"),
    },
)

ASSIGNMENT = StateMachine(
    "assignment",
    {
        "accepted": (frozenset({"open"}), "accepted"),
        "returned": (frozenset({"accepted"}), "open"),
        "expired": (frozenset({"accepted"}), "open"),
        "submitted": (frozenset({"accepted"}), "submitted"),
        "approved": (frozenset({"submitted"}), "approved"),
        "rejected": (frozenset({"submitted"}), "rejected"),
        # A worker (or the mass-rejection guard) contests a provisional rejection.
        "disputed": (frozenset({"rejected"}), "disputed"),
        # No dispute in time, or the rejection upheld: escrow goes back to the requester.
        "finalised": (frozenset({"rejected", "disputed"}), "refunded"),
        # A dispute outcome pays a share of the reward.
        "settled": (frozenset({"rejected", "disputed"}), "settled"),
        # Unclaimed slots of a cancelled or expired batch.
        "withdrawn": (frozenset({"open"}), "withdrawn"),
    },
)

# A worker's slot is live (counted against a batch being finished) in these states.
UNFINISHED_ASSIGNMENT = frozenset({"open", "accepted", "submitted"})
# Work the requester may read: its pay is still reserved in escrow or already paid.
REVIEWABLE_ASSIGNMENT = frozenset({"submitted", "approved", "rejected", "disputed", "settled"})
# Work that has been paid and may be exported.
PAID_ASSIGNMENT = frozenset({"approved", "settled"})

REJECTION_REASONS = {
    "did_not_follow_instructions": "The instructions were not followed.",
    "incomplete": "The work is incomplete.",
    "failed_gold_question": "A disclosed check question was answered wrongly.",
    "nonsensical_answers": "The answers do not make sense for the task.",
    "duplicate_submission": "The same work was submitted more than once.",
    "other": "Another reason, explained in the text.",
}
