"""Races on PostgreSQL with real threads, each on its own connection.

The ledger locks account rows in id order and re-checks under the lock, so of
two conflicting moves exactly one wins and the loser writes nothing.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from core.errors import AppError
from ledger import accounts
from ledger.escrow import (
    EscrowSlot,
    escrow_reserve_slots,
    escrow_return,
    escrow_settle,
    escrow_settle_many,
    escrow_status,
)
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from ledger.services import post_pending, transfer, void_pending
from tests.factories import OrganisationFactory, UserFactory
from tests.ledger.factories import fund

# Transactional: the threads commit. tests/conftest.py restores the founding rules
# (and the content-type cache) after each flush, for every later test.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 8


def race(*calls: Callable[[], object]) -> list[str]:
    """Runs the calls at the same instant on separate connections; "ok" or the error code of each."""
    barrier = threading.Barrier(len(calls))
    outcomes = ["not run"] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except AppError as error:
            outcomes[index] = error.code
        except Exception as error:  # reported in the assertion, never swallowed
            outcomes[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_settle_and_return_of_one_slot_at_once_exactly_one_wins():
    organisation, worker = OrganisationFactory(), UserFactory()
    fund(organisation, 10_000)
    escrow_reserve_slots(
        organisation=organisation, slots=[EscrowSlot(f"assignment:{n}", reward=100, fee=10) for n in range(ROUNDS)]
    )
    for n in range(ROUNDS):
        key = f"assignment:{n}"
        outcomes = race(lambda key=key: escrow_settle(key=key, worker=worker), lambda key=key: escrow_return(key=key))
        assert sorted(outcomes) in (["escrow_returned", "ok"], ["escrow_settled", "ok"]), outcomes
        winner = "posted" if outcomes[0] == "ok" else "voided"
        assert escrow_status([key]) == {key: winner}
        assert Transfer.objects.filter(pending_id=f"escrow:{key}").count() == 1
    paid = Transfer.objects.filter(code="escrow_reward").count()
    assert balance(accounts.worker_earnings(worker)).posted == 100 * paid
    assert balance(accounts.org_available(organisation)).available == 10_000 - 110 * paid
    assert ledger_check() == []


def test_post_and_void_of_one_pending_transfer_at_once_exactly_one_wins():
    organisation, worker = OrganisationFactory(), UserFactory()
    fund(organisation, 10_000)
    available, earnings = accounts.org_available(organisation), accounts.worker_earnings(worker)
    for n in range(ROUNDS):
        pending_id = f"hold:{n}"
        transfer(transfer_id=pending_id, debit=available, credit=earnings, amount=300, code="hold", pending=True)
        outcomes = race(
            lambda p=pending_id: post_pending(transfer_id=f"{p}:post", pending_id=p, amount=200),
            lambda p=pending_id: void_pending(transfer_id=f"{p}:void", pending_id=p),
        )
        assert sorted(outcomes) == ["ok", "pending_already_resolved"], outcomes
        assert Transfer.objects.filter(pending_id=pending_id).count() == 1
    posts = Transfer.objects.filter(kind=Transfer.Kind.POST_PENDING).count()
    assert balance(earnings).posted == 200 * posts
    assert balance(earnings).pending == 0
    assert balance(available).available == 10_000 - 200 * posts
    assert ledger_check() == []


def test_two_reservations_racing_for_one_balance_exactly_one_wins():
    for n in range(ROUNDS):
        organisation = OrganisationFactory()
        fund(organisation, 100)
        first, second = f"assignment:{n}:a", f"assignment:{n}:b"
        outcomes = race(
            lambda: escrow_reserve_slots(organisation=organisation, slots=[EscrowSlot(first, reward=70, fee=10)]),
            lambda: escrow_reserve_slots(organisation=organisation, slots=[EscrowSlot(second, reward=70, fee=10)]),
        )
        assert sorted(outcomes) == ["insufficient_funds", "ok"], outcomes
        loser = second if outcomes[0] == "ok" else first
        assert escrow_status([first, second]) == {first if loser == second else second: "pending"}
        assert not Transfer.objects.filter(id__startswith=f"escrow:{loser}").exists()
        figures = balance(accounts.org_available(organisation))
        assert (figures.posted, figures.available) == (100, 20)
    assert ledger_check() == []


def test_the_same_transfer_sent_twice_at_once_is_written_once():
    organisation = OrganisationFactory()
    stripe, available = accounts.external_stripe(), accounts.org_available(organisation)
    for n in range(ROUNDS):
        call = lambda n=n: transfer(  # noqa: E731
            transfer_id=f"deposit:{n}", debit=stripe, credit=available, amount=500, code="deposit"
        )
        assert race(call, call) == ["ok", "ok"]
    assert Transfer.objects.filter(code="deposit").count() == ROUNDS
    assert balance(available).posted == 500 * ROUNDS
    assert ledger_check() == []


def test_bulk_settlement_racing_a_return_of_one_of_its_slots_is_all_or_nothing():
    organisation, worker = OrganisationFactory(), UserFactory()
    fund(organisation, 100_000)
    for n in range(ROUNDS):
        keys = [f"assignment:{n}:{m}" for m in range(20)]
        escrow_reserve_slots(organisation=organisation, slots=[EscrowSlot(key, reward=100, fee=10) for key in keys])
        outcomes = race(
            lambda keys=keys: escrow_settle_many(items=[(key, worker) for key in keys]),
            lambda keys=keys: escrow_return(key=keys[7]),
        )
        statuses = escrow_status(keys)
        if outcomes == ["ok", "escrow_settled"]:
            assert set(statuses.values()) == {"posted"}
        else:
            assert outcomes == ["escrow_returned", "ok"], outcomes
            assert statuses[keys[7]] == "voided"
            assert {statuses[key] for key in keys if key != keys[7]} == {"pending"}
    assert ledger_check() == []
