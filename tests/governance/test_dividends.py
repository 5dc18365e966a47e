"""The patronage dividend (issue 28 point 1): the surplus from a fixed ledger, shares by
largest remainder, the vote-to-payout path, and refusals that change nothing."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Membership, User
from core.errors import AppError
from core.models import AuditEvent
from core.rules import rule_cache_invalidate
from governance import dividends, jobs, services
from governance.models import Dividend, DividendAllocation, Proposal, Rule, RuleVersion
from ledger import accounts
from ledger.escrow import EscrowSlot, bonus_pay, escrow_reserve_slots, escrow_settle
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from ledger.services import transfer
from notifications.models import Notification
from payouts import services as payout_services
from payouts.models import Payout
from tests.factories import MemberFactory, OrganisationFactory, UserFactory
from tests.governance.factories import after_close, to_voting, vote
from tests.ledger.factories import fund
from tests.payouts.factories import sepa_worker

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)
TODAY = datetime.now(UTC).date()
# The period "today" is over from tomorrow 00:00 UTC: every service is given that moment.
AFTER_TODAY = datetime.combine(TODAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(minutes=1)


def paid_work(worker: User, reward: int, fee: int) -> None:
    """``worker`` is paid ``reward`` for approved work and the co-op earns ``fee`` on it."""
    organisation = OrganisationFactory()
    fund(organisation, reward + fee)
    key = f"dividend-test:{next(_keys)}"
    escrow_reserve_slots(organisation=organisation, slots=[EscrowSlot(key=key, reward=reward, fee=fee)])
    escrow_settle(key=key, worker=worker)


def juror_paid(juror: User, amount: int) -> None:
    transfer(
        transfer_id=f"juror-fee:test:{next(_keys)}",
        debit=accounts.coop_juror_fees(),
        credit=accounts.worker_earnings(juror),
        amount=amount,
        code="juror_fee",
    )


def rail_fee_borne(amount: int) -> None:
    transfer(
        transfer_id=f"payout:test:{next(_keys)}:fee",
        debit=accounts.coop_payout_fees(),
        credit=accounts.external_bank(),
        amount=amount,
        code="payout_rail_fee",
    )


def fixed_ledger() -> tuple[User, User, User]:
    """Fees 100.00; rail fees 5.00; juror pay 15.00: net 80.00, reserve 20% = 16.00, surplus 64.00.
    Patronage: ana 300.00 of work + 50.00 bonus, ben 150.00, carla (not a member) 550.00."""
    ana, ben = MemberFactory(), MemberFactory()
    carla = UserFactory()
    paid_work(ana, 300_00, 30_00)
    paid_work(ben, 150_00, 15_00)
    paid_work(carla, 550_00, 55_00)
    organisation = OrganisationFactory()
    fund(organisation, 50_00)
    bonus_pay(organisation=organisation, worker=ana, amount=50_00, key=f"test-bonus:{next(_keys)}")
    rail_fee_borne(5_00)
    juror_paid(ben, 15_00)
    return ana, ben, carla


def propose(author: User, amount: int, start: date = TODAY, end: date = TODAY) -> Proposal:
    return services.proposal_create(
        author=author,
        kind=Proposal.Kind.DIVIDEND,
        title="Share out today's surplus",
        body="The co-op earned more than it spent; give it back by patronage.",
        dividend_period_start=start,
        dividend_period_end=end,
        dividend_amount=amount,
        now=AFTER_TODAY,
    )


def adopt_and_take_effect(proposal: Proposal, voters: list[User]) -> Proposal:
    proposal = to_voting(proposal, start=AFTER_TODAY)
    vote(proposal, voters, "yes")
    closed = services.proposal_close(proposal_id=proposal.pk, now=after_close(proposal))
    scheduled = services.proposal_schedule(proposal_id=closed.pk)
    assert scheduled.effective_at is not None
    return services.proposal_take_effect(proposal_id=proposal.pk, now=scheduled.effective_at)


def test_the_surplus_of_a_fixed_ledger() -> None:
    fixed_ledger()
    surplus = dividends.surplus_compute(period_start=TODAY, period_end=TODAY)
    assert (surplus.fees_earned, surplus.rail_fees, surplus.juror_pay) == (100_00, 5_00, 15_00)
    assert (surplus.reserve_bps, surplus.reserve, surplus.surplus) == (2000, 16_00, 64_00)
    # Another day's rows do not count.
    assert (
        dividends.surplus_compute(
            period_start=TODAY - timedelta(days=3), period_end=TODAY - timedelta(days=1)
        ).fees_earned
        == 0
    )


def test_patronage_counts_members_only_and_bonuses_by_rule() -> None:
    ana, ben, _carla = fixed_ledger()
    assert dividends.patronage_compute(period_start=TODAY, period_end=TODAY) == {ana.pk: 350_00, ben.pk: 150_00}
    RuleVersion.objects.create(
        rule=Rule.objects.get(key="dividend_bonuses_count"), value=0, effective_at=datetime(2026, 8, 2, tzinfo=UTC)
    )
    rule_cache_invalidate("dividend_bonuses_count")
    assert dividends.patronage_compute(period_start=TODAY, period_end=TODAY) == {ana.pk: 300_00, ben.pk: 150_00}


def test_largest_remainder_hands_out_the_leftover_units() -> None:
    # 100 in thirds: 33.33 each; the one unit left goes to the smallest key on a tie.
    assert dividends.largest_remainder_allocate(amount=100, weights={7: 1, 3: 1, 5: 1}) == {3: 34, 5: 33, 7: 33}
    # 10 by 1:2:3 = 1.67, 3.33, 5: the largest remainder (0.67) gets the unit.
    assert dividends.largest_remainder_allocate(amount=10, weights={1: 1, 2: 2, 3: 3}) == {1: 2, 2: 3, 3: 5}
    assert dividends.largest_remainder_allocate(amount=0, weights={1: 5}) == {1: 0}
    with pytest.raises(ValueError):
        dividends.largest_remainder_allocate(amount=5, weights={1: 0})


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    weights=st.dictionaries(
        st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60
    ).filter(lambda w: sum(w.values()) > 0),
)
def test_shares_add_up_to_the_amount_to_the_minor_unit(amount: int, weights: dict[int, int]) -> None:
    shares = dividends.largest_remainder_allocate(amount=amount, weights=weights)
    total = sum(weights.values())
    assert sum(shares.values()) == amount
    assert set(shares) == set(weights)
    for key, weight in weights.items():
        # Within one unit of the exact share, never below its floor.
        assert amount * weight // total <= shares[key] <= amount * weight // total + 1
        if weight == 0:
            assert shares[key] == 0


def test_vote_to_payout_end_to_end(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    ana, ben, _ = fixed_ledger()
    sepa = sepa_worker()
    Membership.objects.create(user=sepa, joined_at=timezone.now() - timedelta(days=30))
    paid_work(sepa, 100_00, 10_00)  # fees now 110.00: net 90.00, reserve 18.00, surplus 72.00
    proposal = propose(ana, 70_01)
    voters = [ana, ben, sepa]
    with django_capture_on_commit_callbacks(execute=True):
        proposal = adopt_and_take_effect(proposal, voters)
    assert proposal.state == Proposal.State.IN_EFFECT
    dividend = Dividend.objects.get(proposal=proposal)
    assert (dividend.surplus, dividend.reserve, dividend.amount, dividend.total_patronage) == (
        72_00,
        18_00,
        70_01,
        600_00,
    )
    # 70.01 by 350:150:100 = 40.8391, 17.5025, 11.6683: floors 40.83+17.50+11.66 = 69.99, two units left
    # go to the largest remainders (0.91 of ana's, 0.83 of sepa's).
    shares = dict(DividendAllocation.objects.filter(dividend=dividend).values_list("user_id", "amount"))
    assert shares == {ana.pk: 40_84, ben.pk: 17_50, sepa.pk: 11_67}
    # The job queued on commit (eager Celery) paid every share; running it again pays nobody twice.
    assert set(DividendAllocation.objects.values_list("status", flat=True)) == {DividendAllocation.Status.PAID}
    jobs.pay_dividends()
    assert Transfer.objects.filter(code=dividends.CODE_DIVIDEND).count() == 3
    assert balance(accounts.coop_dividends()).posted == 0
    assert balance(accounts.coop_reserve()).posted == 18_00
    assert balance(accounts.worker_earnings(sepa)).posted == 100_00 + 11_67
    assert Notification.objects.filter(user=sepa, category="dividend_paid").count() == 1
    assert ledger_check() == [] and dividends.dividends_ledger_check() == []
    call_command("ledger_verify")
    # ... and the dividend leaves with the next payout.
    payout = payout_services.payout_request(user=sepa)
    assert payout.amount == 111_67
    assert Payout.objects.filter(user=sepa).count() == 1


def test_a_crash_after_deciding_leaves_owed_shares_that_the_job_pays_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ana, ben, _ = fixed_ledger()
    monkeypatch.setattr(dividends, "queue_on_commit", lambda *args, **kwargs: None)  # the message is lost
    adopt_and_take_effect(propose(ana, 10_00), [ana, ben])
    assert DividendAllocation.objects.filter(status=DividendAllocation.Status.OWED).count() == 2
    assert balance(accounts.coop_dividends()).posted == 10_00
    assert dividends.dividends_ledger_check() == []
    # The first share's transfer was written, then the process died before marking it paid.
    first = DividendAllocation.objects.order_by("id").first()
    assert first is not None
    transfer(
        transfer_id=f"dividend:{first.dividend_id}:member:{first.user_id}",
        debit=accounts.coop_dividends(),
        credit=accounts.worker_earnings(first.user),
        amount=first.amount,
        code=dividends.CODE_DIVIDEND,
    )
    assert jobs.pay_dividends() == 2
    assert jobs.pay_dividends() == 0
    assert Transfer.objects.filter(code=dividends.CODE_DIVIDEND).count() == 2
    assert Transfer.objects.filter(code=dividends.CODE_DIVIDEND).aggregate(total=Sum("amount"))["total"] == 10_00
    assert ledger_check() == [] and dividends.dividends_ledger_check() == []


def _snapshot() -> tuple[int, int, int, int]:
    return (
        Proposal.objects.count(),
        Dividend.objects.count(),
        DividendAllocation.objects.count(),
        Transfer.objects.count(),
    )


@pytest.mark.parametrize(
    ("amount", "start", "end", "code"),
    [
        (64_01, TODAY, TODAY, "dividend_beyond_surplus"),
        (0, TODAY, TODAY, "invalid"),
        (10_00, TODAY, TODAY - timedelta(days=1), "invalid"),
        (10_00, TODAY - timedelta(days=5), TODAY - timedelta(days=4), "dividend_beyond_surplus"),
    ],
)
def test_bad_dividends_are_refused_and_change_nothing(amount: int, start: date, end: date, code: str) -> None:
    ana, _, _ = fixed_ledger()
    before = _snapshot()
    with pytest.raises(AppError) as error:
        propose(ana, amount, start, end)
    assert error.value.code == code
    assert error.value.message
    assert _snapshot() == before


def test_a_period_in_which_no_member_earned_is_refused() -> None:
    paid_work(UserFactory(), 100_00, 10_00)  # fees, but earned by someone who is not a member
    before = _snapshot()
    with pytest.raises(AppError) as error:
        propose(MemberFactory(), 1_00)
    assert (error.value.code, error.value.status_code) == ("no_patronage", 409)
    assert _snapshot() == before


def test_a_period_not_over_is_refused() -> None:
    ana, _, _ = fixed_ledger()
    with pytest.raises(AppError) as error:
        services.proposal_create(
            author=ana,
            kind=Proposal.Kind.DIVIDEND,
            title="Too early",
            body="Today is not over.",
            dividend_period_start=TODAY,
            dividend_period_end=TODAY,
            dividend_amount=1_00,
        )
    assert (error.value.code, list(error.value.fields)) == ("invalid", ["dividend_period_end"])


def test_a_second_distribution_for_the_same_period_is_refused() -> None:
    ana, ben, _ = fixed_ledger()
    with pytest.raises(AppError) as competing:
        first = propose(ana, 10_00)
        propose(ben, 5_00, TODAY - timedelta(days=2), TODAY)  # overlaps the first, still live
    assert competing.value.code == "dividend_period_taken"
    adopt_and_take_effect(first, [ana, ben])
    before = _snapshot()
    with pytest.raises(AppError) as again:
        propose(ben, 5_00)
    assert (again.value.code, again.value.status_code) == ("dividend_period_taken", 409)
    assert _snapshot() == before


def test_a_proposal_that_can_no_longer_be_paid_takes_effect_without_moving_money() -> None:
    ana, ben, _ = fixed_ledger()
    proposal = propose(ana, 60_00)
    # Meanwhile another adopted decision raised the reserve to 50% from before the period:
    # the surplus is now 40.00 < 60.00.
    RuleVersion.objects.create(
        rule=Rule.objects.get(key="dividend_reserve_bps"), value=5000, effective_at=datetime(2026, 8, 2, tzinfo=UTC)
    )
    rule_cache_invalidate("dividend_reserve_bps")
    before = Transfer.objects.count()
    proposal = adopt_and_take_effect(proposal, [ana, ben])
    assert proposal.state == Proposal.State.IN_EFFECT
    assert not Dividend.objects.exists()
    assert Transfer.objects.count() == before
    refused = AuditEvent.objects.get(action="dividend.refused")
    assert refused.after["code"] == "dividend_beyond_surplus"
