import pytest

from core.errors import AppError
from ledger import accounts
from ledger.models import Account, Transfer
from ledger.selectors import balance, ledger_check
from ledger.services import post_pending, transfer, void_pending
from tests.ledger.factories import fund

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[list[tuple], list[str]]:
    totals = list(
        Account.objects.order_by("id").values_list(
            "id", "debits_pending", "debits_posted", "credits_pending", "credits_posted"
        )
    )
    return totals, list(Transfer.objects.order_by("id").values_list("id", flat=True))


def test_accounts_are_created_once_with_their_overdraft_flag(organisation, worker):
    assert accounts.org_available(organisation).pk == accounts.org_available(organisation).pk
    assert accounts.org_available(organisation).debits_must_not_exceed_credits is True
    assert accounts.worker_earnings(worker).debits_must_not_exceed_credits is True
    assert accounts.external_stripe().debits_must_not_exceed_credits is False
    assert accounts.coop_juror_fees().debits_must_not_exceed_credits is False
    assert accounts.coop_fees().currency == "EUR"
    assert Account.objects.filter(kind=Account.Kind.ORG_AVAILABLE).count() == 1


def test_posted_transfer_moves_money_and_is_idempotent(organisation):
    first = fund(organisation, 5_000)
    again = transfer(
        transfer_id=first.pk,
        debit=accounts.external_stripe(),
        credit=accounts.org_available(organisation),
        amount=5_000,
        code="deposit",
    )
    assert again.pk == first.pk
    assert Transfer.objects.count() == 1
    available = balance(accounts.org_available(organisation))
    assert (available.posted, available.pending, available.available) == (5_000, 0, 5_000)
    assert balance(accounts.external_stripe()).posted == -5_000
    assert ledger_check() == []


def test_same_id_with_other_parameters_is_refused(organisation):
    first = fund(organisation, 5_000)
    before = _snapshot()
    with pytest.raises(AppError) as error:
        transfer(
            transfer_id=first.pk,
            debit=accounts.external_stripe(),
            credit=accounts.org_available(organisation),
            amount=6_000,
            code="deposit",
        )
    assert error.value.code == "transfer_id_reused"
    assert error.value.details["differs"] == ["amount"]
    assert _snapshot() == before


def test_overdraft_is_refused_and_nothing_is_written(organisation, worker):
    fund(organisation, 1_000)
    before = _snapshot()
    with pytest.raises(AppError) as error:
        transfer(
            transfer_id="overdraft",
            debit=accounts.org_available(organisation),
            credit=accounts.worker_earnings(worker),
            amount=1_250,
            code="bonus",
        )
    assert error.value.code == "insufficient_funds"
    assert error.value.status_code == 409
    assert error.value.details == {"account": "org_available", "short_by": 250, "available": 1_000}
    assert "short by 2.50 EUR" in error.value.message
    assert "12.50 EUR is needed and 10.00 EUR is available" in error.value.message
    assert _snapshot()[1] == before[1]
    assert [row for row in _snapshot()[0] if row[0] in {r[0] for r in before[0]}] == before[0]


def test_database_refuses_an_overdraft_even_without_the_service(organisation):
    from django.db import IntegrityError, transaction

    account = accounts.org_available(organisation)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(debits_posted=1)
    assert balance(account).posted == 0


def test_invalid_transfers_are_refused(organisation):
    available = accounts.org_available(organisation)
    for amount, code in ((0, "invalid_amount"), (-5, "invalid_amount")):
        with pytest.raises(AppError) as error:
            transfer(transfer_id="x", debit=accounts.external_stripe(), credit=available, amount=amount, code="c")
        assert error.value.code == code
    with pytest.raises(AppError) as error:
        transfer(transfer_id="x", debit=available, credit=available, amount=1, code="c")
    assert error.value.code == "same_account"
    assert Transfer.objects.count() == 0


def test_pending_reserves_then_partial_post_returns_the_rest(organisation, worker):
    fund(organisation, 1_000)
    available, earnings = accounts.org_available(organisation), accounts.worker_earnings(worker)
    transfer(transfer_id="hold", debit=available, credit=earnings, amount=600, code="hold", pending=True)
    held = balance(available)
    assert (held.posted, held.pending, held.available) == (1_000, -600, 400)
    assert balance(earnings).pending == 600
    post_pending(transfer_id="hold:post", pending_id="hold", amount=250)
    after = balance(available)
    assert (after.posted, after.pending, after.available) == (750, 0, 750)
    assert (balance(earnings).posted, balance(earnings).pending) == (250, 0)
    # The same post again is the same transfer; another resolution is refused.
    assert post_pending(transfer_id="hold:post", pending_id="hold", amount=250).amount == 250
    before = _snapshot()
    with pytest.raises(AppError) as error:
        void_pending(transfer_id="hold:void", pending_id="hold")
    assert error.value.code == "pending_already_resolved"
    assert error.value.details["state"] == "posted"
    assert _snapshot() == before
    assert ledger_check() == []


