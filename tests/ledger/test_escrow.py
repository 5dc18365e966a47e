import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import AppError
from ledger import accounts
from ledger.escrow import (
    EscrowSlot,
    balance,
    bonus_pay,
    escrow_reserve_slots,
    escrow_return,
    escrow_settle,
    escrow_settle_many,
    escrow_status,
    platform_fee,
)
from ledger.models import Account, Transfer
from ledger.selectors import ledger_check, organisation_balances, worker_balance
from tests.factories import UserFactory
from tests.ledger.factories import fund

pytestmark = pytest.mark.django_db


def _state() -> tuple[list[tuple], list[str]]:
    totals = list(
        Account.objects.order_by("id").values_list(
            "id", "debits_pending", "debits_posted", "credits_pending", "credits_posted"
        )
    )
    return totals, list(Transfer.objects.order_by("id").values_list("id", flat=True))


def _slots(count: int, reward: int = 100) -> list[EscrowSlot]:
    return [EscrowSlot(key=f"assignment:{n}", reward=reward, fee=platform_fee(reward)) for n in range(count)]


def test_platform_fee_follows_the_governed_rule():
    # Founding value: 1000 basis points, charged on top of the reward.
    assert platform_fee(100) == 10
    assert platform_fee(15) == 2  # 1.5 rounds half up


def test_reserving_moves_reward_and_fee_from_available_to_escrow(organisation):
    fund(organisation, 1_000)
    escrow_reserve_slots(organisation=organisation, slots=_slots(3))
    figures = organisation_balances(organisation=organisation)
    assert (figures["available"].posted, figures["available"].available) == (1_000, 670)
    assert figures["escrow"].pending == 330
    assert escrow_status(["assignment:0", "assignment:2", "assignment:9"]) == {
        "assignment:0": "pending",
        "assignment:2": "pending",
    }
    assert Transfer.objects.get(pk="escrow:assignment:1").fee_part == 10
    # Reserving the same slots again changes nothing.
    before = _state()
    escrow_reserve_slots(organisation=organisation, slots=_slots(3))
    assert _state() == before
    assert ledger_check() == []


def test_reserving_without_enough_balance_fails_whole_and_says_by_how_much(organisation):
    fund(organisation, 300)
    before = _state()
    with pytest.raises(AppError) as error:
        escrow_reserve_slots(organisation=organisation, slots=_slots(3))
    assert (error.value.code, error.value.status_code) == ("insufficient_funds", 409)
    assert error.value.details["short_by"] == 30
    assert "short by 0.30 EUR: 3.30 EUR is needed and 3.00 EUR is available" in error.value.message
    assert "Add funds" in error.value.message
    assert _state() == before
    assert escrow_status(["assignment:0"]) == {}


def test_reserving_an_existing_slot_with_other_amounts_is_refused(organisation):
    fund(organisation, 1_000)
    escrow_reserve_slots(organisation=organisation, slots=_slots(1))
    before = _state()
    with pytest.raises(AppError) as error:
        escrow_reserve_slots(
            organisation=organisation, slots=[*_slots(1, reward=200), EscrowSlot("assignment:7", 1, 0)]
        )
    assert error.value.code == "transfer_id_reused"
    assert _state() == before


def test_approval_pays_the_worker_the_reward_and_the_coop_the_fee(organisation, worker):
    fund(organisation, 1_000)
    escrow_reserve_slots(organisation=organisation, slots=_slots(2))
    escrow_settle(key="assignment:0", worker=worker)
    assert worker_balance(user=worker).posted == 100
    assert balance(accounts.coop_fees()).posted == 10
    figures = organisation_balances(organisation=organisation)
    assert (figures["available"].posted, figures["available"].available) == (890, 780)
    assert (figures["escrow"].posted, figures["escrow"].pending) == (0, 110)
    assert escrow_status(["assignment:0", "assignment:1"]) == {"assignment:0": "posted", "assignment:1": "pending"}
    # A repeat is a no-op.
    before = _state()
    escrow_settle(key="assignment:0", worker=worker)
    assert _state() == before
    assert ledger_check() == []


def test_partial_outcome_pays_a_share_and_returns_the_rest(organisation, worker):
    fund(organisation, 1_000)
    escrow_reserve_slots(organisation=organisation, slots=[EscrowSlot("assignment:1", reward=200, fee=20)])
    escrow_settle(key="assignment:1", worker=worker, share_bps=2_500)
    assert worker_balance(user=worker).posted == 50
    assert balance(accounts.coop_fees()).posted == 5
    available = organisation_balances(organisation=organisation)["available"]
    assert (available.posted, available.available) == (945, 945)
    before = _state()
    with pytest.raises(AppError) as error:
        escrow_settle(key="assignment:1", worker=worker, share_bps=5_000)
    assert error.value.code == "escrow_already_settled"
    with pytest.raises(AppError) as error:
        escrow_settle(key="assignment:1", worker=UserFactory())
    assert error.value.code == "escrow_already_settled"
    with pytest.raises(AppError) as error:
        escrow_return(key="assignment:1")
    assert error.value.code == "escrow_settled"
    assert _state() == before
    assert ledger_check() == []


