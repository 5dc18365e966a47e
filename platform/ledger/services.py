"""The only writer of ledger rows: transfers after TigerBeetle's two-phase model.

A transfer moves ``amount`` from a debit account to a credit account. A pending
transfer reserves the amount (``*_pending`` totals) until it is posted (fully or
partially, the rest released) or voided, exactly once. Every function here:

- is idempotent on the caller's ``transfer_id``: the same id with the same
  parameters returns the transfer already written; different parameters raise
  ``AppError("transfer_id_reused")``;
- locks the account rows it touches (``SELECT ... FOR UPDATE``, in id order, so
  two transfers never deadlock on each other) and updates their totals with
  ``F()`` in the same transaction that inserts the transfer row;
- refuses an overdraft with ``AppError("insufficient_funds", status=409)`` and
  writes nothing; the database CHECK constraints refuse it as well, in case a
  bug gets past the check here.

Ledger rows are their own audit trail (immutable, timestamped, with a code and a
memo), so these services write no separate audit rows: the business action that
moved the money (publishing, approving, a dispute outcome) audits itself.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import AppError
from core.money import format_amount
from ledger.models import Account, Transfer

# debits_pending, debits_posted, credits_pending, credits_posted
Delta = tuple[int, int, int, int]
_FIELDS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
# A refused overdraft, one whole sentence per kind of account (the account's name and the
# advice used to be English fragments around the translated amounts).
_SHORT = {
    Account.Kind.ORG_AVAILABLE: gettext_lazy(
        "The organisation's available balance is short by %(short)s: %(needed)s is needed and %(available)s is "
        "available. Add funds to the organisation's balance, or reserve less, and try again."
    ),
    Account.Kind.WORKER_EARNINGS: gettext_lazy(
        "The worker's earnings are short by %(short)s: %(needed)s is needed and %(available)s is available. "
        "The worker's earnings do not cover this amount."
    ),
}
_SHORT_OTHER = gettext_lazy(
    "The account is short by %(short)s: %(needed)s is needed and %(available)s is available. Fund the account first."
)
MAX_TRANSFER_ID_LENGTH = 200
# From this many rows on, PostgreSQL gets them through COPY rather than INSERT.
_COPY_FROM_ROWS = 500
_COLUMNS = (
    "id",
    "kind",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "currency",
    "code",
    "memo",
    "pending_id",
    "fee_part",
)


class TransferRow(NamedTuple):
    """A transfer about to be written (the bulk paths build many without model instances)."""

    id: str
    kind: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    currency: str
    code: str
    memo: str = ""
    pending_id: str | None = None
    fee_part: int = 0


def lock_accounts(account_ids: Iterable[int]) -> dict[int, Account]:
    """Locks the given accounts for the rest of the transaction, in id order.

    The returned rows carry the totals as of the lock (PostgreSQL re-reads a row
    when it takes its lock), so checks made on them hold until commit.
    """
    rows = Account.objects.select_for_update().filter(id__in=sorted(set(account_ids))).order_by("id")
    return {account.pk: account for account in rows}


def _deltas(rows: list[TransferRow], pending_amounts: dict[str, int]) -> dict[int, Delta]:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        debit, credit = totals[row.debit_account_id], totals[row.credit_account_id]
        if row.kind == Transfer.Kind.POSTED:
            debit[1] += row.amount
            credit[3] += row.amount
        elif row.kind == Transfer.Kind.PENDING:
            debit[0] += row.amount
            credit[2] += row.amount
        else:
            assert row.pending_id is not None
            reserved = pending_amounts[row.pending_id]
            # A post moves ``amount`` (at most what was reserved) to posted and
            # releases the whole reservation; a void only releases it.
            posted = row.amount if row.kind == Transfer.Kind.POST_PENDING else 0
            debit[0] -= reserved
            debit[1] += posted
            credit[2] -= reserved
            credit[3] += posted
    return {account_id: (d[0], d[1], d[2], d[3]) for account_id, d in totals.items()}


def _refuse_overdraft(locked: dict[int, Account], deltas: dict[int, Delta]) -> None:
    for account_id, delta in deltas.items():
        account = locked[account_id]
        debits_pending = account.debits_pending + delta[0]
        debits_posted = account.debits_posted + delta[1]
        credits_pending = account.credits_pending + delta[2]
        credits_posted = account.credits_posted + delta[3]
        short = available = 0
        if account.debits_must_not_exceed_credits:
            short = debits_pending + debits_posted - credits_posted
            available = account.credits_posted - account.debits_posted - account.debits_pending
        if account.credits_must_not_exceed_debits and short <= 0:
            short = credits_pending + credits_posted - debits_posted
            available = account.debits_posted - account.credits_posted - account.credits_pending
        if short > 0:
            currency = account.currency
            sentence = _SHORT.get(account.kind, _SHORT_OTHER)  # type: ignore[call-overload]
            raise AppError(
                "insufficient_funds",
                str(sentence)
                % {
                    "short": format_amount(short, currency),
                    "needed": format_amount(available + short, currency),
                    "available": format_amount(available, currency),
                },
                status=409,
                details={"account": account.kind, "short_by": short, "available": available},
            )


def _apply(deltas: dict[int, Delta]) -> None:
    # One UPDATE per distinct delta: accounts that move by the same figures
    # (many workers paid the same reward) share a statement.
    groups: dict[Delta, list[int]] = defaultdict(list)
    for account_id, delta in deltas.items():
        if any(delta):
            groups[delta].append(account_id)
    for delta, account_ids in groups.items():
        changes = {field: F(field) + value for field, value in zip(_FIELDS, delta, strict=True) if value}
        Account.objects.filter(id__in=account_ids).update(**changes)


def _insert(rows: list[TransferRow], created_at: datetime) -> None:
    if connection.vendor == "postgresql" and len(rows) >= _COPY_FROM_ROWS:
        # COPY is PostgreSQL's bulk load: the same rows, constraints and
        # indexes as INSERT, without building one statement per batch.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            copy_sql = f"COPY ledger_transfer ({', '.join(_COLUMNS)}, created_at) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row((*row, created_at))
        return
    Transfer.objects.bulk_create([Transfer(**row._asdict(), created_at=created_at) for row in rows], batch_size=5000)


def write_transfers(
    *, rows: list[TransferRow], locked: dict[int, Account], pending_amounts: dict[str, int]
) -> datetime:
    """Inserts ``rows`` and moves the account totals, or raises and writes nothing.

    For the ledger's own modules: the caller holds a transaction, has locked
    every account the rows touch (``lock_accounts``) and has checked that each
    resolved pending transfer is still unresolved; ``pending_amounts`` gives the
    reserved amount of each pending transfer that a row posts or voids.
    """
    deltas = _deltas(rows, pending_amounts)
    _refuse_overdraft(locked, deltas)
    created_at = timezone.now()
    try:
        with transaction.atomic():
            _insert(rows, created_at)
            _apply(deltas)
    except IntegrityError as error:
        text = str(error)
        if "must_not_exceed" in text or "totals_not_negative" in text:
            raise AppError(
                "insufficient_funds",
                _("An account does not have enough money for this transfer; nothing was written."),
                status=409,
            ) from None
        if "pending" in text:
            raise AppError(
                "pending_already_resolved",
                _("That reservation was posted or voided at the same moment; nothing was written."),
                status=409,
            ) from None
        raise AppError(
            "transfer_id_reused",
            _("A transfer with that id was written at the same moment; nothing was written."),
            status=409,
        ) from None
    return created_at


def _check_id(transfer_id: str) -> None:
    if not transfer_id or len(transfer_id) > MAX_TRANSFER_ID_LENGTH:
        raise AppError(
            "invalid_transfer_id",
            _("A transfer id must have 1 to %(MAX_TRANSFER_ID_LENGTH)s characters.")
            % {"MAX_TRANSFER_ID_LENGTH": MAX_TRANSFER_ID_LENGTH},
            status=400,
        )


def _same_or_raise(existing: Transfer, expected: dict[str, object]) -> Transfer:
    differing = sorted(name for name, value in expected.items() if getattr(existing, name) != value)
    if differing:
        raise AppError(
            "transfer_id_reused",
            _(
                "The transfer id '%(number)s' is already used by a transfer with a "
                "different %(differing)s; choose a new id for a new transfer."
            )
            % {"number": existing.pk, "differing": ", ".join(differing)},
            status=409,
            details={"transfer_id": existing.pk, "differs": differing},
        )
    return existing


def _write_one(
    row: TransferRow, account_ids: list[int], expected: dict[str, object], pending: Transfer | None
) -> Transfer:
    try:
        with transaction.atomic():
            locked = lock_accounts(account_ids)
            # Re-read under the lock: a concurrent call with the same id that
            # committed while we waited is visible now.
            existing = Transfer.objects.filter(pk=row.id).first()
            if existing is not None:
                return _same_or_raise(existing, expected)
            if pending is not None:
                resolution = Transfer.objects.filter(pending_id=pending.pk).first()
                if resolution is not None:
                    state = "posted" if resolution.kind == Transfer.Kind.POST_PENDING else "voided"
                    raise AppError(
                        "pending_already_resolved",
                        _(
                            "The pending transfer '%(number)s' was already %(state)s by "
                            "'%(number2)s'; it can be resolved only once."
                        )
                        % {"number": pending.pk, "state": state, "number2": resolution.pk},
                        status=409,
                        details={"pending_id": pending.pk, "state": state, "resolved_by": resolution.pk},
                    )
            created_at = write_transfers(
                rows=[row], locked=locked, pending_amounts={pending.pk: pending.amount} if pending else {}
            )
    except AppError as error:
        if error.code != "transfer_id_reused" or "differs" in error.details:
            raise
        # Lost a race on the id: the winner has committed; same parameters is success.
        existing = Transfer.objects.filter(pk=row.id).first()
        if existing is None:
            raise
        return _same_or_raise(existing, expected)
    return Transfer(**row._asdict(), created_at=created_at)


def transfer(
    *,
    transfer_id: str,
    debit: Account,
    credit: Account,
    amount: int,
    code: str,
    memo: str = "",
    pending: bool = False,
) -> Transfer:
    """Moves ``amount`` from ``debit`` to ``credit``, or reserves it when ``pending``.

    Idempotent on ``transfer_id``. Raises ``AppError`` ``invalid_amount`` (amount
    not positive), ``same_account``, ``currency_mismatch``, ``transfer_id_reused``
    or ``insufficient_funds`` (409; nothing written). Locks both accounts until
    the caller's transaction ends.
    """
    _check_id(transfer_id)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise AppError("invalid_amount", _("A transfer amount must be a positive whole number of minor units."))
    if debit.pk == credit.pk:
        raise AppError("same_account", _("A transfer needs two different accounts."))
    if debit.currency != credit.currency:
        raise AppError(
            "currency_mismatch",
            _("Cannot move money between a %(currency)s and a %(currency2)s account.")
            % {"currency": debit.currency, "currency2": credit.currency},
        )
    kind = Transfer.Kind.PENDING if pending else Transfer.Kind.POSTED
    expected: dict[str, object] = {
        "kind": kind,
        "debit_account_id": debit.pk,
        "credit_account_id": credit.pk,
        "amount": amount,
        "code": code,
    }
    existing = Transfer.objects.filter(pk=transfer_id).first()
    if existing is not None:
        return _same_or_raise(existing, expected)
    row = TransferRow(
        id=transfer_id,
        kind=kind,
        debit_account_id=debit.pk,
        credit_account_id=credit.pk,
        amount=amount,
        currency=debit.currency,
        code=code,
        memo=memo[:200],
    )
    return _write_one(row, [debit.pk, credit.pk], expected, None)


def _resolve(*, transfer_id: str, pending_id: str, kind: str, amount: int | None) -> Transfer:
    _check_id(transfer_id)
    existing = Transfer.objects.filter(pk=transfer_id).first()
    if existing is not None:
        expected_existing: dict[str, object] = {"kind": kind, "pending_id": pending_id}
        if amount is not None:
            expected_existing["amount"] = amount
        return _same_or_raise(existing, expected_existing)
    pending = Transfer.objects.filter(pk=pending_id).first()
    if pending is None:
        raise AppError(
            "pending_not_found",
            _("There is no pending transfer '%(pending_id)s'.") % {"pending_id": pending_id},
            status=404,
        )
    if pending.kind != Transfer.Kind.PENDING:
        raise AppError(
            "not_pending",
            _("The transfer '%(pending_id)s' is %(kind)s, not pending; only a pending one resolves.")
            % {"pending_id": pending_id, "kind": pending.kind},
        )
    if kind == Transfer.Kind.VOID_PENDING or amount is None:
        amount = pending.amount
    elif not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= pending.amount:
        raise AppError(
            "invalid_amount",
            _("A post of '%(pending_id)s' must be between 0 and the reserved %(amount)s minor units.")
            % {"pending_id": pending_id, "amount": pending.amount},
        )
    expected: dict[str, object] = {"kind": kind, "pending_id": pending_id, "amount": amount}
    row = TransferRow(
        id=transfer_id,
        kind=kind,
        debit_account_id=pending.debit_account_id,
        credit_account_id=pending.credit_account_id,
        amount=amount,
        currency=pending.currency,
        code=pending.code,
        pending_id=pending.pk,
    )
    return _write_one(row, [pending.debit_account_id, pending.credit_account_id], expected, pending)


def post_pending(*, transfer_id: str, pending_id: str, amount: int | None = None) -> Transfer:
    """Posts the pending transfer ``pending_id``: ``amount`` (default: all of it)
    moves for good and the rest of the reservation returns to the debit account.

    Exactly once: a second resolution of the same pending transfer under another
    id raises ``AppError("pending_already_resolved", 409)``; the same call again
    returns the same transfer. Also raises ``pending_not_found`` (404),
    ``not_pending`` and ``invalid_amount`` (more than was reserved).
    """
    return _resolve(transfer_id=transfer_id, pending_id=pending_id, kind=Transfer.Kind.POST_PENDING, amount=amount)


def void_pending(*, transfer_id: str, pending_id: str) -> Transfer:
    """Voids the pending transfer ``pending_id``: the whole reservation returns.

    Exactly once, with the same errors as ``post_pending``.
    """
    return _resolve(transfer_id=transfer_id, pending_id=pending_id, kind=Transfer.Kind.VOID_PENDING, amount=None)
