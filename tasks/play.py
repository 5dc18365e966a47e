"""The sandbox's play money (issue 24.6): each organisation's play-money book.

A sandbox batch moves play money exactly as a real batch moves money in the ledger, through
the same seam (``tasks.books``): publishing reserves reward + fee per slot from the book's
available play money (``play_reserve_slots``, all or nothing, refused without enough), an
approval pays the reservation to the tester and the fee (``play_settle``, a partial share
returning the rest), a return voids it (``play_return``) and a bonus pays from available
(``play_bonus``). The organisation starts with ``OPENING`` (as MTurk's sandbox gave 10,000.00)
and tops it up with more (``play_top_up``).

None of it is ledger money: the rows live in ``PlayBook`` and ``PlayTransfer``, which no
statement, export, payout, dividend or reconciliation reads. The same guarantees hold as for
real money: every move is one keyed, append-only transfer applied to the book's totals in
the same transaction (the database keeps the totals balanced and never negative); a
reservation resolves exactly once (one-to-one ``pending``); repeating a call with the same
key changes nothing; a refusal writes nothing. ``play_book_check`` recomputes a book from
its transfers to prove it."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from core.audit import audit_record
from core.errors import AppError
from core.money import format_amount, platform_currency, share
from tasks.models import PlayBook, PlayTransfer

FULL_SHARE = 10_000
# What a new book opens with: 10,000.00 of play money, as MTurk's sandbox showed.
OPENING = 10_000_00
# A top-up at a time, and the most a book may hold available after one.
MAX_TOP_UP = 10_000_00
MAX_AVAILABLE = 100_000_00


@dataclass(frozen=True, slots=True)
class PlaySlot:
    key: str  # the slot's escrow key, e.g. "assignment:42"
    reward: int
    fee: int


@dataclass(frozen=True)
class PlayBalance:
    available: int
    held: int
    paid: int
    fees: int
    issued: int
    currency: str


def _pending_id(key: str) -> str:
    return f"play:{key}"


def play_balance(*, organisation: Organisation) -> PlayBalance:
    """The organisation's play money (the opening amount if the sandbox was never used);
    a read, never a write."""
    book = PlayBook.objects.filter(organisation=organisation).first()
    if book is None:
        return PlayBalance(OPENING, 0, 0, 0, OPENING, platform_currency())
    return PlayBalance(book.available, book.held, book.paid, book.fees, book.issued, book.currency)


def _open_book(organisation: Organisation) -> PlayBook:
    """The organisation's book, locked until the caller's transaction ends; opened with
    ``OPENING`` the first time (two first uses at once open it once)."""
    book = PlayBook.objects.select_for_update().filter(organisation=organisation).first()
    if book is not None:
        return book
    try:
        with transaction.atomic():
            book = PlayBook.objects.create(
                organisation=organisation,
                currency=platform_currency(),
                issued=OPENING,
                available=OPENING,
            )
            PlayTransfer.objects.create(
                id=f"play:organisation:{organisation.pk}:opening",
                book=book,
                kind=PlayTransfer.Kind.ISSUE,
                amount=OPENING,
            )
    except IntegrityError:
        pass  # opened by a concurrent first use: read it under the lock below
    return PlayBook.objects.select_for_update().get(organisation=organisation)


def _apply(book_id: int, **deltas: int) -> None:
    """Adds ``deltas`` to the book's totals in one UPDATE; the database refuses a result
    that is negative or unbalanced."""
    changes = {name: F(name) + amount for name, amount in deltas.items() if amount}
    if changes:
        PlayBook.objects.filter(pk=book_id).update(**changes)


def _insufficient(book: PlayBook, needed: int) -> AppError:
    missing = needed - book.available
    return AppError(
        "insufficient_play_money",
        _(
            "The sandbox has %(available)s of play money; this needs %(needed)s. Top up play money on the "
            "organisation's Sandbox page (it costs nothing)."
        )
        % {"available": format_amount(book.available, book.currency), "needed": format_amount(needed, book.currency)},
        status=409,
        details={"available": book.available, "needed": needed, "missing": missing},
    )


def play_reserve_slots(*, organisation: Organisation, slots: Sequence[PlaySlot]) -> None:
    """Holds reward + fee of every slot from the organisation's available play money, all
    or nothing: without enough it raises ``insufficient_play_money`` (409) and writes
    nothing. A slot already held with the same amounts is left as it is; with other
    amounts it is ``transfer_id_reused`` (409). Locks the book until the transaction ends."""
    if not slots:
        return
    keys = [slot.key for slot in slots]
    if len(set(keys)) != len(keys):
        raise AppError("invalid", _("Each escrow slot needs its own key."))
    with transaction.atomic():
        book = _open_book(organisation)
        existing = {row.pk: row for row in PlayTransfer.objects.filter(pk__in=[_pending_id(key) for key in keys])}
        new: list[PlayTransfer] = []
        for slot in slots:
            amount = slot.reward + slot.fee
            if slot.reward < 0 or slot.fee < 0 or amount <= 0:
                raise AppError(
                    "invalid_amount", _("Slot %(key)s reserves nothing; a slot must pay a reward.") % {"key": slot.key}
                )
            old = existing.get(_pending_id(slot.key))
            if old is not None:
                if (old.kind, old.book_id, old.amount, old.fee_part) != (
                    PlayTransfer.Kind.RESERVE,
                    book.pk,
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
            new.append(
                PlayTransfer(
                    id=_pending_id(slot.key),
                    book=book,
                    kind=PlayTransfer.Kind.RESERVE,
                    amount=amount,
                    fee_part=slot.fee,
                )
            )
        total = sum(row.amount for row in new)
        if total > book.available:
            raise _insufficient(book, total)
        PlayTransfer.objects.bulk_create(new, batch_size=2000)
        _apply(book.pk, available=-total, held=total)


def _not_found(keys: list[str]) -> AppError:
    return AppError(
        "escrow_not_found",
        _("No escrow was reserved for %(shown)s; a slot must be reserved at publishing before it is paid.")
        % {"shown": ", ".join(keys[:5])},
        status=404,
        details={"keys": keys[:100]},
    )


def _returned(key: str) -> AppError:
    return AppError(
        "escrow_returned",
        _("The escrow of %(key)s was already returned to the requester; it cannot be paid any more.") % {"key": key},
        status=409,
        details={"key": key},
    )


def _pendings(keys: Sequence[str]) -> dict[str, PlayTransfer]:
    """The reservations of ``keys``, by key, each with its resolution if any (one query)."""
    rows = PlayTransfer.objects.filter(pk__in=[_pending_id(key) for key in keys], kind=PlayTransfer.Kind.RESERVE)
    found = {row.pk.removeprefix("play:"): row for row in rows}
    resolutions = {
        row.pending_id: row for row in PlayTransfer.objects.filter(pending_id__in=[r.pk for r in found.values()])
    }
    for row in found.values():
        row.resolved = resolutions.get(row.pk)  # type: ignore[attr-defined]
    return found


def _lock_books(book_ids: Iterable[int]) -> None:
    """Locks the books in id order (a fixed order: two settlements never wait on each other)."""
    list(PlayBook.objects.select_for_update().filter(pk__in=sorted(set(book_ids))).order_by("pk").values_list("pk"))


def _post(pending: PlayTransfer, key: str, worker: User, share_bps: int) -> tuple[PlayTransfer, dict[str, int]]:
    reward, fee = pending.amount - pending.fee_part, pending.fee_part
    if share_bps != FULL_SHARE:
        reward, fee = share(reward, share_bps, FULL_SHARE), share(fee, share_bps, FULL_SHARE)
    row = PlayTransfer(
        id=f"{pending.pk}:post",
        book_id=pending.book_id,
        kind=PlayTransfer.Kind.POST,
        amount=reward + fee,
        fee_part=fee,
        pending=pending,
        worker=worker,
    )
    return row, {"held": -pending.amount, "paid": reward, "fees": fee, "available": pending.amount - reward - fee}


def play_settle(*, key: str, worker: User, share_bps: int = FULL_SHARE) -> None:
    """Pays the slot ``key``'s play money: ``share_bps`` of the reward to ``worker`` and the
    same share of the fee; the rest returns to available. Exactly once: the same settlement
    again is a no-op; another (other share or worker) is ``escrow_already_settled`` and after
    a return ``escrow_returned`` (409); a key never reserved is ``escrow_not_found`` (404)."""
    if not isinstance(share_bps, int) or not 1 <= share_bps <= FULL_SHARE:
        raise AppError(
            "invalid_share",
            _("A share is 1 to 10000 basis points of the reward; to pay nothing, return the escrow instead."),
        )
    with transaction.atomic():
        pending = _pendings([key]).get(key)
        if pending is None:
            raise _not_found([key])
        _lock_books([pending.book_id])
        pending = _pendings([key])[key]  # read again under the lock
        row, deltas = _post(pending, key, worker, share_bps)
        resolved: PlayTransfer | None = pending.resolved  # type: ignore[attr-defined]
        if resolved is not None:
            if resolved.kind == PlayTransfer.Kind.VOID:
                raise _returned(key)
            if (resolved.amount, resolved.worker_id) == (row.amount, worker.pk):
                return
            raise AppError(
                "escrow_already_settled",
                _("The escrow of %(key)s was already paid out with a different share or to another worker.")
                % {"key": key},
                status=409,
                details={"key": key},
            )
        row.save(force_insert=True)
        _apply(pending.book_id, **deltas)


def play_settle_many(*, items: list[tuple[str, User]]) -> int:
    """Pays many slots in full at once (the bulk approval), all or nothing: slots already
    paid are skipped, an unknown key is ``escrow_not_found`` and a returned one
    ``escrow_returned``, with nothing written. Returns how many were paid now."""
    if not items:
        return 0
    worker_of: dict[str, User] = {}
    for key, worker in items:
        if worker_of.setdefault(key, worker).pk != worker.pk:
            raise AppError("invalid", _("Slot %(key)s is listed twice with different workers.") % {"key": key})
    keys = list(worker_of)
    with transaction.atomic():
        pendings = _pendings(keys)
        missing = [key for key in keys if key not in pendings]
        if missing:
            raise _not_found(missing)
        _lock_books(row.book_id for row in pendings.values())
        pendings = _pendings(keys)
        returned = [
            key
            for key, row in pendings.items()
            if row.resolved is not None and row.resolved.kind == PlayTransfer.Kind.VOID  # type: ignore[attr-defined]
        ]
        if returned:
            raise AppError(
                "escrow_returned",
                _("%(amount)s of these slots were already returned to the requester (%(returned)s); none was paid.")
                % {"amount": len(returned), "returned": ", ".join(returned[:5])},
                status=409,
                details={"keys": returned[:100]},
            )
        rows: list[PlayTransfer] = []
        totals: dict[int, dict[str, int]] = {}
        for key in keys:
            pending = pendings[key]
            if pending.resolved is not None:  # type: ignore[attr-defined]
                continue
            row, deltas = _post(pending, key, worker_of[key], FULL_SHARE)
            rows.append(row)
            book_totals = totals.setdefault(pending.book_id, {})
            for name, amount in deltas.items():
                book_totals[name] = book_totals.get(name, 0) + amount
        PlayTransfer.objects.bulk_create(rows, batch_size=2000)
        for book_id, deltas in totals.items():
            _apply(book_id, **deltas)
    return len(rows)


def play_return(*, key: str) -> None:
    """Returns the slot ``key``'s whole reservation to available play money (a final
    rejection, a slot withdrawn). Exactly once: a repeat is a no-op; after a payment it is
    ``escrow_settled`` (409); a key never reserved is ``escrow_not_found`` (404)."""
    with transaction.atomic():
        pending = _pendings([key]).get(key)
        if pending is None:
            raise _not_found([key])
        _lock_books([pending.book_id])
        pending = _pendings([key])[key]
        resolved: PlayTransfer | None = pending.resolved  # type: ignore[attr-defined]
        if resolved is not None:
            if resolved.kind == PlayTransfer.Kind.VOID:
                return
            raise AppError(
                "escrow_settled",
                _("The escrow of %(key)s was already paid out; it cannot be returned.") % {"key": key},
                status=409,
                details={"key": key},
            )
        PlayTransfer.objects.create(
            id=f"{pending.pk}:void",
            book_id=pending.book_id,
            kind=PlayTransfer.Kind.VOID,
            amount=pending.amount,
            pending=pending,
        )
        _apply(pending.book_id, held=-pending.amount, available=pending.amount)


def play_status(keys: Sequence[str]) -> dict[str, str]:
    """``"pending"``, ``"posted"`` or ``"voided"`` for each key reserved in play money (keys
    never reserved are absent), as ``ledger.escrow.escrow_status`` answers for real money."""
    ids = {_pending_id(key): key for key in keys}
    status: dict[str, str] = {}
    for start in range(0, len(ids), 10_000):
        chunk = list(ids)[start : start + 10_000]
        rows = PlayTransfer.objects.filter(Q(id__in=chunk) | Q(pending_id__in=chunk)).values_list(
            "id", "pending_id", "kind"
        )
        for transfer_id, pending_id, kind in rows:
            if kind == PlayTransfer.Kind.RESERVE:
                status.setdefault(ids[transfer_id], "pending")
            elif kind == PlayTransfer.Kind.POST:
                status[ids[pending_id]] = "posted"
            elif kind == PlayTransfer.Kind.VOID:
                status[ids[pending_id]] = "voided"
    return status


def play_bonus(*, organisation: Organisation, worker: User, amount: int, key: str) -> None:
    """Pays a bonus of play money from available to ``worker``, once per ``key`` (a repeat
    with the same amount and worker is a no-op, another is ``transfer_id_reused``).
    ``insufficient_play_money`` (409) writes nothing."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise AppError("invalid_amount", _("A bonus must be more than zero."))
    transfer_id = f"play:bonus:{key}"
    with transaction.atomic():
        book = _open_book(organisation)
        existing = PlayTransfer.objects.filter(pk=transfer_id).first()
        if existing is not None:
            if (existing.book_id, existing.amount, existing.worker_id) != (book.pk, amount, worker.pk):
                raise AppError("transfer_id_reused", _("That key was used for a different bonus."), status=409)
            return
        if amount > book.available:
            raise _insufficient(book, amount)
        PlayTransfer.objects.create(
            id=transfer_id, book=book, kind=PlayTransfer.Kind.BONUS, amount=amount, worker=worker
        )
        _apply(book.pk, available=-amount, paid=amount)