def test_return_gives_everything_back_once(organisation, worker):
    fund(organisation, 1_000)
    escrow_reserve_slots(organisation=organisation, slots=_slots(1))
    escrow_return(key="assignment:0")
    assert organisation_balances(organisation=organisation)["available"].available == 1_000
    assert escrow_status(["assignment:0"]) == {"assignment:0": "voided"}
    before = _state()
    escrow_return(key="assignment:0")
    with pytest.raises(AppError) as error:
        escrow_settle(key="assignment:0", worker=worker)
    assert (error.value.code, error.value.status_code) == ("escrow_returned", 409)
    assert _state() == before
    assert worker_balance(user=worker) is None or worker_balance(user=worker).posted == 0


def test_unknown_slot_and_bad_share_are_refused(organisation, worker):
    fund(organisation, 1_000)
    escrow_reserve_slots(organisation=organisation, slots=_slots(1))
    before = _state()
    with pytest.raises(AppError) as error:
        escrow_settle(key="assignment:404", worker=worker)
    assert (error.value.code, error.value.status_code) == ("escrow_not_found", 404)
    with pytest.raises(AppError) as error:
        escrow_return(key="assignment:404")
    assert error.value.code == "escrow_not_found"
    for share_bps in (0, 10_001):
        with pytest.raises(AppError) as error:
            escrow_settle(key="assignment:0", worker=worker, share_bps=share_bps)
        assert error.value.code == "invalid_share"
    assert _state() == before


def test_settle_many_pays_every_slot_and_skips_those_already_paid(organisation):
    fund(organisation, 10_000)
    workers = [UserFactory() for _ in range(3)]
    escrow_reserve_slots(organisation=organisation, slots=_slots(6))
    escrow_settle(key="assignment:0", worker=workers[0])
    items = [(f"assignment:{n}", workers[n % 3]) for n in range(6)]
    assert escrow_settle_many(items=items) == 5
    assert [worker_balance(user=w).posted for w in workers] == [200, 200, 200]
    assert balance(accounts.coop_fees()).posted == 60
    assert set(escrow_status([key for key, _ in items]).values()) == {"posted"}
    before = _state()
    assert escrow_settle_many(items=items) == 0
    assert _state() == before
    assert ledger_check() == []


def test_settle_many_is_all_or_nothing(organisation, worker):
    fund(organisation, 10_000)
    escrow_reserve_slots(organisation=organisation, slots=_slots(3))
    escrow_return(key="assignment:1")
    before = _state()
    with pytest.raises(AppError) as error:
        escrow_settle_many(items=[("assignment:0", worker), ("assignment:1", worker), ("assignment:2", worker)])
    assert error.value.code == "escrow_returned"
    assert error.value.details["keys"] == ["assignment:1"]
    with pytest.raises(AppError) as error:
        escrow_settle_many(items=[("assignment:0", worker), ("assignment:99", worker)])
    assert error.value.code == "escrow_not_found"
    assert _state() == before


def test_settle_many_uses_a_fixed_number_of_queries(organisation):
    fund(organisation, 100_000)
    workers = [UserFactory() for _ in range(20)]
    escrow_reserve_slots(organisation=organisation, slots=_slots(200))
    accounts.coop_fees()
    items = [(f"assignment:{n}", workers[n % 20]) for n in range(200)]
    with CaptureQueriesContext(connection) as queries:
        assert escrow_settle_many(items=items) == 200
    statements = [query["sql"].split(" ")[0] for query in queries]
    # Reads: pendings, earnings (find, create, re-read), co-op fees, the lock,
    # resolutions; then bulk inserts (batched by the backend's parameter limit)
    # and one UPDATE per distinct change: available, escrow, the 20 workers
    # (same change each), co-op fees.
    assert statements.count("SELECT") == 6
    assert statements.count("UPDATE") == 4
    assert len(statements) - statements.count("INSERT") <= 16
    assert ledger_check() == []


def test_escrow_status_is_one_query():
    with CaptureQueriesContext(connection) as queries:
        escrow_status([f"assignment:{n}" for n in range(500)])
    assert len(queries) == 1


def test_bonus_moves_available_to_the_worker(organisation, worker):
    fund(organisation, 500)
    escrow_reserve_slots(organisation=organisation, slots=_slots(4))  # 440 reserved
    bonus = bonus_pay(organisation=organisation, worker=worker, amount=60, key="batch:1:worker:1")
    assert (bonus.pk, bonus.code) == ("bonus:batch:1:worker:1", "bonus")
    assert worker_balance(user=worker).posted == 60
    before = _state()
    with pytest.raises(AppError) as error:
        bonus_pay(organisation=organisation, worker=worker, amount=1, key="batch:1:worker:2")
    assert error.value.code == "insufficient_funds"
    assert _state() == before
    assert bonus_pay(organisation=organisation, worker=worker, amount=60, key="batch:1:worker:1").pk == bonus.pk
    assert ledger_check() == []
