"""Transition tables for payouts and SEPA batches."""

from core.states import StateMachine

PAYOUT = StateMachine(
    "payout",
    {
        # The rail accepted it (Stripe transfer and bank payout created, SEPA file sent).
        "submit": (frozenset({"created"}), "submitted"),
        # "created" too: Stripe's webhook can arrive before a crashed job recorded the submission.
        "pay": (frozenset({"created", "submitted"}), "paid"),
        "fail": (frozenset({"created", "submitted"}), "failed"),
        # A bank can return a payout days after reporting it paid; the money comes back.
        "return": (frozenset({"paid"}), "failed"),
    },
)

SEPA_BATCH = StateMachine(
    "SEPA batch",
    {
        "send": (frozenset({"open"}), "sent"),
        "close": (frozenset({"sent"}), "closed"),
    },
)