def play_top_up(*, organisation: Organisation, actor: User, amount: int, token: str) -> PlayTransfer:
    """Adds ``amount`` of play money to the organisation's sandbox, for ``actor`` (whom
    ``tasks.services.sandbox.sandbox_top_up`` checked). Once per ``token`` (a form's or a
    client's idempotency key): the same token again answers the same top-up, with another
    amount it is ``token_reused`` (409). Refused
    with ``invalid`` for an amount outside 0.01 to ``MAX_TOP_UP`` or one that would take the
    available play money past ``MAX_AVAILABLE``; nothing is written then."""
    currency = platform_currency()
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_TOP_UP:
        message = _("Top up between %(low)s and %(high)s of play money at a time.") % {
            "low": format_amount(1, currency),
            "high": format_amount(MAX_TOP_UP, currency),
        }
        raise AppError("invalid", message, fields={"amount": [message]})
    token = token.strip()
    if not token or len(token) > 64:
        raise AppError(
            "invalid", _("A top-up needs a token of 1 to 64 characters."), fields={"token": [_("Required.")]}
        )
    transfer_id = f"play:organisation:{organisation.pk}:top-up:{token}"
    with transaction.atomic():
        book = _open_book(organisation)
        existing = PlayTransfer.objects.filter(pk=transfer_id).first()
        if existing is not None:
            if existing.amount != amount:
                raise AppError("token_reused", _("That request token was used for a different top-up."), status=409)
            return existing
        if book.available + amount > MAX_AVAILABLE:
            message = _("The sandbox holds at most %(most)s of play money available; it has %(available)s.") % {
                "most": format_amount(MAX_AVAILABLE, book.currency),
                "available": format_amount(book.available, book.currency),
            }
            raise AppError("invalid", message, fields={"amount": [message]})
        transfer = PlayTransfer.objects.create(
            id=transfer_id, book=book, kind=PlayTransfer.Kind.ISSUE, amount=amount, actor=actor
        )
        _apply(book.pk, issued=amount, available=amount)
        audit_record(actor=actor, action="sandbox.topped_up", target=organisation, after={"amount": amount})
    return transfer


