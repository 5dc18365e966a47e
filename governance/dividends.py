"""The patronage dividend: a period's surplus, computed from the ledger, returned to the
members in proportion to their patronage, as the members decide by vote (issue 28).

How it runs:

1. A member proposes a dividend (``Proposal.Kind.DIVIDEND``, decided by the economic
   class): a period that has ended and an amount. ``dividend_proposal_check`` refuses an
   amount above the period's surplus, a period that overlaps one already distributed or
   proposed, and a period in which no member earned anything.
2. When the adopted proposal takes effect (``governance.services.proposal_take_effect``,
   the one place adopted decisions act on the running platform), ``dividend_decide`` checks
   again, computes the surplus and every member's share, and in the same transaction sets
   the money aside (fee income -> the dividends account, and the governed reserve -> the
   co-op reserve) and writes one ``DividendAllocation`` per member, owed.
3. ``governance.jobs.pay_dividends`` (queued on commit, and every five minutes in case the
   message was lost) pays each owed allocation in its own transaction
   (``dividend_allocation_pay``): dividends account -> the member's earnings, under a
   deterministic transfer id, so a crash between the two leaves an owed row that the next
   run pays exactly once. The money then leaves with the member's next payout.

The formulas (shown to members with their own figures by ``governance.selectors``):

    net      = fees earned - rail fees the co-op bore - juror pay       (posted in the period)
    reserve  = ceil(max(net, 0) x dividend_reserve_bps / 10 000)
    surplus  = max(net - reserve, 0)
    patronage(member) = work pay (+ bonuses and top-ups when dividend_bonuses_count is 1)
                        credited to the member's earnings in the period
    share(member) = amount x patronage(member) / total patronage, rounded down, and the minor
                    units left over go one each to the largest remainders (ties: the member who
                    joined the platform first), so the shares add up to the amount exactly.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from core.audit import audit_record
from core.errors import AppError
from core.money import format_amount, platform_currency
from core.queue import queue_on_commit
from core.rules import rule_in_force
from governance.models import Dividend, DividendAllocation, Proposal
from ledger import accounts as ledger_accounts
from ledger.escrow import CODE_BONUS, CODE_REWARD
from ledger.models import Account, Transfer
from ledger.services import transfer
from notifications.services import notify

CODE_DIVIDEND = "patronage_dividend"
CODE_DIVIDEND_SET_ASIDE = "dividend_set_aside"
CODE_DIVIDEND_RESERVE = "dividend_reserve"
RESERVE_RULE = "dividend_reserve_bps"
BONUSES_RULE = "dividend_bonuses_count"
# Proposals that may still lead to a distribution (a withdrawn, rejected or failed one cannot).
_LIVE_STATES = [
    Proposal.State.DRAFT,
    Proposal.State.DISCUSSION,
    Proposal.State.VOTING,
    Proposal.State.ADOPTED,
    Proposal.State.SCHEDULED,
]
_POSTED = [Transfer.Kind.POSTED, Transfer.Kind.POST_PENDING]


@dataclass(frozen=True, slots=True)
class Surplus:
    """A period's figures in minor units of ``currency``, as the formula above computes them."""

    period_start: date
    period_end: date
    currency: str
    fees_earned: int
    rail_fees: int
    juror_pay: int
    reserve_bps: int
    reserve: int
    surplus: int
    rule_versions: dict[str, int]

    @property
    def net(self) -> int:
        return self.fees_earned - self.rail_fees - self.juror_pay


