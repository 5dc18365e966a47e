"""Transition tables for deposits and withdrawals."""

from core.states import StateMachine

DEPOSIT = StateMachine(
    "deposit",
    {
        # A card payment attempt can fail and a later attempt on the same
        # PaymentIntent succeed, so "failed" is not final; "succeeded" is.
        "succeed": (frozenset({"pending", "failed"}), "succeeded"),
        "fail": (frozenset({"pending", "failed"}), "failed"),
        "confirm": (frozenset({"awaiting_transfer"}), "confirmed"),
    },
)

WITHDRAWAL = StateMachine(
    "withdrawal",
    {
        "complete": (frozenset({"requested"}), "completed"),
        "fail": (frozenset({"requested"}), "failed"),
    },
)
