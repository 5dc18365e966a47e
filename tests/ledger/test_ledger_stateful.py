"""A stateful property test over the ledger: random reserve / post / partial post /
void / bonus / withdraw sequences against a plain-Python model of the figures."""

import pytest
from django.db import transaction
from django.db.models import Count
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from core.errors import AppError
from core.money import share
from ledger import accounts
from ledger.escrow import (
    EscrowSlot,
    bonus_pay,
    escrow_reserve_slots,
    escrow_return,
    escrow_settle,
    escrow_settle_many,
    escrow_status,
)
from ledger.models import Account, Transfer
from ledger.selectors import ledger_check
from ledger.services import post_pending, transfer, void_pending
from tests.factories import OrganisationFactory, UserFactory

# debits_pending, debits_posted, credits_pending, credits_posted
DP, DPOST, CP, CPOST = range(4)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint that teardown rolls back.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.organisations = [OrganisationFactory(), OrganisationFactory()]
        self.workers = [UserFactory(), UserFactory(), UserFactory()]
        self.available = [accounts.org_available(o) for o in self.organisations]
        self.escrow = [accounts.org_escrow(o) for o in self.organisations]
        self.earnings = [accounts.worker_earnings(w) for w in self.workers]
        self.fees = accounts.coop_fees()
        self.stripe = accounts.external_stripe()
        self.bank = accounts.external_bank()
        self.model: dict[int, list[int]] = {a.pk: [0, 0, 0, 0] for a in Account.objects.all()}
        # key -> (organisation index, reward, fee); and what became of each slot
        self.slots: dict[str, tuple[int, int, int]] = {}
        self.status: dict[str, str] = {}
        self.settled_share: dict[str, tuple[int, int]] = {}  # key -> (worker index, share)
        self.payouts: dict[str, tuple[int, int]] = {}  # pending payout id -> (worker index, amount)
        self.counter = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # -- the model -------------------------------------------------------
    def move(self, debit: Account, credit: Account, amount: int, *, pending: bool = False) -> None:
        self.model[debit.pk][DP if pending else DPOST] += amount
        self.model[credit.pk][CP if pending else CPOST] += amount

    def resolve(self, debit: Account, credit: Account, reserved: int, posted: int) -> None:
        self.model[debit.pk][DP] -= reserved
        self.model[credit.pk][CP] -= reserved
        self.move(debit, credit, posted)

    def spendable(self, account: Account) -> int:
        figures = self.model[account.pk]
        return figures[CPOST] - figures[DPOST] - figures[DP]

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    def totals(self) -> dict[int, list[int]]:
        return {
            pk: list(rest)
            for pk, *rest in Account.objects.values_list(
                "id", "debits_pending", "debits_posted", "credits_pending", "credits_posted"
            )
        }

    def expect_refusal(self, code: str, action) -> None:  # type: ignore[no-untyped-def]
        before_totals, before_count = self.totals(), Transfer.objects.count()
        with pytest.raises(AppError) as error:
            action()
        assert error.value.code == code
        assert self.totals() == before_totals
        assert Transfer.objects.count() == before_count

    # -- rules -----------------------------------------------------------
    @initialize(first=st.integers(0, 3_000), second=st.integers(0, 3_000))
    def opening_deposits(self, first: int, second: int) -> None:
        for org, amount in enumerate((first, second)):
            if amount:
                self.deposit(org, amount)

    @rule(org=st.integers(0, 1), amount=st.integers(1, 5_000))
    def deposit(self, org: int, amount: int) -> None:
        transfer(
            transfer_id=f"deposit:{self.next_id()}",
            debit=self.stripe,
            credit=self.available[org],
            amount=amount,
            code="deposit",
        )
        self.move(self.stripe, self.available[org], amount)

    @rule(
        org=st.integers(0, 1),
        pay=st.lists(st.tuples(st.integers(0, 800), st.integers(0, 80)), min_size=1, max_size=4).filter(
            lambda slots: all(reward + fee > 0 for reward, fee in slots)
        ),
    )
    def reserve(self, org: int, pay: list[tuple[int, int]]) -> None:
        slots = [EscrowSlot(key=f"assignment:{self.next_id()}", reward=r, fee=f) for r, f in pay]
        total = sum(r + f for r, f in pay)
        if total > self.spendable(self.available[org]):
            self.expect_refusal(
                "insufficient_funds", lambda: escrow_reserve_slots(organisation=self.organisations[org], slots=slots)
            )
            return
        escrow_reserve_slots(organisation=self.organisations[org], slots=slots)
        for slot in slots:
            self.slots[slot.key] = (org, slot.reward, slot.fee)
            self.status[slot.key] = "pending"
            self.move(self.available[org], self.escrow[org], slot.reward + slot.fee, pending=True)

    def pending_keys(self) -> list[str]:
        return sorted(key for key, state in self.status.items() if state == "pending")

    def pay_model(self, key: str, worker: int, share_bps: int) -> None:
        org, reward, fee = self.slots[key]
        reward_share, fee_share = share(reward, share_bps, 10_000), share(fee, share_bps, 10_000)
        self.resolve(self.available[org], self.escrow[org], reward + fee, reward_share + fee_share)
        self.move(self.escrow[org], self.earnings[worker], reward_share)
        self.move(self.escrow[org], self.fees, fee_share)
        self.status[key] = "posted"
        self.settled_share[key] = (worker, share_bps)

    @rule(data=st.data(), worker=st.integers(0, 2), share_bps=st.sampled_from([10_000, 10_000, 5_000, 3_333, 1]))
    def settle(self, data: st.DataObject, worker: int, share_bps: int) -> None:
        keys = self.pending_keys()
        if not keys:
            return
        key = data.draw(st.sampled_from(keys))
        escrow_settle(key=key, worker=self.workers[worker], share_bps=share_bps)
        self.pay_model(key, worker, share_bps)

    @rule(data=st.data())
    def settle_many(self, data: st.DataObject) -> None:
        keys = self.pending_keys()
        if not keys:
            return
        chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, unique=True))
        workers = [data.draw(st.integers(0, 2)) for _ in chosen]
        assert escrow_settle_many(items=[(k, self.workers[w]) for k, w in zip(chosen, workers)]) == len(chosen)
        for key, worker in zip(chosen, workers):
            self.pay_model(key, worker, 10_000)

    @rule(data=st.data())
    def give_back(self, data: st.DataObject) -> None:
        keys = self.pending_keys()
        if not keys:
            return
        key = data.draw(st.sampled_from(keys))
        escrow_return(key=key)
        org, reward, fee = self.slots[key]
        self.resolve(self.available[org], self.escrow[org], reward + fee, 0)
        self.status[key] = "voided"

    @rule(data=st.data(), worker=st.integers(0, 2))
    def resolve_again(self, data: st.DataObject, worker: int) -> None:
        done = sorted(key for key, state in self.status.items() if state != "pending")
        if not done:
            return
        key = data.draw(st.sampled_from(done))
        if self.status[key] == "voided":
            escrow_return(key=key)  # a repeat is a no-op
            self.expect_refusal("escrow_returned", lambda: escrow_settle(key=key, worker=self.workers[worker]))
        else:
            paid_worker, share_bps = self.settled_share[key]
            escrow_settle(key=key, worker=self.workers[paid_worker], share_bps=share_bps)  # no-op
            self.expect_refusal("escrow_settled", lambda: escrow_return(key=key))

    @rule(org=st.integers(0, 1), worker=st.integers(0, 2), amount=st.integers(1, 400))
    def bonus(self, org: int, worker: int, amount: int) -> None:
        key = f"b{self.next_id()}"
        call = lambda: bonus_pay(  # noqa: E731
            organisation=self.organisations[org], worker=self.workers[worker], amount=amount, key=key
        )
        if amount > self.spendable(self.available[org]):
            self.expect_refusal("insufficient_funds", call)
            return
        call()
        self.move(self.available[org], self.earnings[worker], amount)

    @rule(worker=st.integers(0, 2), amount=st.integers(1, 600), hold=st.booleans())
    def withdraw(self, worker: int, amount: int, hold: bool) -> None:
        """A payout: at once, or held pending until the bank confirms."""
        transfer_id = f"payout:{self.next_id()}"
        call = lambda: transfer(  # noqa: E731
            transfer_id=transfer_id,
            debit=self.earnings[worker],
            credit=self.bank,
            amount=amount,
            code="payout",
            pending=hold,
        )
        if amount > self.spendable(self.earnings[worker]):
            self.expect_refusal("insufficient_funds", call)
            return
        call()
        self.move(self.earnings[worker], self.bank, amount, pending=hold)
        if hold:
            self.payouts[transfer_id] = (worker, amount)

    @rule(data=st.data(), outcome=st.sampled_from(["post", "partial", "void"]))
    def payout_outcome(self, data: st.DataObject, outcome: str) -> None:
        if not self.payouts:
            return
        pending_id = data.draw(st.sampled_from(sorted(self.payouts)))
        worker, amount = self.payouts.pop(pending_id)
        if outcome == "void":
            void_pending(transfer_id=f"{pending_id}:void", pending_id=pending_id)
            posted = 0
        else:
            posted = amount if outcome == "post" else data.draw(st.integers(0, amount))
            post_pending(transfer_id=f"{pending_id}:post", pending_id=pending_id, amount=posted)
        self.resolve(self.earnings[worker], self.bank, amount, posted)
        other = "post" if outcome == "void" else "void"
        if other == "void":
            action = lambda: void_pending(transfer_id=f"{pending_id}:again", pending_id=pending_id)  # noqa: E731
        else:
            action = lambda: post_pending(transfer_id=f"{pending_id}:again", pending_id=pending_id)  # noqa: E731
        self.expect_refusal("pending_already_resolved", action)

    # -- invariants ------------------------------------------------------
    @invariant()
    def balances_match_the_model(self) -> None:
        assert self.totals() == self.model

    @invariant()
    def the_ledger_reconciles(self) -> None:
        # Recomputed from transfers: equal to the maintained totals, sums to
        # zero, resolutions within their reservations, no overdraft.
        assert ledger_check() == []
        figures = self.totals().values()
        assert sum(f[CPOST] - f[DPOST] for f in figures) == 0
        assert sum(f[CP] - f[DP] for f in figures) == 0

    @invariant()
    def nothing_goes_negative_that_must_not(self) -> None:
        for account in Account.objects.filter(debits_must_not_exceed_credits=True):
            assert account.debits_pending + account.debits_posted <= account.credits_posted

    @invariant()
    def nothing_resolves_twice(self) -> None:
        assert (
            not Transfer.objects.filter(pending__isnull=False)
            .values("pending")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .exists()
        )
        if self.status:
            assert escrow_status(sorted(self.status)) == self.status


@pytest.mark.django_db
def test_ledger_state_machine() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