def period_bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The period as [first day 00:00 UTC, the day after the last 00:00 UTC)."""
    return (
        datetime.combine(period_start, time.min, tzinfo=UTC),
        datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def _posted_in(period_start: date, period_end: date) -> QuerySet[Transfer]:
    start, end = period_bounds(period_start, period_end)
    return Transfer.objects.filter(kind__in=_POSTED, created_at__gte=start, created_at__lt=end)


def _sum(queryset: QuerySet[Transfer]) -> int:
    return int(queryset.aggregate(total=Sum("amount"))["total"] or 0)


def _net_debits(rows: QuerySet[Transfer], kind: str) -> int:
    """What a co-op expense account paid out in ``rows``: debits minus credits (refunds)."""
    return _sum(rows.filter(debit_account__kind=kind, debit_account__user__isnull=True)) - _sum(
        rows.filter(credit_account__kind=kind, credit_account__user__isnull=True)
    )


def surplus_compute(*, period_start: date, period_end: date) -> Surplus:
    """The period's surplus from the posted ledger rows (four aggregate queries), with the
    reserve rule in force at the end of the period. Reads only; the caller checked access."""
    rows = _posted_in(period_start, period_end)
    end = period_bounds(period_start, period_end)[1]
    dividend_codes = [CODE_DIVIDEND_SET_ASIDE, CODE_DIVIDEND_RESERVE]
    fees_earned = _sum(rows.filter(credit_account__kind=Account.Kind.COOP_FEES)) - _sum(
        rows.filter(debit_account__kind=Account.Kind.COOP_FEES).exclude(code__in=dividend_codes)
    )
    rail_fees = _net_debits(rows, Account.Kind.COOP_PAYOUT_FEES)
    juror_pay = _net_debits(rows, Account.Kind.COOP_JUROR_FEES)
    reserve_rule = rule_in_force(RESERVE_RULE, at=end)
    bonuses_rule = rule_in_force(BONUSES_RULE, at=end)
    net = fees_earned - rail_fees - juror_pay
    reserve = -(-max(net, 0) * reserve_rule.value // 10_000)
    return Surplus(
        period_start=period_start,
        period_end=period_end,
        currency=platform_currency(),
        fees_earned=fees_earned,
        rail_fees=rail_fees,
        juror_pay=juror_pay,
        reserve_bps=reserve_rule.value,
        reserve=reserve,
        surplus=max(net - reserve, 0),
        rule_versions={RESERVE_RULE: reserve_rule.version_id, BONUSES_RULE: bonuses_rule.version_id},
    )


def bonuses_count(*, period_end: date) -> bool:
    end = period_bounds(period_end, period_end)[1]
    return bool(rule_in_force(BONUSES_RULE, at=end).value)


def patronage_compute(*, period_start: date, period_end: date, user_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Each active member's patronage in the period (only members with some), in one query:
    their work pay, plus bonuses and top-ups when the governed rule says they count."""
    codes = [CODE_REWARD, CODE_BONUS] if bonuses_count(period_end=period_end) else [CODE_REWARD]
    members = Membership.objects.filter(status=Membership.Status.ACTIVE).values("user_id")
    rows = _posted_in(period_start, period_end).filter(
        code__in=codes, credit_account__kind=Account.Kind.WORKER_EARNINGS, credit_account__user_id__in=members
    )
    if user_ids is not None:
        rows = rows.filter(credit_account__user_id__in=list(user_ids))
    totals = rows.values("credit_account__user_id").annotate(total=Sum("amount"))
    return {row["credit_account__user_id"]: int(row["total"]) for row in totals if row["total"]}


