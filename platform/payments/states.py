"""Transition tables for deposits and withdrawals."""

from core.states import StateMachine
from payments.models import Deposit, Withdrawal

DEPOSIT = StateMachine(
    "deposit",
    {
        # A card payment attempt can fail and a later attempt on the same
        # PaymentIntent succeed, so "failed" is not final; "succeeded" is.
        "succeed": (frozenset({Deposit.Status.PENDING, Deposit.Status.FAILED}), Deposit.Status.SUCCEEDED),
        "fail": (frozenset({Deposit.Status.PENDING, Deposit.Status.FAILED}), Deposit.Status.FAILED),
        "confirm": (frozenset({Deposit.Status.AWAITING_TRANSFER}), Deposit.Status.CONFIRMED),
    },
)

WITHDRAWAL = StateMachine(
    "withdrawal",
    {
        "complete": (frozenset({Withdrawal.Status.REQUESTED}), Withdrawal.Status.COMPLETED),
        "fail": (frozenset({Withdrawal.Status.REQUESTED}), Withdrawal.Status.FAILED),
    },
)
