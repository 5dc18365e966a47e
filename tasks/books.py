"""The one seam between a batch's work and the ledger's books (issue 24.6).

Every escrow and payment call made for a batch's assignments goes through here; a sandbox
batch (``Batch.is_sandbox``, fixed at creation) stops here, so its play money never writes
a ledger row: no escrow, no fee, no earning, no bonus. The state a sandbox slot's pay would
have in escrow is read from the slot's own status instead (``statuses``)."""

from collections.abc import Iterable, Sequence

from accounts.models import User
from ledger import escrow
from tasks.models import Assignment, Batch

# Where a real slot's pay stands, by the slot's status: what ``escrow.escrow_status`` answers.
_PLAY_STATUS = {
    Assignment.Status.OPEN: "pending",
    Assignment.Status.ACCEPTED: "pending",
    Assignment.Status.SUBMITTED: "pending",
    Assignment.Status.REJECTED: "pending",
    Assignment.Status.DISPUTED: "pending",
    Assignment.Status.APPROVED: "posted",
    Assignment.Status.SETTLED: "posted",
    Assignment.Status.REFUNDED: "voided",
    Assignment.Status.WITHDRAWN: "voided",
}


def real_money(batch: Batch) -> bool:
    """False for a sandbox batch: the one check every money call of a batch passes."""
    return not batch.is_sandbox


def reserve(batch: Batch, assignment_ids: Sequence[int]) -> None:
    """Reserves reward + fee of each new slot in escrow (nothing for the sandbox)."""
    if not real_money(batch):
        return
    escrow.escrow_reserve_slots(
        organisation=batch.organisation,
        slots=[
            escrow.EscrowSlot(key=f"assignment:{pk}", reward=batch.reward, fee=batch.fee_per_assignment)
            for pk in assignment_ids
        ],
    )


def give_back(batch: Batch, key: str) -> None:
    """Voids a slot's escrow back to the requester."""
    if real_money(batch):
        escrow.escrow_return(key=key)


def settle(batch: Batch, key: str, worker: User, share_bps: int = 10_000) -> None:
    """Pays ``share_bps`` of a slot's escrow to ``worker`` (and the fee's share to the co-op)."""
    if real_money(batch):
        escrow.escrow_settle(key=key, worker=worker, share_bps=share_bps)


def settle_many(batch: Batch, items: list[tuple[str, User]]) -> None:
    if real_money(batch):
        escrow.escrow_settle_many(items=items)


def bonus_pay(batch: Batch, *, worker: User, amount: int, key: str) -> None:
    """Pays a bonus from the requester's balance (play money in the sandbox: no transfer)."""
    if real_money(batch):
        escrow.bonus_pay(organisation=batch.organisation, worker=worker, amount=amount, key=key)


def statuses(assignments: Iterable[Assignment]) -> dict[str, str]:
    """``"pending"``, ``"posted"`` or ``"voided"`` per slot's escrow key, as
    ``escrow.escrow_status``; a sandbox slot's from its own status, with no ledger read."""
    real: list[str] = []
    answer: dict[str, str] = {}
    for assignment in assignments:
        if assignment.batch.is_sandbox:
            answer[assignment.escrow_key] = _PLAY_STATUS[Assignment.Status(assignment.status)]
        else:
            real.append(assignment.escrow_key)
    if real:
        answer.update(escrow.escrow_status(real))
    return answer