def largest_remainder_allocate(*, amount: int, weights: Mapping[int, int]) -> dict[int, int]:
    """Splits ``amount`` minor units in proportion to ``weights`` (all >= 0, some > 0).

    Everyone gets ``amount * weight // total``; the units left over (fewer than the number of
    weights) go one each to the largest remainders, ties to the smaller key. The result adds
    up to ``amount`` exactly and no share differs from its exact value by a unit or more.
    """
    if amount < 0:
        raise ValueError(_("amount must not be negative"))
    if any(weight < 0 for weight in weights.values()):
        raise ValueError(_("weights must not be negative"))
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(_("at least one weight must be positive"))
    shares = {key: amount * weight // total for key, weight in weights.items()}
    remainders = {key: amount * weight % total for key, weight in weights.items()}
    left = amount - sum(shares.values())
    for key in sorted(weights, key=lambda k: (-remainders[k], k))[:left]:
        shares[key] += 1
    return shares


def _overlapping(period_start: date, period_end: date) -> Q:
    return Q(period_start__lte=period_end, period_end__gte=period_start)


def dividend_proposal_check(
    *,
    period_start: date | None,
    period_end: date | None,
    amount: int | None,
    proposal_id: int | None = None,
    now: datetime | None = None,
) -> Surplus:
    """Refuses a dividend that cannot be paid, saying why; returns the period's surplus.

    Raises ``AppError``: ``invalid`` (fields missing, a period backwards or not over yet,
    an amount not positive), ``dividend_period_taken`` (409: a dividend of an overlapping
    period was already distributed or is proposed), ``dividend_beyond_surplus`` (409,
    details: surplus), ``no_patronage`` (409: no member earned anything in the period).
    ``proposal_id`` is the proposal being checked, which does not count against itself.
    """
    fields: dict[str, list[str]] = {}
    if period_start is None:
        fields["dividend_period_start"] = [_("Give the first day of the period.")]
    if period_end is None:
        fields["dividend_period_end"] = [_("Give the last day of the period.")]
    if amount is None or isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        fields["dividend_amount"] = [_("Give the amount to distribute, more than zero.")]
    if period_start and period_end and period_end < period_start:
        fields["dividend_period_end"] = [_("The last day comes before the first day.")]
    if period_start and period_end and not fields:
        end = period_bounds(period_start, period_end)[1]
        if end > (now or timezone.now()):
            fields["dividend_period_end"] = [
                _("The period is not over yet: a dividend shares a surplus that is known in full.")
            ]
    if fields:
        raise AppError("invalid", _("The dividend needs a finished period and an amount."), fields=fields)
    assert period_start is not None and period_end is not None and amount is not None
    if Dividend.objects.filter(_overlapping(period_start, period_end)).exists():
        raise AppError(
            "dividend_period_taken",
            _("A dividend was already distributed for this period (or part of it); a period is shared out once."),
            status=409,
        )
    competing = Proposal.objects.filter(
        Q(dividend_period_start__lte=period_end, dividend_period_end__gte=period_start),
        kind=Proposal.Kind.DIVIDEND,
        state__in=_LIVE_STATES,
    )
    if proposal_id is not None:
        competing = competing.exclude(pk=proposal_id)
    if competing.exists():
        raise AppError(
            "dividend_period_taken",
            _("Another dividend proposal already covers this period (or part of it); discuss that one instead."),
            status=409,
        )
    surplus = surplus_compute(period_start=period_start, period_end=period_end)
    if amount > surplus.surplus:
        raise AppError(
            "dividend_beyond_surplus",
            _("The amount is more than the period's surplus (%(surplus)s after the reserve).")
            % {"surplus": format_amount(surplus.surplus, platform_currency())},
            status=409,
            fields={"dividend_amount": [_("At most the surplus.")]},
            details={"surplus": surplus.surplus, "reserve": surplus.reserve, "currency": surplus.currency},
        )
    if not patronage_compute(period_start=period_start, period_end=period_end):
        raise AppError(
            "no_patronage",
            _("No member earned anything through the platform in this period, so there is nobody to share with."),
            status=409,
        )
    return surplus


def dividend_decide(*, proposal: Proposal, now: datetime) -> Dividend | None:
    """Puts an adopted dividend proposal into effect, inside ``proposal_take_effect``'s
    transaction (the proposal row locked): checks again, then writes the dividend, its owed
    allocations and the two set-aside transfers, or nothing.

    A proposal that can no longer be paid (another dividend took the period meanwhile, the
    surplus shrank) changes no money: the refusal is written to the audit log and None
    returned, so the proposal still takes effect as decided and is not retried forever.
    Idempotent: a proposal that already has its dividend returns it.
    """
    existing = Dividend.objects.filter(proposal=proposal).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            surplus = dividend_proposal_check(
                period_start=proposal.dividend_period_start,
                period_end=proposal.dividend_period_end,
                amount=proposal.dividend_amount,
                proposal_id=proposal.pk,
                now=now,
            )
            return _dividend_write(proposal=proposal, surplus=surplus)
    except AppError as refused:
        audit_record(
            actor=None,
            action="dividend.refused",
            target=proposal,
            after={"code": refused.code, "message": refused.message, **refused.details},
        )
        return None


def _dividend_write(*, proposal: Proposal, surplus: Surplus) -> Dividend:
    assert proposal.dividend_amount is not None
    patronage = patronage_compute(period_start=surplus.period_start, period_end=surplus.period_end)
    shares = largest_remainder_allocate(amount=proposal.dividend_amount, weights=patronage)
    dividend = Dividend.objects.create(
        proposal=proposal,
        period_start=surplus.period_start,
        period_end=surplus.period_end,
        currency=surplus.currency,
        fees_earned=surplus.fees_earned,
        rail_fees=surplus.rail_fees,
        juror_pay=surplus.juror_pay,
        reserve_bps=surplus.reserve_bps,
        reserve=surplus.reserve,
        surplus=surplus.surplus,
        amount=proposal.dividend_amount,
        bonuses_count=bonuses_count(period_end=surplus.period_end),
        total_patronage=sum(patronage.values()),
        rule_versions=surplus.rule_versions,
    )
    fees = ledger_accounts.coop_fees()
    transfer(
        transfer_id=f"dividend:{dividend.pk}:set-aside",
        debit=fees,
        credit=ledger_accounts.coop_dividends(),
        amount=dividend.amount,
        code=CODE_DIVIDEND_SET_ASIDE,
        memo=f"proposal {proposal.pk}",
    )
    if dividend.reserve:
        transfer(
            transfer_id=f"dividend:{dividend.pk}:reserve",
            debit=fees,
            credit=ledger_accounts.coop_reserve(),
            amount=dividend.reserve,
            code=CODE_DIVIDEND_RESERVE,
            memo=f"proposal {proposal.pk}",
        )
    DividendAllocation.objects.bulk_create(
        [
            DividendAllocation(dividend=dividend, user_id=user_id, patronage=patronage[user_id], amount=shares[user_id])
            for user_id in sorted(patronage)
        ]
    )
    audit_record(
        actor=None,
        action="dividend.decided",
        target=dividend,
        after={
            "proposal": proposal.pk,
            "period": [surplus.period_start.isoformat(), surplus.period_end.isoformat()],
            "amount": dividend.amount,
            "surplus": dividend.surplus,
            "reserve": dividend.reserve,
            "members": len(patronage),
        },
    )
    queue_on_commit("governance.jobs.pay_dividends")
    return dividend


def dividend_allocation_pay(*, allocation_id: int) -> DividendAllocation:
    """Books one owed share to the member's earnings, exactly once (one transaction).

    The transfer id is ``dividend:<dividend>:member:<user>``: if a crash comes between the
    transfer and the row's update, the retry finds the same transfer and only marks the row.
    A paid allocation is returned unchanged. A zero share (a member whose patronage was too
    small for a unit) is marked paid without a transfer.
    """
    with transaction.atomic():
        allocation = DividendAllocation.objects.select_for_update().select_related("dividend").get(pk=allocation_id)
        if allocation.status == DividendAllocation.Status.PAID:
            return allocation
        transfer_id = ""
        if allocation.amount:
            transfer_id = f"dividend:{allocation.dividend_id}:member:{allocation.user_id}"
            transfer(
                transfer_id=transfer_id,
                debit=ledger_accounts.coop_dividends(),
                credit=ledger_accounts.worker_earnings(User.objects.get(pk=allocation.user_id)),
                amount=allocation.amount,
                code=CODE_DIVIDEND,
                memo=f"dividend {allocation.dividend.period_start}..{allocation.dividend.period_end}",
            )
        allocation.status = DividendAllocation.Status.PAID
        allocation.transfer_id = transfer_id
        allocation.paid_at = timezone.now()
        allocation.save(update_fields=["status", "transfer_id", "paid_at"])
        audit_record(
            actor=None,
            action="dividend.paid",
            target=allocation,
            before={"status": DividendAllocation.Status.OWED},
            after={"status": DividendAllocation.Status.PAID, "amount": allocation.amount, "transfer": transfer_id},
        )
        if allocation.amount:
            notify(
                users=[allocation.user_id],
                category="dividend_paid",
                params={
                    "amount": format_amount(allocation.amount, allocation.dividend.currency),
                    "period_start": allocation.dividend.period_start.isoformat(),
                    "period_end": allocation.dividend.period_end.isoformat(),
                },
                url="/coop/dividends/",
            )
    return allocation


def dividends_ledger_check() -> list[str]:
    """``ledger_verify``'s check of the dividends against the ledger: each dividend's shares
    add up to its amount; every paid share has its transfer of the same amount; the dividends
    account holds exactly what is still owed."""
    problems: list[str] = []
    for dividend in Dividend.objects.all():
        shared = DividendAllocation.objects.filter(dividend=dividend).aggregate(total=Sum("amount"))["total"] or 0
        if shared != dividend.amount:
            problems.append(
                _("dividend %(number)s: shares add up to %(shared)s, not %(amount)s")
                % {"number": dividend.pk, "shared": shared, "amount": dividend.amount}
            )
    paid = DividendAllocation.objects.filter(status=DividendAllocation.Status.PAID, amount__gt=0)
    transfers = dict(
        Transfer.objects.filter(code=CODE_DIVIDEND, pk__in=paid.values("transfer_id")).values_list("pk", "amount")
    )
    for allocation in paid:
        if transfers.get(allocation.transfer_id) != allocation.amount:
            problems.append(
                _("dividend share %(number)s is paid but its transfer %(transfer_id)s differs")
                % {"number": allocation.pk, "transfer_id": repr(allocation.transfer_id)}
            )
    owed = DividendAllocation.objects.filter(status=DividendAllocation.Status.OWED).aggregate(total=Sum("amount"))
    account = Account.objects.filter(kind=Account.Kind.COOP_DIVIDENDS, currency=platform_currency()).first()
    held = account.credits_posted - account.debits_posted if account else 0
    if held != int(owed["total"] or 0):
        problems.append(
            _("the dividends account holds %(held)s but the shares still owed add up to %(value)s")
            % {"held": held, "value": owed["total"] or 0}
        )
    return problems


LEDGER_CHECKS = (dividends_ledger_check,)
