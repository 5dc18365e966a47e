"""SEPA credit transfer: the pain.001 file checked by parsing the XML, and the
treasurer's marks (sent, paid, failed) by service, API and management command."""

from datetime import date
from decimal import Decimal
from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from core.errors import AppError
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from payouts import services
from payouts.jobs import run_weekly
from payouts.models import Payout, SepaBatch
from tests.payouts.factories import VALID_IBAN, VALID_IBAN_2, earn, sepa_worker, treasurer

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _two_workers_in_a_batch() -> tuple[SepaBatch, Payout, Payout]:
    first = sepa_worker(iban=VALID_IBAN, name="Ana Müller")
    second = sepa_worker(iban=VALID_IBAN_2, name="Jo Dupont", country="FR")
    earn(first, 12_34)
    earn(second, 56_78)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_weekly()
    batch = SepaBatch.objects.get()
    return batch, Payout.objects.get(user=first), Payout.objects.get(user=second)


def test_the_run_batches_sepa_payouts_and_the_file_says_exactly_what_to_pay(settings) -> None:
    batch, first, second = _two_workers_in_a_batch()
    assert (batch.state, batch.payment_count, batch.total_amount) == ("open", 2, 12_34 + 56_78)
    assert first.state == second.state == Payout.State.CREATED
    assert first.rule_versions["payout_minimum_floor"]["value"] == 500

    document = services.sepa_batch_file(batch=batch)
    assert services.sepa_batch_file(batch=batch) == document  # the same file on every download
    root = ElementTree.fromstring(document)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.findtext("p:MsgId", namespaces=NS) == batch.message_id
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "2"
    assert Decimal(header.findtext("p:CtrlSum", namespaces=NS)) == Decimal("69.12")
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == settings.COOP_BANK_IBAN
    assert info.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == settings.COOP_BANK_BIC
    assert info.findtext("p:Dbtr/p:Nm", namespaces=NS) == settings.COOP_BANK_NAME
    assert info.findtext("p:ReqdExctnDt", namespaces=NS) == batch.execution_date.isoformat()
    payments = {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS): (
            tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            tx.findtext("p:Cdtr/p:Nm", namespaces=NS),
            tx.find("p:Amt/p:InstdAmt", NS).text,
            tx.find("p:Amt/p:InstdAmt", NS).get("Ccy"),
            tx.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS),
        )
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    }
    assert payments == {
        f"COOP-PAYOUT-{first.pk}": (VALID_IBAN, "Ana Muller", "12.34", "EUR", "COBADEFFXXX"),
        f"COOP-PAYOUT-{second.pk}": (VALID_IBAN_2, "Jo Dupont", "56.78", "EUR", "PSSTFRPP"),
    }


def test_sent_then_paid_and_failed_settle_the_ledger_and_close_the_batch() -> None:
    batch, first, second = _two_workers_in_a_batch()
    cashier = treasurer()
    services.sepa_batch_mark_sent(batch_id=batch.pk, actor=cashier)
    first.refresh_from_db()
    assert first.state == Payout.State.SUBMITTED

    services.sepa_payment_mark_paid(payout_id=first.pk, actor=cashier)
    services.sepa_payment_mark_paid(payout_id=first.pk, actor=cashier)  # the bank report read twice
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.sepa_payment_mark_failed(payout_id=second.pk, actor=cashier, reason="account closed")

    first.refresh_from_db()
    second.refresh_from_db()
    batch.refresh_from_db()
    assert first.state == Payout.State.PAID
    assert second.state == Payout.State.FAILED
    assert "account closed" in second.failure_message
    assert batch.state == SepaBatch.State.CLOSED and batch.closed_at is not None
    assert balance(accounts.worker_earnings(first.user)).available == 0
    assert balance(accounts.worker_earnings(second.user)).available == 56_78
    assert balance(accounts.external_bank()).posted == 12_34
    assert Transfer.objects.filter(pending_id__in=[first.ledger_pending_id, second.ledger_pending_id]).count() == 2
    assert ledger_check() == []


def test_a_payment_cannot_be_marked_before_the_file_is_sent_and_nothing_changes() -> None:
    _batch, first, _ = _two_workers_in_a_batch()
    cashier = treasurer()
    with pytest.raises(AppError) as error:
        services.sepa_payment_mark_paid(payout_id=first.pk, actor=cashier)
    assert error.value.code == "batch_not_sent"
    first.refresh_from_db()
    assert first.state == Payout.State.CREATED
    assert not Transfer.objects.filter(pending_id=first.ledger_pending_id).exists()


def test_only_the_treasurer_settles_and_a_failure_needs_a_reason() -> None:
    batch, first, _ = _two_workers_in_a_batch()
    with pytest.raises(AppError) as error:
        services.sepa_batch_mark_sent(batch_id=batch.pk, actor=first.user)
    assert error.value.code == "permission_denied"
    batch.refresh_from_db()
    assert batch.state == SepaBatch.State.OPEN
    cashier = treasurer()
    services.sepa_batch_mark_sent(batch_id=batch.pk, actor=cashier)
    with pytest.raises(AppError) as error:
        services.sepa_payment_mark_failed(payout_id=first.pk, actor=cashier, reason="  ")
    assert error.value.code == "reason_required"
    first.refresh_from_db()
    assert first.state == Payout.State.SUBMITTED
    with pytest.raises(AppError) as error:
        services.sepa_batch_mark_sent(batch_id=batch.pk, actor=cashier)
    assert error.value.code == "invalid_state"


