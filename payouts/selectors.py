"""Reads of payouts, each scoped to its owner (or to the treasurer), and the
worker's statement computed from the ledger, the single source of truth."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import user_is_treasurer
from core.errors import NotFound, PermissionDenied
from core.money import format_amount, platform_currency, to_major
from governance.selectors import rule_in_force
from ledger.models import Account, Transfer
from ledger.selectors import worker_balance
from payouts import rails
from payouts.models import ConnectedAccount, Payout, PayoutMethod, PayoutRun, PayoutSchedule, SepaBatch

FLOOR_RULE = "payout_minimum_floor"


# -- the worker's own -------------------------------------------------------------------


def payout_methods_for_worker(*, user: User) -> QuerySet[PayoutMethod]:
    """Every method the worker has had, the current one (not retired) first."""
    return PayoutMethod.objects.filter(user=user).order_by(F("retired_at").desc(nulls_first=True), "-id")


def worker_country(*, user: User) -> str:
    """The worker's country (upper case) from their profile; "" when not set."""
    from accounts.models import WorkerProfile

    country = WorkerProfile.objects.filter(user=user).values_list("country", flat=True).first()
    return (country or "").upper()


def payout_method_current(*, user: User) -> PayoutMethod | None:
    return PayoutMethod.objects.filter(user=user, retired_at__isnull=True).first()


def connected_account_for_worker(*, user: User) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(user=user).first()


@dataclass(frozen=True, slots=True)
class ScheduleView:
    frequency: str
    minimum_amount: int
    floor: int
    floor_rule_version_id: int
    is_default: bool


def schedule_for(*, user: User) -> ScheduleView:
    """The worker's schedule; without one, weekly from the governed floor in force."""
    floor = rule_in_force(FLOOR_RULE)
    schedule = PayoutSchedule.objects.filter(user=user).first()
    if schedule is None:
        return ScheduleView(
            frequency=PayoutSchedule.Frequency.WEEKLY,
            minimum_amount=floor.value,
            floor=floor.value,
            floor_rule_version_id=floor.version_id,
            is_default=True,
        )
    return ScheduleView(
        frequency=schedule.frequency,
        # A floor raised by a vote after the worker chose applies from then on.
        minimum_amount=max(schedule.minimum_amount, floor.value),
        floor=floor.value,
        floor_rule_version_id=floor.version_id,
        is_default=False,
    )


@dataclass(frozen=True, slots=True)
class PayoutBalance:
    currency: str
    available: int  # can be paid out now
    on_the_way: int  # reserved by payouts not yet paid
    not_ready_reason: str  # empty when the current method can be paid


def payout_balance(*, user: User) -> PayoutBalance:
    figures = worker_balance(user=user)
    method = payout_method_current(user=user)
    if method is None:
        reason = _("Choose a payout method to be paid.")
    else:
        reason = rails.rail_get(method.rail).not_ready_reason(method=method)
    return PayoutBalance(
        currency=figures.currency if figures else platform_currency(),
        available=figures.available if figures else 0,
        on_the_way=figures.debits_pending if figures else 0,
        not_ready_reason=reason,
    )


def payouts_for_worker(*, user: User) -> QuerySet[Payout]:
    return Payout.objects.filter(user=user).order_by("-created_at", "-id")


def access_payout(*, user: User, payout_id: int) -> Payout:
    """The worker's own payout; ``NotFound`` for anyone else's."""
    payout = payouts_for_worker(user=user).filter(pk=payout_id).first()
    if payout is None:
        raise NotFound("payout")
    return payout


# -- payout runs ----------------------------------------------------------------------


