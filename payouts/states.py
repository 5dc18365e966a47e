"""Transition tables for payouts and SEPA batches."""

from core.states import StateMachine
from payouts.models import Payout, SepaBatch

PAYOUT = StateMachine(
    "payout",
    {
        # The rail accepted it (Stripe transfer and bank payout created, SEPA file sent).
        "submit": (frozenset({Payout.State.CREATED}), Payout.State.SUBMITTED),
        # "created" too: Stripe's webhook can arrive before a crashed job recorded the submission.
        "pay": (frozenset({Payout.State.CREATED, Payout.State.SUBMITTED}), Payout.State.PAID),
        "fail": (frozenset({Payout.State.CREATED, Payout.State.SUBMITTED}), Payout.State.FAILED),
        # A bank can return a payout days after reporting it paid; the money comes back.
        "return": (frozenset({Payout.State.PAID}), Payout.State.FAILED),
    },
)

SEPA_BATCH = StateMachine(
    "SEPA batch",
    {
        "send": (frozenset({SepaBatch.State.OPEN}), SepaBatch.State.SENT),
        "close": (frozenset({SepaBatch.State.SENT}), SepaBatch.State.CLOSED),
    },
)
