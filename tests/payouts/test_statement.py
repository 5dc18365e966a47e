"""The worker's statement, read from the ledger: every earning, bonus, payout and
failure with a running balance, as JSON and CSV, and the yearly statement."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import TestCase

from ledger.models import Transfer
from payouts import selectors, services
from tests.payouts.factories import bonus, earn, sepa_worker, treasurer

pytestmark = pytest.mark.django_db


def _history():
    """Earn 30.00, a 5.00 bonus, a paid payout of 20.00, a failed one of 15.00."""
    user = sepa_worker()
    earn(user, 30_00)
    bonus(user, 5_00)
    cashier = treasurer()
    paid = services.payout_request(user=user, amount=20_00)
    failed = services.payout_request(user=user, amount=15_00)
    batch = services.sepa_batch_create(actor=cashier)
    services.sepa_batch_mark_sent(batch_id=batch.pk, actor=cashier)
    services.sepa_payment_mark_paid(payout_id=paid.pk, actor=cashier)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.sepa_payment_mark_failed(payout_id=failed.pk, actor=cashier, reason="name does not match")
    return user, paid, failed


def test_statement_lists_every_movement_with_the_running_balance() -> None:
    user, paid, failed = _history()
    statement = selectors.worker_statement(user=user)
    rows = [(line.kind, line.amount, line.balance) for line in statement.lines]
    assert rows == [
        ("earning", 30_00, 30_00),
        ("bonus", 5_00, 35_00),
        ("payout", -20_00, 15_00),
        ("payout", -15_00, 0),
        ("payout_paid", 0, 0),
        ("payout_failed", 15_00, 15_00),
    ]
    assert statement.closing_balance == 15_00
    assert statement.lines[2].description.startswith(f"Payout #{paid.pk} to DE89")
    # No ledger key reaches the page: the earning says "Approved work" (its test slot key is no task).
    assert statement.lines[0].description == "Approved work"
    assert not any(":" in line.description.split(" to ")[0] for line in statement.lines[:2])
    assert "name does not match" in statement.lines[5].description
    assert statement.lines[5].reference == f"payout:{failed.pk}:void"


def test_statement_csv_download(api) -> None:
    user, _, _ = _history()
    api.force_authenticate(user)
    response = api.get("/api/payouts/statement.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["date", "kind", "description", "amount", "balance", "currency", "reference"]
    assert [(r[1], r[3], r[4], r[5]) for r in rows[1:]] == [
        ("earning", "30.00", "30.00", "EUR"),
        ("bonus", "5.00", "35.00", "EUR"),
        ("payout", "-20.00", "15.00", "EUR"),
        ("payout", "-15.00", "0.00", "EUR"),
        ("payout_paid", "0.00", "0.00", "EUR"),
        ("payout_failed", "15.00", "15.00", "EUR"),
    ]


def test_statement_json_and_the_yearly_statement(api) -> None:
    user, _, _ = _history()
    year = datetime.now(tz=UTC).year
    api.force_authenticate(user)
    body = api.get("/api/payouts/statement/").json()
    assert (body["opening_balance"], body["closing_balance"], len(body["lines"])) == ("0.00", "15.00", 6)
    this_year = api.get(f"/api/payouts/statement/?year={year}").json()
    assert len(this_year["lines"]) == 6
    assert api.get(f"/api/payouts/statement/?year={year + 1}").json() == {
        "currency": "EUR",
        "opening_balance": "15.00",
        "closing_balance": "15.00",
        "lines": [],
    }
    yearly = api.get(f"/api/payouts/statement/{year}/").json()
    assert yearly == {
        "year": year,
        "currency": "EUR",
        "opening_balance": "0.00",
        "closing_balance": "15.00",
        "earnings": "30.00",
        "bonuses": "5.00",
        "rewards": "0.00",
        "total_earned": "35.00",
        "paid_out": "20.00",
        "payouts_paid": 1,
        "payouts_failed": 1,
    }
    assert api.get("/api/payouts/statement/?year=abc").status_code == 400


def test_a_statement_shows_only_the_workers_own_money(api) -> None:
    _user, _, _ = _history()
    other = sepa_worker()
    earn(other, 7_00)
    api.force_authenticate(other)
    lines = api.get("/api/payouts/statement/").json()["lines"]
    assert [(line["kind"], line["amount"]) for line in lines] == [("earning", "7.00")]
    assert Transfer.objects.filter(code="payout", kind="pending").count() == 2  # the first worker's, not shown


def test_the_statement_reads_in_the_workers_language() -> None:
    from django.utils import translation

    user, paid, failed = _history()
    with translation.override("de"):
        lines = [line.description for line in selectors.worker_statement(user=user).lines]
    assert lines[0].startswith("Angenommene Arbeit")
    assert lines[2].startswith(f"Auszahlung #{paid.pk} an DE89")
    assert lines[4].startswith(f"Auszahlung #{paid.pk} ausgezahlt an DE89")
    assert lines[5].startswith(f"Auszahlung #{failed.pk} fehlgeschlagen, zurück auf deinem Guthaben: ")
    assert "name does not match" in lines[5]  # the treasurer's words, as typed
    assert not any("Payout" in line or "returned to your balance" in line for line in lines)


def test_an_earning_names_its_task_in_words_not_its_ledger_key() -> None:
    from django.utils import translation

    from ledger.escrow import EscrowSlot, escrow_reserve_slots, escrow_settle
    from tests.factories import OrganisationFactory
    from tests.ledger.factories import fund

    user = sepa_worker()
    organisation = OrganisationFactory()
    fund(organisation, 10_00)
    escrow_reserve_slots(organisation=organisation, slots=[EscrowSlot(key="assignment:4711", reward=5_00, fee=50)])
    escrow_settle(key="assignment:4711", worker=user)
    assert [line.description for line in selectors.worker_statement(user=user).lines] == ["Approved work (task #4711)"]
    with translation.override("es"):
        (line,) = selectors.worker_statement(user=user).lines
    assert "4711" in line.description and "assignment" not in line.description
    assert line.description != "Approved work (task #4711)"