def payout_run_candidates(*, frequency: str, floor: int, run: PayoutRun) -> Iterator[User]:
    """Workers on ``frequency`` (workers without a schedule are weekly) with a current
    method of an enabled rail, whose available balance reached max(their minimum,
    ``floor``), and not yet paid in ``run``. One query, streamed."""
    default_frequency = PayoutSchedule.Frequency.WEEKLY
    current_method = PayoutMethod.objects.filter(
        user_id=OuterRef("user_id"), retired_at__isnull=True, rail__in=rails.enabled_rail_names()
    )
    already_paid = Payout.objects.filter(user_id=OuterRef("user_id"), run=run)
    user_ids = (
        Account.objects.filter(kind=Account.Kind.WORKER_EARNINGS, currency=platform_currency())
        .annotate(
            available=F("credits_posted") - F("debits_posted") - F("debits_pending"),
            threshold=Greatest(Coalesce("user__payout_schedule__minimum_amount", Value(floor)), Value(floor)),
            chosen=Coalesce("user__payout_schedule__frequency", Value(default_frequency)),
        )
        .filter(Exists(current_method), ~Exists(already_paid), chosen=frequency, available__gte=F("threshold"))
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    ids = list(user_ids)
    for start in range(0, len(ids), 500):
        yield from User.objects.filter(pk__in=ids[start : start + 500]).order_by("pk")


# -- statements -------------------------------------------------------------------------

_CREDIT_KINDS = {
    "escrow_reward": ("earning", gettext_lazy("Approved work")),
    "bonus": ("bonus", gettext_lazy("Bonus from a requester")),
    "juror_fee": ("reward", gettext_lazy("Juror fee")),
    "patronage_dividend": ("reward", gettext_lazy("Patronage dividend")),
    "payout_returned": ("payout_returned", gettext_lazy("Payout returned by the bank")),
}
# A fair-pay top-up is a bonus the co-op's review owed (``tasks.services.fair_pay``), not one a
# requester chose: its transfer is ``bonus:topup:assignment:<id>``.
_TOP_UP_PREFIX = "bonus:topup:"


@dataclass(frozen=True, slots=True)
class StatementLine:
    at: datetime
    kind: str  # earning | bonus | reward | payout | payout_paid | payout_failed | payout_returned | other
    description: str
    amount: int  # the change to the available balance (minor units, signed)
    balance: int  # the available balance after this line
    reference: str  # the ledger transfer id


@dataclass(frozen=True, slots=True)
class Statement:
    currency: str
    opening_balance: int
    closing_balance: int
    lines: list[StatementLine] = field(default_factory=list)


def _payout_id(transfer_id: str) -> int | None:
    parts = transfer_id.split(":")
    return int(parts[1]) if len(parts) >= 2 and parts[0] == "payout" and parts[1].isdigit() else None


def _effect(
    *,
    transfer_id: str,
    kind: str,
    is_debit: bool,
    amount: int,
    reserved: int,
    code: str,
    memo: str,
    payouts: dict[int, Payout],
) -> tuple[str, str, int]:
    """(kind, description, change to available) of one transfer on the worker's earnings,
    written in the active language from the stored figures (each a whole sentence)."""
    payout = payouts.get(_payout_id(transfer_id) or -1)
    change = -amount if is_debit else amount
    if kind == Transfer.Kind.PENDING and transfer_id.endswith(":fee"):
        if payout is None:
            return "payout_fee", _("Payout service fee"), change
        return "payout_fee", _("Payout #%(number)s: the payout service's fee") % {"number": payout.pk}, change
    if kind == Transfer.Kind.PENDING:
        if payout is None:
            return "payout", _("Payout"), change
        figures = {"number": payout.pk, "account": payout.display}
        if _converted(payout) and payout.destination_amount is not None:
            text = _("Payout #%(number)s to %(account)s (estimated %(amount)s at %(rate)s %(to)s per %(from)s)") % {
                **figures,
                "amount": format_amount(payout.destination_amount, payout.destination_currency),
                "rate": formats.localize(payout.rate),
                "to": payout.destination_currency,
                "from": payout.currency,
            }
        else:
            text = _("Payout #%(number)s to %(account)s") % figures
        return "payout", text, change
    if kind == Transfer.Kind.POST_PENDING:
        # The reservation made it leave for good; only an unposted remainder comes back.
        if payout is None:
            return "payout_paid", _("Payout paid"), reserved - amount
        figures = {"number": payout.pk, "account": payout.display}
        if _converted(payout) and payout.arrived_amount is not None and not transfer_id.endswith(":fee:post"):
            text = _("Payout #%(number)s paid to %(account)s: %(amount)s arrived") % {
                **figures,
                "amount": format_amount(payout.arrived_amount, payout.destination_currency),
            }
        else:
            text = _("Payout #%(number)s paid to %(account)s") % figures
        return "payout_paid", text, reserved - amount
    if kind == Transfer.Kind.VOID_PENDING:
        if payout is None:
            return "payout_failed", _("Payout failed, returned to your balance"), reserved
        reason = payout.failure_text
        if reason:
            text = _("Payout #%(number)s failed, returned to your balance: %(reason)s") % {
                "number": payout.pk,
                "reason": reason,
            }
        else:
            text = _("Payout #%(number)s failed, returned to your balance") % {"number": payout.pk}
        return "payout_failed", text, reserved
    line_kind, label = _CREDIT_KINDS.get(code, ("other", code.replace("_", " ").capitalize()))
    text = str(label)
    if code == "payout_returned" and payout:
        text = _("Payout #%(number)s returned by the bank: %(reason)s") % {
            "number": payout.pk,
            "reason": payout.failure_text,
        }
    elif transfer_id.startswith(_TOP_UP_PREFIX):
        text = _("Fair-pay top-up")
    elif line_kind in ("earning", "bonus") and (source := _source_words(memo)):
        text = f"{text} ({source})"
    return line_kind, text, change


def _source_words(memo: str) -> str:
    """What an earning was for, in words: the ledger's memo is its escrow key
    (``assignment:<id>``, ``qualification-test:<id>``), an internal name no page shows."""
    kind, _sep, number = memo.partition(":")
    if not number.isdigit():
        return ""
    if kind == "assignment":
        return _("task #%(number)s") % {"number": number}
    if kind == "qualification-test":
        return _("a paid qualification test")
    return ""


def _converted(payout: Payout) -> bool:
    return bool(payout.destination_currency and payout.destination_currency != payout.currency)


def worker_statement(*, user: User, start: datetime | None = None, end: datetime | None = None) -> Statement:
    """Every movement of the worker's balance in ``[start, end)``, oldest first, with
    the running available balance: earnings, bonuses, fee-free rewards, payouts,
    and failed or returned payouts with the reason. Read from the ledger."""
    account = Account.objects.filter(kind=Account.Kind.WORKER_EARNINGS, user=user).first()
    currency = account.currency if account else platform_currency()
    if account is None:
        return Statement(currency=currency, opening_balance=0, closing_balance=0)
    rows = list(
        Transfer.objects.filter(Q(debit_account_id=account.pk) | Q(credit_account_id=account.pk)).values_list(
            "id", "kind", "debit_account_id", "amount", "code", "memo", "created_at", "pending_id"
        )
    )
    rows.sort(key=lambda row: (row[6], row[0]))
    reserved_of = dict(Transfer.objects.filter(pk__in=[row[7] for row in rows if row[7]]).values_list("id", "amount"))
    payout_ids = {pid for pid in (_payout_id(row[0]) for row in rows) if pid is not None}
    payouts = {payout.pk: payout for payout in Payout.objects.filter(pk__in=payout_ids)}
    opening = running = 0
    lines: list[StatementLine] = []
    for transfer_id, kind, debit_id, amount, code, memo, at, pending_id in rows:
        line_kind, description, change = _effect(
            transfer_id=transfer_id,
            kind=kind,
            is_debit=debit_id == account.pk,
            amount=amount,
            reserved=reserved_of.get(pending_id, 0) if pending_id else 0,
            code=code,
            memo=memo,
            payouts=payouts,
        )
        if end is not None and at >= end:
            break
        running += change
        if start is not None and at < start:
            opening = running
            continue
        lines.append(StatementLine(at, line_kind, description, change, running, transfer_id))
    return Statement(currency=currency, opening_balance=opening, closing_balance=running, lines=lines)


CSV_HEADER = ["date", "kind", "description", "amount", "balance", "currency", "reference"]


def statement_csv(statement: Statement) -> Iterable[str]:
    """The statement as CSV rows (amounts in major units, e.g. ``12.50``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield flush()
    for line in statement.lines:
        # A leading =, +, - or @ would make a spreadsheet run the description as a formula.
        description = "'" + line.description if line.description[:1] in "=+-@" else line.description
        writer.writerow(
            [
                line.at.isoformat(),
                line.kind,
                description,
                str(to_major(line.amount, statement.currency)),
                str(to_major(line.balance, statement.currency)),
                statement.currency,
                line.reference,
            ]
        )
        yield flush()


@dataclass(frozen=True, slots=True)
class YearlyStatement:
    year: int
    currency: str
    opening_balance: int
    closing_balance: int
    earnings: int  # approved work
    bonuses: int
    rewards: int  # juror fees, wage top-ups, dividends: paid without a platform fee
    paid_out: int  # payouts paid (net of those returned)
    payouts_paid: int
    payouts_failed: int
    total_earned: int


def worker_yearly_statement(*, user: User, year: int) -> YearlyStatement:
    """The worker's earnings statement for calendar ``year`` (UTC)."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    statement = worker_statement(user=user, start=start, end=end)
    totals: dict[str, int] = {}
    counts: dict[str, int] = {}
    for line in statement.lines:
        totals[line.kind] = totals.get(line.kind, 0) + line.amount
        counts[line.kind] = counts.get(line.kind, 0) + 1
    paid_payouts = Payout.objects.filter(user=user, state=Payout.State.PAID, paid_at__gte=start, paid_at__lt=end)
    returned = totals.get("payout_returned", 0)
    earnings, bonuses, rewards = totals.get("earning", 0), totals.get("bonus", 0), totals.get("reward", 0)
    return YearlyStatement(
        year=year,
        currency=statement.currency,
        opening_balance=statement.opening_balance,
        closing_balance=statement.closing_balance,
        earnings=earnings,
        bonuses=bonuses,
        rewards=rewards,
        paid_out=sum(p.amount for p in paid_payouts) - returned,
        payouts_paid=paid_payouts.count(),
        payouts_failed=counts.get("payout_failed", 0) + counts.get("payout_returned", 0),
        total_earned=earnings + bonuses + rewards + totals.get("other", 0),
    )


# -- the treasurer ----------------------------------------------------------------------


def _require_treasurer(user: User) -> None:
    if not user_is_treasurer(user):
        raise PermissionDenied(_("Only the treasurer can see payout batches."))


def sepa_batches_for_treasurer(*, user: User) -> QuerySet[SepaBatch]:
    _require_treasurer(user)
    return SepaBatch.objects.order_by("-created_at", "-id")


def payout_runs_for_treasurer(*, user: User) -> QuerySet[PayoutRun]:
    """Scheduled payout runs, newest first; an unfinished one is still paying workers."""
    _require_treasurer(user)
    return PayoutRun.objects.order_by("-started_at", "-id")


@dataclass(frozen=True, slots=True)
class RailSummary:
    rail: str
    label: str
    configured: bool
    missing_settings: tuple[str, ...]
    # {state: (count, total amount, total fees)} in the platform currency.
    states: dict[str, tuple[int, int, int]]


def payouts_by_rail_for_treasurer(*, user: User) -> list[RailSummary]:
    """Every rail with its payouts counted and summed by state (one query), and
    whether the rail is configured here (with the variables still to set)."""
    from django.db.models import Count, Sum

    _require_treasurer(user)
    figures: dict[str, dict[str, tuple[int, int, int]]] = {}
    for row in Payout.objects.values("rail", "state").annotate(n=Count("id"), total=Sum("amount"), fees=Sum("fee")):
        figures.setdefault(row["rail"], {})[row["state"]] = (row["n"], row["total"] or 0, row["fees"] or 0)
    summaries = []
    for rail in rails.RAILS.values():
        missing = tuple(name for name in rail.required_settings if not getattr(settings, name, ""))
        summaries.append(
            RailSummary(
                rail=rail.name,
                label=str(rail.label),
                configured=rail.configured(),
                missing_settings=missing,
                states={state: figures.get(rail.name, {}).get(state, (0, 0, 0)) for state in Payout.State.values},
            )
        )
    return summaries


def treasury_access_sepa_batch(*, user: User, batch_id: int) -> SepaBatch:
    batch = sepa_batches_for_treasurer(user=user).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("payout batch")
    return batch


def treasury_access_sepa_payment(*, user: User, batch: SepaBatch, payout_id: int) -> Payout:
    _require_treasurer(user)
    payout = batch.payouts.filter(pk=payout_id).first()
    if payout is None:
        raise NotFound("payment in this batch")
    return payout