def test_void_returns_everything_once(organisation, worker):
    fund(organisation, 1_000)
    available, earnings = accounts.org_available(organisation), accounts.worker_earnings(worker)
    transfer(transfer_id="hold", debit=available, credit=earnings, amount=600, code="hold", pending=True)
    void = void_pending(transfer_id="hold:void", pending_id="hold")
    assert void.amount == 600
    assert balance(available).available == 1_000
    assert balance(earnings).pending == 0
    before = _snapshot()
    with pytest.raises(AppError) as error:
        post_pending(transfer_id="hold:post", pending_id="hold")
    assert error.value.code == "pending_already_resolved"
    assert _snapshot() == before
    assert ledger_check() == []


def test_post_more_than_reserved_and_unknown_pending_are_refused(organisation, worker):
    fund(organisation, 1_000)
    available, earnings = accounts.org_available(organisation), accounts.worker_earnings(worker)
    transfer(transfer_id="hold", debit=available, credit=earnings, amount=600, code="hold", pending=True)
    before = _snapshot()
    with pytest.raises(AppError) as error:
        post_pending(transfer_id="hold:post", pending_id="hold", amount=601)
    assert error.value.code == "invalid_amount"
    with pytest.raises(AppError) as error:
        post_pending(transfer_id="nothing:post", pending_id="nothing")
    assert (error.value.code, error.value.status_code) == ("pending_not_found", 404)
    with pytest.raises(AppError) as error:
        void_pending(transfer_id="v", pending_id=Transfer.objects.get(code="deposit").pk)
    assert error.value.code == "not_pending"
    assert _snapshot() == before


def test_ledger_verify_command_reports_a_tampered_balance(organisation):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    fund(organisation, 1_000)
    out = StringIO()
    call_command("ledger_verify", stdout=out)
    assert "consistent" in out.getvalue()
    Account.objects.filter(pk=accounts.org_available(organisation).pk).update(credits_posted=1_500)
    err = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("ledger_verify", stderr=err)
    assert error.value.returncode == 1
    assert "credits_posted is 1500, transfers give 1000" in err.getvalue()
    assert "does not sum to zero" in err.getvalue()


@pytest.mark.postgres
def test_transfers_cannot_be_changed_or_deleted_in_the_database(organisation):
    from django.db import IntegrityError, transaction

    deposit = fund(organisation, 100)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transfer.objects.filter(pk=deposit.pk).update(amount=1_000_000)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transfer.objects.filter(pk=deposit.pk).delete()
    assert Transfer.objects.get(pk=deposit.pk).amount == 100


def test_nightly_job_logs_each_discrepancy(organisation, caplog):
    from ledger.jobs import verify

    fund(organisation, 1_000)
    assert verify.delay().get() == 0
    Account.objects.filter(pk=accounts.org_available(organisation).pk).update(credits_posted=900)
    with caplog.at_level("ERROR", logger="ledger.jobs"):
        assert verify.delay().get() == 2
    assert "credits_posted is 900, transfers give 1000" in caplog.text


def test_the_database_check_is_the_backstop_when_the_service_check_is_skipped(organisation, worker, monkeypatch):
    from ledger import services

    fund(organisation, 1_000)
    monkeypatch.setattr(services, "_refuse_overdraft", lambda locked, deltas: None)
    before = _snapshot()
    with pytest.raises(AppError) as error:
        transfer(
            transfer_id="overdraft",
            debit=accounts.org_available(organisation),
            credit=accounts.worker_earnings(worker),
            amount=1_001,
            code="bonus",
        )
    assert (error.value.code, error.value.status_code) == ("insufficient_funds", 409)
    assert _snapshot()[1] == before[1]
    assert balance(accounts.org_available(organisation)).posted == 1_000
    assert ledger_check() == []


def test_a_crash_between_the_row_and_the_balances_leaves_nothing_behind(organisation, monkeypatch):
    from ledger import services

    fund(organisation, 1_000)
    before = _snapshot()

    def crash(deltas):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "_apply", crash)
    with pytest.raises(RuntimeError):
        fund(organisation, 500)
    assert _snapshot() == before
    assert ledger_check() == []
