"""Escrow in the marketplace's terms: every assignment slot is paid for before it is offered.

Publishing reserves, per slot, the reward plus the platform fee as one pending
transfer ``escrow:<key>`` from the requester's available balance to its escrow
account. Approval posts it (``escrow:<key>:post``) and pays the reward share to
the worker (``escrow:<key>:reward``) and the fee share to the co-op
(``escrow:<key>:fee``); the part not posted returns to available. A return
voids it (``escrow:<key>:void``). Each slot resolves exactly once.

The fee is charged on top of the reward and never taken from it: a partial
outcome pays the worker ``share`` of the reward and charges ``share`` of the fee.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from core.errors import AppError
from core.money import basis_points, share
from core.rules import rule_value
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import Balance, balance
from ledger.services import TransferRow, lock_accounts, transfer, write_transfers

__all__ = [
    "Balance",
    "EscrowSlot",
    "balance",
    "bonus_pay",
    "escrow_reserve_slots",
    "escrow_return",
    "escrow_settle",
    "escrow_settle_many",
    "escrow_status",
    "platform_fee",
]

FULL_SHARE = 10_000
CODE_RESERVE = "escrow_reserve"
CODE_REWARD = "escrow_reward"
CODE_FEE = "escrow_fee"
CODE_BONUS = "bonus"
# Keeps each IN (...) list well below SQLite's and psycopg's parameter limits.
_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class EscrowSlot:
    key: str  # the marketplace's slot key, e.g. "assignment:42"
    reward: int  # minor units, paid to the worker on approval
    fee: int  # minor units, the co-op's fee on top of the reward


def platform_fee(reward: int, *, at: datetime | None = None) -> int:
    """The fee on ``reward`` under the governed rule ``platform_fee_bps`` in force at ``at``."""
    return basis_points(reward, rule_value("platform_fee_bps", at=at))


def _pending_id(key: str) -> str:
    return f"escrow:{key}"


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class _Pending(NamedTuple):
    pk: str
    kind: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    fee_part: int
    currency: str


_PENDING_COLUMNS = ("id", "kind", "debit_account_id", "credit_account_id", "amount", "fee_part", "currency")


def _transfers_where(column: str, values: Sequence[str], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Plain tuples, not model instances, of the transfers whose ``column`` is in ``values``.

    The bulk paths read tens of thousands: on PostgreSQL as one array
    parameter (``= ANY``) rather than thousands of placeholders.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Column names are this module's constants, never input.
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM ledger_transfer WHERE {column} = ANY(%s)",  # noqa: S608
                [list(values)],
            )
            return list(cursor.fetchall())
    found: list[tuple[Any, ...]] = []
    for chunk in _chunks(values):
        found.extend(Transfer.objects.filter(**{f"{column}__in": chunk}).values_list(*columns))
    return found


def _pendings(ids: Sequence[str]) -> dict[str, _Pending]:
    return {values[0]: _Pending(*values) for values in _transfers_where("id", ids, _PENDING_COLUMNS)}


def _resolutions(ids: Sequence[str]) -> dict[str, tuple[str, str, int]]:
    """pending id -> (resolution id, kind, amount) for the ids already posted or voided."""
    return {
        pending_id: (resolution_id, kind, amount)
        for resolution_id, pending_id, kind, amount in _transfers_where(
            "pending_id", ids, ("id", "pending_id", "kind", "amount")
        )
    }


def _not_found(keys: list[str]) -> AppError:
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return AppError(
        "escrow_not_found",
        _("No escrow was reserved for %(shown)s; a slot must be reserved at publishing before it is paid.")
        % {"shown": shown},
        status=404,
        details={"keys": keys[:100]},
    )


def escrow_reserve_slots(*, organisation: Organisation, slots: list[EscrowSlot]) -> None:
    """Reserves reward + fee of every slot from the organisation's available balance.

    All or nothing: without enough available balance it raises
    ``AppError("insufficient_funds", 409)`` saying how much is missing, and
    writes nothing. Idempotent per slot: a slot already reserved with the same
    amounts is left as it is; with other amounts it raises ``transfer_id_reused``.
    Locks the organisation's available and escrow accounts until the caller's
    transaction ends.
    """
    if not slots:
        return
    keys = [slot.key for slot in slots]
    if len(set(keys)) != len(keys):
        raise AppError("invalid", _("Each escrow slot needs its own key."))
    for slot in slots:
        for amount in (slot.reward, slot.fee):
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise AppError(
                    "invalid_amount",
                    _("Slot %(key)s: reward and fee are whole minor units, at least 0.") % {"key": slot.key},
                )
        if slot.reward + slot.fee == 0:
            raise AppError(
                "invalid_amount", _("Slot %(key)s reserves nothing; a slot must pay a reward.") % {"key": slot.key}
            )
    # Accounts are created inside the transaction too: a refusal leaves no trace.
    with transaction.atomic():
        available = accounts.org_available(organisation)
        escrow = accounts.org_escrow(organisation)
        locked = lock_accounts([available.pk, escrow.pk])
        existing = _pendings([_pending_id(key) for key in keys])
        rows: list[TransferRow] = []
        for slot in slots:
            pending_id = _pending_id(slot.key)
            amount = slot.reward + slot.fee
            if pending_id in existing:
                old = existing[pending_id]
                if (old.kind, old.debit_account_id, old.credit_account_id, old.amount, old.fee_part) != (
                    Transfer.Kind.PENDING,
                    available.pk,
                    escrow.pk,
                    amount,
                    slot.fee,
                ):
                    raise AppError(
                        "transfer_id_reused",
                        _("Slot %(key)s is already reserved with other amounts or another organisation.")
                        % {"key": slot.key},
                        status=409,
                        details={"key": slot.key},
                    )
                continue
            rows.append(
                TransferRow(
                    id=pending_id,
                    kind=Transfer.Kind.PENDING,
                    debit_account_id=available.pk,
                    credit_account_id=escrow.pk,
                    amount=amount,
                    fee_part=slot.fee,
                    currency=available.currency,
                    code=CODE_RESERVE,
                )
            )
        if rows:
            write_transfers(rows=rows, locked=locked, pending_amounts={})


def _settlement_rows(pending: _Pending, key: str, earnings_id: int, fees_id: int, share_bps: int) -> list[TransferRow]:
    reward, fee = pending.amount - pending.fee_part, pending.fee_part
    if share_bps != FULL_SHARE:
        reward, fee = share(reward, share_bps, FULL_SHARE), share(fee, share_bps, FULL_SHARE)
    escrow_id = pending.credit_account_id
    rows = [
        TransferRow(
            id=f"{pending.pk}:post",
            kind=Transfer.Kind.POST_PENDING,
            debit_account_id=pending.debit_account_id,
            credit_account_id=escrow_id,
            amount=reward + fee,
            currency=pending.currency,
            code=CODE_RESERVE,
            pending_id=pending.pk,
        )
    ]
    # Zero-amount payouts move nothing, so they are not written.
    for suffix, code, credit_id, amount in (
        ("reward", CODE_REWARD, earnings_id, reward),
        ("fee", CODE_FEE, fees_id, fee),
    ):
        if amount:
            rows.append(
                TransferRow(
                    id=f"{pending.pk}:{suffix}",
                    kind=Transfer.Kind.POSTED,
                    debit_account_id=escrow_id,
                    credit_account_id=credit_id,
                    amount=amount,
                    currency=pending.currency,
                    code=code,
                    memo=key,
                )
            )
    return rows


def _refuse_voided(key: str) -> AppError:
    return AppError(
        "escrow_returned",
        _("The escrow of %(key)s was already returned to the requester; it cannot be paid any more.") % {"key": key},
        status=409,
        details={"key": key},
    )


def escrow_settle(*, key: str, worker: User, share_bps: int = FULL_SHARE) -> None:
    """Pays slot ``key``: ``share_bps`` of the reward to ``worker``'s earnings and
    the same share of the fee to the co-op; the rest returns to the requester.

    ``share_bps`` is 10_000 for an approval, less for a partial dispute outcome
    (at least 1: an outcome that pays nothing is ``escrow_return``). Exactly
    once: repeating the same settlement is a no-op; settling again differently
    raises ``escrow_already_settled`` and after a return ``escrow_returned``
    (both 409). Raises ``escrow_not_found`` (404) for a key never reserved.
    """
    if not isinstance(share_bps, int) or not 1 <= share_bps <= FULL_SHARE:
        raise AppError(
            "invalid_share",
            _("A share is 1 to 10000 basis points of the reward; to pay nothing, return the escrow instead."),
        )
    pending = _pendings([_pending_id(key)]).get(_pending_id(key))
    if pending is None:
        raise _not_found([key])
    with transaction.atomic():
        earnings = accounts.worker_earnings(worker)
        fees = accounts.coop_fees()
        rows = _settlement_rows(pending, key, earnings.pk, fees.pk, share_bps)
        locked = lock_accounts([pending.debit_account_id, pending.credit_account_id, earnings.pk, fees.pk])
        resolution = _resolutions([pending.pk]).get(pending.pk)
        if resolution is not None:
            _unused, kind, amount = resolution
            if kind == Transfer.Kind.VOID_PENDING:
                raise _refuse_voided(key)
            paid_to = Transfer.objects.filter(pk=f"{pending.pk}:reward").values_list("credit_account_id", flat=True)
            if amount == rows[0].amount and list(paid_to) in ([], [earnings.pk]):
                return
            raise AppError(
                "escrow_already_settled",
                _("The escrow of %(key)s was already paid out with a different share or to another worker.")
                % {"key": key},
                status=409,
                details={"key": key},
            )
        write_transfers(rows=rows, locked=locked, pending_amounts={pending.pk: pending.amount})


def escrow_settle_many(*, items: list[tuple[str, User]]) -> int:
    """Approves many slots at once (full share), in one transaction: the bulk path
    for automatic approval. Returns how many slots were paid now.

    Slots already paid are skipped (a repeat is a no-op). All or nothing
    otherwise: an unknown key raises ``escrow_not_found`` and a returned slot
    ``escrow_returned``, and nothing is written. Writes with one bulk insert and
    one UPDATE per distinct change of account totals.
    """
    if not items:
        return 0
    worker_of: dict[str, int] = {}
    for key, worker in items:
        if worker_of.setdefault(key, worker.pk) != worker.pk:
            raise AppError("invalid", _("Slot %(key)s is listed twice with different workers.") % {"key": key})
    keys = list(worker_of)
    ids = [_pending_id(key) for key in keys]
    pendings = _pendings(ids)
    missing = [key for key, pending_id in zip(keys, ids, strict=True) if pending_id not in pendings]
    if missing:
        raise _not_found(missing)
    with transaction.atomic():
        earnings = accounts.worker_earnings_many(sorted(set(worker_of.values())))
        fees = accounts.coop_fees()
        account_ids = {fees.pk, *(account.pk for account in earnings.values())}
        for pending in pendings.values():
            account_ids.update((pending.debit_account_id, pending.credit_account_id))
        locked = lock_accounts(account_ids)
        resolutions = _resolutions(ids)
        returned = [
            key
            for key, pending_id in zip(keys, ids, strict=True)
            if pending_id in resolutions and resolutions[pending_id][1] == Transfer.Kind.VOID_PENDING
        ]
        if returned:
            raise AppError(
                "escrow_returned",
                _("%(amount)s of these slots were already returned to the requester (%(returned)s); none was paid.")
                % {"amount": len(returned), "returned": ", ".join(returned[:5])},
                status=409,
                details={"keys": returned[:100]},
            )
        rows: list[TransferRow] = []
        pending_amounts: dict[str, int] = {}
        for key, pending_id in zip(keys, ids, strict=True):
            if pending_id in resolutions:
                continue
            pending = pendings[pending_id]
            pending_amounts[pending_id] = pending.amount
            rows.extend(_settlement_rows(pending, key, earnings[worker_of[key]].pk, fees.pk, FULL_SHARE))
        if rows:
            write_transfers(rows=rows, locked=locked, pending_amounts=pending_amounts)
    return len(pending_amounts)


def escrow_return(*, key: str) -> None:
    """Voids slot ``key``: the whole reward and fee return to the requester's available balance.

    For an upheld rejection, an expired or a cancelled slot. Exactly once: a
    repeat is a no-op; after a payment it raises ``escrow_settled`` (409).
    Raises ``escrow_not_found`` (404) for a key never reserved.
    """
    pending = _pendings([_pending_id(key)]).get(_pending_id(key))
    if pending is None:
        raise _not_found([key])
    with transaction.atomic():
        locked = lock_accounts([pending.debit_account_id, pending.credit_account_id])
        resolution = _resolutions([pending.pk]).get(pending.pk)
        if resolution is not None:
            if resolution[1] == Transfer.Kind.VOID_PENDING:
                return
            raise AppError(
                "escrow_settled",
                _("The escrow of %(key)s was already paid out; it cannot be returned.") % {"key": key},
                status=409,
                details={"key": key},
            )
        row = TransferRow(
            id=f"{pending.pk}:void",
            kind=Transfer.Kind.VOID_PENDING,
            debit_account_id=pending.debit_account_id,
            credit_account_id=pending.credit_account_id,
            amount=pending.amount,
            currency=pending.currency,
            code=CODE_RESERVE,
            pending_id=pending.pk,
        )
        write_transfers(rows=[row], locked=locked, pending_amounts={pending.pk: pending.amount})


def escrow_status(keys: list[str]) -> dict[str, str]:
    """``"pending"``, ``"posted"`` or ``"voided"`` for each key that was reserved
    (keys never reserved are absent). One query per 10,000 keys."""
    ids = {_pending_id(key): key for key in keys}
    status: dict[str, str] = {}
    names: dict[str, str] = {
        Transfer.Kind.PENDING: "pending",
        Transfer.Kind.POST_PENDING: "posted",
        Transfer.Kind.VOID_PENDING: "voided",
    }
    for chunk in _chunks(list(ids)):
        rows = Transfer.objects.filter(Q(id__in=chunk) | Q(pending_id__in=chunk)).values_list(
            "id", "pending_id", "kind"
        )
        for transfer_id, pending_id, kind in rows:
            if kind == Transfer.Kind.PENDING:
                status.setdefault(ids[transfer_id], "pending")
            elif kind in names:
                status[ids[pending_id]] = names[kind]
    return status


def bonus_pay(*, organisation: Organisation, worker: User, amount: int, key: str) -> Transfer:
    """Pays a bonus from the organisation's available balance to the worker, as
    transfer ``bonus:<key>`` (idempotent on ``key``). Raises ``insufficient_funds``
    (409, nothing written) and the errors of ``ledger.services.transfer``."""
    with transaction.atomic():
        return transfer(
            transfer_id=f"bonus:{key}",
            debit=accounts.org_available(organisation),
            credit=accounts.worker_earnings(worker),
            amount=amount,
            code=CODE_BONUS,
        )