def test_treasury_api_lists_downloads_and_settles(api) -> None:
    batch, first, second = _two_workers_in_a_batch()
    cashier = treasurer()
    api.force_authenticate(first.user)
    assert api.get("/api/treasury/payout-batches/").status_code == 403
    api.force_authenticate(cashier)
    listing = api.get("/api/treasury/payout-batches/").json()
    assert [row["message_id"] for row in listing["results"]] == [batch.message_id]
    assert listing["results"][0]["total_amount"] == "69.12"
    download = api.get(f"/api/treasury/payout-batches/{batch.pk}/sepa.xml")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/xml"
    assert batch.message_id.encode() in download.content
    assert api.post(f"/api/treasury/payout-batches/{batch.pk}/sent/").json()["state"] == "sent"
    paid = api.post(f"/api/treasury/payout-batches/{batch.pk}/payments/{first.pk}/paid/")
    assert paid.json()["state"] == "paid"
    refused = api.post(f"/api/treasury/payout-batches/{batch.pk}/payments/{second.pk}/failed/", {}, format="json")
    assert refused.status_code == 400
    second.refresh_from_db()
    assert second.state == Payout.State.SUBMITTED
    failed = api.post(
        f"/api/treasury/payout-batches/{batch.pk}/payments/{second.pk}/failed/",
        {"reason": "IBAN unknown"},
        format="json",
    )
    assert failed.json()["state"] == "failed"
    assert api.get(f"/api/treasury/payout-batches/{batch.pk}/").json()["state"] == "closed"
    assert ledger_check() == []


def test_treasurer_creates_a_batch_for_payouts_asked_for_between_runs(api) -> None:
    worker = sepa_worker()
    earn(worker, 20_00)
    payout = services.payout_request(user=worker, amount=15_00)
    cashier = treasurer()
    api.force_authenticate(cashier)
    created = api.post("/api/treasury/payout-batches/")
    assert created.status_code == 201
    body = created.json()
    assert [p["payout_id"] for p in body["payments"]] == [payout.pk]
    assert body["payments"][0]["iban"] == VALID_IBAN
    again = api.post("/api/treasury/payout-batches/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "nothing_to_batch"
    assert SepaBatch.objects.count() == 1


def test_management_command_runs_the_whole_cycle(tmp_path) -> None:
    worker = sepa_worker()
    earn(worker, 20_00)
    payout = services.payout_request(user=worker)
    cashier = treasurer()
    out = StringIO()
    call_command("sepa_batch", "create", treasurer=cashier.username, stdout=out)
    batch = SepaBatch.objects.get()
    assert f"Batch {batch.pk}" in out.getvalue() and "20.00 EUR" in out.getvalue()
    target = tmp_path / "batch.xml"
    call_command("sepa_batch", "xml", str(batch.pk), treasurer=cashier.username, out=str(target), stdout=StringIO())
    assert ElementTree.parse(target).getroot().find(".//p:MsgId", NS).text == batch.message_id
    call_command("sepa_batch", "sent", str(batch.pk), treasurer=cashier.username, stdout=StringIO())
    call_command("sepa_batch", "paid", payout.end_to_end_id, treasurer=cashier.username, stdout=StringIO())
    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID
    # A SEPA return after the bank reported it paid: the money comes back to the worker.
    call_command(
        "sepa_batch", "failed", str(payout.pk), treasurer=cashier.username, reason="account closed", stdout=StringIO()
    )
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert Transfer.objects.get(pk=f"payout:{payout.pk}:returned").amount == 20_00
    assert balance(accounts.worker_earnings(worker)).available == 20_00
    with pytest.raises(CommandError, match="invalid_state"):
        call_command("sepa_batch", "paid", str(payout.pk), treasurer=cashier.username, stdout=StringIO())
    with pytest.raises(CommandError, match="permission_denied"):
        call_command("sepa_batch", "create", treasurer=worker.username, stdout=StringIO())
    assert ledger_check() == []


def test_execution_date_can_be_chosen() -> None:
    worker = sepa_worker()
    earn(worker, 20_00)
    services.payout_request(user=worker)
    batch = services.sepa_batch_create(actor=treasurer(), execution_date=date(2026, 12, 1))
    root = ElementTree.fromstring(services.sepa_batch_file(batch=batch))
    assert root.find(".//p:ReqdExctnDt", NS).text == "2026-12-01"


def test_the_batch_list_takes_a_fixed_number_of_queries(api) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cashier = treasurer()
    api.force_authenticate(cashier)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/treasury/payout-batches/").status_code == 200
        return len(queries)

    worker = sepa_worker()
    earn(worker, 100_00)
    services.payout_request(user=worker, amount=10_00)
    services.sepa_batch_create(actor=cashier)
    one = count()
    for _ in range(3):
        services.payout_request(user=worker, amount=10_00)
        services.sepa_batch_create(actor=cashier)
    assert count() == one
