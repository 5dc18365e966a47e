"""The one seam between a batch's work and the books (issue 24.6).

Every escrow and payment call made for a batch's assignments goes through here. A real
batch's go to the ledger (``ledger.escrow``); a sandbox batch's (``Batch.is_sandbox``, fixed
at creation) go to the organisation's play-money book (``tasks.play``) and never write a
ledger row: the same reservations, payments, returns and bonuses, with the same
exactly-once guarantees, in play money."""

from collections.abc import Iterable, Sequence

from accounts.models import User
from ledger import escrow
from tasks import play
from tasks.models import Assignment, Batch

# Where a sandbox slot published before the play-money book existed stands, by its status
# (nothing was reserved for it then): what ``statuses`` answers for such a slot.
_UNBOOKED_PLAY_STATUS = {
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
    """Reserves reward + fee of each new slot: in escrow, or in play money for the sandbox
    (``insufficient_funds`` or ``insufficient_play_money``, 409, writing nothing)."""
    if not real_money(batch):
        play.play_reserve_slots(
            organisation=batch.organisation,
            slots=[
                play.PlaySlot(key=f"assignment:{pk}", reward=batch.reward, fee=batch.fee_per_assignment)
                for pk in assignment_ids
            ],
        )
        return
    escrow.escrow_reserve_slots(
        organisation=batch.organisation,
        slots=[
            escrow.EscrowSlot(key=f"assignment:{pk}", reward=batch.reward, fee=batch.fee_per_assignment)
            for pk in assignment_ids
        ],
    )


def give_back(batch: Batch, key: str) -> None:
    """Returns a slot's reservation to the requester."""
    if real_money(batch):
        escrow.escrow_return(key=key)
    elif _booked(key):
        play.play_return(key=key)


def settle(batch: Batch, key: str, worker: User, share_bps: int = 10_000) -> None:
    """Pays ``share_bps`` of a slot's reservation to ``worker`` (and the fee's share)."""
    if real_money(batch):
        escrow.escrow_settle(key=key, worker=worker, share_bps=share_bps)
    elif _booked(key):
        play.play_settle(key=key, worker=worker, share_bps=share_bps)


def settle_many(batch: Batch, items: list[tuple[str, User]]) -> None:
    if real_money(batch):
        escrow.escrow_settle_many(items=items)
    else:
        booked = set(play.play_status([key for key, _worker in items]))
        play.play_settle_many(items=[(key, worker) for key, worker in items if key in booked])


def bonus_pay(batch: Batch, *, worker: User, amount: int, key: str) -> None:
    """Pays a bonus from the requester's available balance (or play money)."""
    if real_money(batch):
        escrow.bonus_pay(organisation=batch.organisation, worker=worker, amount=amount, key=key)
    else:
        play.play_bonus(organisation=batch.organisation, worker=worker, amount=amount, key=key)


def _booked(key: str) -> bool:
    """Whether a sandbox slot's play money was reserved (every slot published since the
    play-money book exists; ``_UNBOOKED_PLAY_STATUS`` answers for the others)."""
    return key in play.play_status([key])


def statuses(assignments: Iterable[Assignment]) -> dict[str, str]:
    """``"pending"``, ``"posted"`` or ``"voided"`` per slot's escrow key, as
    ``escrow.escrow_status``; a sandbox slot's from the play-money book."""
    real: list[str] = []
    sandbox: dict[str, Assignment] = {}
    for assignment in assignments:
        if assignment.batch.is_sandbox:
            sandbox[assignment.escrow_key] = assignment
        else:
            real.append(assignment.escrow_key)
    answer: dict[str, str] = {}
    if sandbox:
        booked = play.play_status(list(sandbox))
        for key, assignment in sandbox.items():
            answer[key] = booked.get(key) or _UNBOOKED_PLAY_STATUS[Assignment.Status(assignment.status)]
    if real:
        answer.update(escrow.escrow_status(real))
    return answer