def play_book_check(*, organisation: Organisation) -> list[str]:
    """What differs between the book's totals and the sum of its transfers (empty: the book
    is right), and any reservation resolved more than once."""
    book = PlayBook.objects.filter(organisation=organisation).first()
    if book is None:
        return []
    sums = {
        kind: (total or 0, fee or 0)
        for kind, total, fee in PlayTransfer.objects.filter(book=book)
        .values_list("kind")
        .annotate(total=Sum("amount"), fee=Sum("fee_part"))
        .values_list("kind", "total", "fee")
    }

    def amount(kind: str) -> int:
        return sums.get(kind, (0, 0))[0]

    reserved = amount(PlayTransfer.Kind.RESERVE)
    posted_pending = (
        PlayTransfer.objects.filter(book=book, kind=PlayTransfer.Kind.POST).aggregate(total=Sum("pending__amount"))[
            "total"
        ]
        or 0
    )
    voided = amount(PlayTransfer.Kind.VOID)
    post_fees = sums.get(PlayTransfer.Kind.POST, (0, 0))[1]
    expected = {
        "issued": amount(PlayTransfer.Kind.ISSUE),
        "held": reserved - posted_pending - voided,
        "paid": amount(PlayTransfer.Kind.POST) - post_fees + amount(PlayTransfer.Kind.BONUS),
        "fees": post_fees,
    }
    expected["available"] = expected["issued"] - expected["held"] - expected["paid"] - expected["fees"]
    problems = [
        f"{name}: book {getattr(book, name)}, transfers {value}"
        for name, value in expected.items()
        if getattr(book, name) != value
    ]
    return problems


def play_paid_by_tester(*, organisation: Organisation) -> list[tuple[User, int]]:
    """Play money paid to each of the organisation's testers (rewards and bonuses), most first."""
    rows = (
        PlayTransfer.objects.filter(book__organisation=organisation, worker__isnull=False)
        .values("worker")
        .annotate(total=Sum(F("amount") - F("fee_part")))
        .order_by("-total", "worker")
    )
    people = {user.pk: user for user in User.objects.filter(pk__in=[row["worker"] for row in rows])}
    return [(people[row["worker"]], row["total"]) for row in rows]
