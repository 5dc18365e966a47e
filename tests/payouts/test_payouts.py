"""Creating payouts: on request and by scheduled runs; the ledger reservation; bad
requests change nothing."""

from datetime import UTC, datetime

import pytest

from core.errors import AppError
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from payouts import services
from payouts.models import Payout, PayoutRun
from tests.factories import signed_in_now
from tests.payouts.factories import earn, sepa_worker, worker_in

pytestmark = pytest.mark.django_db


def _snapshot(user) -> tuple:
    figures = balance(accounts.worker_earnings(user))
    return (
        figures.available,
        figures.debits_pending,
        Payout.objects.count(),
        Transfer.objects.filter(code="payout").count(),
    )


def test_a_request_reserves_the_amount_in_the_ledger() -> None:
    user = sepa_worker()
    earn(user, 30_00)
    payout = services.payout_request(user=user, amount=12_00)
    assert (payout.state, payout.amount, payout.currency, payout.run) == ("created", 12_00, "EUR", None)
    reservation = Transfer.objects.get(pk=f"payout:{payout.pk}")
    assert (reservation.kind, reservation.amount, reservation.code) == ("pending", 12_00, "payout")
    assert reservation.debit_account == accounts.worker_earnings(user)
    assert reservation.credit_account == accounts.external_bank()
    figures = balance(accounts.worker_earnings(user))
    assert (figures.posted, figures.available) == (30_00, 18_00)
    assert payout.rule_versions["payout_minimum_floor"]["value"] == 500
    assert ledger_check() == []


@pytest.mark.parametrize(
    ("amount", "code"),
    [(30_01, "amount_above_balance"), (4_99, "amount_below_floor"), (0, "invalid_amount"), (-5, "invalid_amount")],
)
def test_bad_requests_are_refused_and_nothing_changes(amount, code) -> None:
    user = sepa_worker()
    earn(user, 30_00)
    before = _snapshot(user)
    with pytest.raises(AppError) as error:
        services.payout_request(user=user, amount=amount)
    assert error.value.code == code
    assert error.value.message
    assert _snapshot(user) == before


def test_a_request_without_a_method_or_a_balance_is_refused() -> None:
    user = worker_in("DE")
    earn(user, 30_00)
    with pytest.raises(AppError) as error:
        services.payout_request(user=user)
    assert error.value.code == "no_payout_method"
    empty = sepa_worker()
    with pytest.raises(AppError) as error:
        services.payout_request(user=empty)
    assert error.value.code == "nothing_to_pay"
    assert not Payout.objects.exists()


def test_the_balance_cannot_be_paid_twice() -> None:
    user = sepa_worker()
    earn(user, 30_00)
    services.payout_request(user=user)
    with pytest.raises(AppError) as error:
        services.payout_request(user=user, amount=5_00)
    assert error.value.code == "amount_above_balance"
    assert Payout.objects.count() == 1


def test_runs_pay_each_schedule_once_above_its_minimum() -> None:
    weekly = sepa_worker()
    daily = sepa_worker()
    daily_poor = sepa_worker()
    on_request = sepa_worker()
    below_floor = sepa_worker()
    services.payout_schedule_set(user=daily, frequency="daily", minimum_amount=10_00)
    services.payout_schedule_set(user=daily_poor, frequency="daily", minimum_amount=50_00)
    services.payout_schedule_set(user=on_request, frequency="on_request", minimum_amount=5_00)
    for user in (weekly, daily, daily_poor, on_request):
        earn(user, 20_00)
    earn(below_floor, 4_00)
    no_method = worker_in("DE")
    earn(no_method, 20_00)

    moment = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday
    daily_run = services.payout_run_execute(frequency="daily", at=moment)
    assert daily_run.key == "daily:2026-11-23"
    assert set(Payout.objects.values_list("user", flat=True)) == {daily.pk}
    weekly_run = services.payout_run_execute(frequency="weekly", at=moment)
    assert weekly_run.key == "weekly:2026-W48"
    assert weekly_run.payouts_created == 1
    assert weekly_run.rule_versions["payout_minimum_floor"]["value"] == 500
    assert set(Payout.objects.values_list("user", flat=True)) == {daily.pk, weekly.pk}
    assert Payout.objects.get(user=weekly).run == weekly_run

    again = services.payout_run_execute(frequency="weekly", at=moment)
    assert again.pk == weekly_run.pk and again.payouts_created == 1
    assert Payout.objects.count() == 2
    # The worker earns more during the week: next run, not this one.
    earn(weekly, 10_00)
    services.payout_run_execute(frequency="weekly", at=moment)
    assert Payout.objects.filter(user=weekly).count() == 1
    next_week = services.payout_run_execute(frequency="weekly", at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    assert Payout.objects.get(user=weekly, run=next_week).amount == 10_00
    assert PayoutRun.objects.count() == 3
    assert ledger_check() == []


def test_a_later_method_change_never_redirects_a_payout_on_its_way() -> None:
    user = sepa_worker()
    earn(user, 30_00)
    payout = services.payout_request(user=user)
    services.payout_method_set(
        user=user,
        fresh_sign_in=signed_in_now(user),
        rail="sepa",
        details={"iban": "FR1420041010050500013M02606", "account_holder": "Ana"},
    )
    payout.refresh_from_db()
    assert payout.destination["iban"] == "DE89370400440532013000"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_pay_the_balance_twice() -> None:
    import threading

    from django.db import connection

    user = sepa_worker()
    earn(user, 30_00)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def ask() -> None:
        try:
            barrier.wait()
            services.payout_request(user=user, amount=20_00)
            outcomes.append("paid")
        except AppError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["amount_above_balance"] * 5 + ["paid"]
    assert Payout.objects.count() == 1
    assert balance(accounts.worker_earnings(user)).available == 10_00
    assert ledger_check() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_one_payout_per_worker() -> None:
    import threading

    from django.db import connection

    users = [sepa_worker() for _ in range(5)]
    for user in users:
        earn(user, 20_00)
    barrier = threading.Barrier(4)
    moment = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait()
            services.payout_run_execute(frequency="weekly", at=moment)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Payout.objects.count() == 5
    assert PayoutRun.objects.count() == 1
    assert ledger_check() == []
