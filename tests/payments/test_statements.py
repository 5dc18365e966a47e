"""Receipts for confirmed deposits and monthly statements (issue 24 point 8): every figure
read from the ledger, checked here against the ledger's own account totals and against what
the workers and the co-op actually received; PDF and CSV through the pages and the API."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from ledger import accounts
from ledger.escrow import balance
from payments import services as payment_services
from payments.statements import deposit_receipt, organisation_statement, statement_months
from tasks import services
from tests.factories import UserFactory
from tests.payments.factories import fund_by_bank
from tests.tasks.factories import make_batch

pytestmark = pytest.mark.django_db


def _month(moment=None) -> date:  # type: ignore[no-untyped-def]
    moment = moment or timezone.now()
    return date(moment.year, moment.month, 1)


def _busy_month(organisation: Organisation, requester: User) -> dict[str, object]:
    """A month of money: a bank deposit, a batch published, work approved, rejected and
    finally returned, a bonus, a bank withdrawal."""
    deposit = fund_by_bank(organisation=organisation, actor=requester, amount=20_00)
    batch = make_batch(organisation)  # 2 tasks x 2 slots of 0.50 + 0.05 fee
    services.batch_publish(batch=batch, actor=requester)
    workers = [UserFactory() for _ in range(3)]
    done = []
    for worker in workers:
        slot = services.assignment_accept(worker=worker, batch=batch)
        done.append(services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"}))
    fees_before = balance(accounts.coop_fees()).posted
    services.assignment_approve(actor=requester, assignment=done[0])
    services.assignments_approve_many(actor=requester, batch=batch, assignment_ids=[done[1].pk])
    services.assignment_reject(actor=requester, assignment=done[2], reason="incomplete", text="Empty answers.")
    services.assignment_rejection_finalise(assignment=done[2])
    services.assignment_bonus(actor=requester, assignment=done[0], amount=30, reason="Careful.")
    payment_services.withdrawal_request(
        organisation=organisation,
        actor=requester,
        amount=5_00,
        method="bank",
        iban="DE89370400440532013000",
        account_holder="Lab",
    )
    return {"deposit": deposit, "workers": workers, "fees": balance(accounts.coop_fees()).posted - fees_before}


def test_statement_sums_match_the_ledger(organisation: Organisation, requester: User) -> None:
    made = _busy_month(organisation, requester)
    statement = organisation_statement(organisation=organisation, month=_month())
    available, escrow = balance(accounts.org_available(organisation)), balance(accounts.org_escrow(organisation))
    # Opening + the month's lines = closing, and the closing is what the ledger's accounts hold.
    for account in (statement.available, statement.escrow):
        assert account.opening == 0
        assert account.opening + sum(account.lines.values()) == account.closing
    assert statement.available.closing == available.available
    assert statement.escrow.closing == escrow.posted + escrow.credits_pending
    workers = made["workers"]
    paid = sum(balance(accounts.worker_earnings(w)).posted for w in workers)  # type: ignore[attr-defined]
    assert statement.summary == {
        "deposits": 20_00,
        "escrow_reserved": 4 * 55,
        "escrow_returned": 55,  # the rejection made final
        "escrow_held_at_close": 55,  # the slot nobody took
        "payments_to_workers": paid,
        "fees": made["fees"],
        "refunds_and_withdrawals": 5_00,
    }
    assert paid == 50 + 50 + 30
    assert statement.available.lines == {
        "deposits": 20_00,
        "escrow_reserved": -220,
        "escrow_returned": 55,
        "bonuses": -30,
        "bank_withdrawals": -5_00,
    }
    assert statement.escrow.lines == {"escrow_reserved": 220, "escrow_returned": -55, "rewards": -100, "coop_fees": -10}
    assert [d.pk for d in statement.deposits] == [made["deposit"].pk]  # type: ignore[attr-defined]


def test_next_month_opens_with_this_months_closing_and_earlier_months_are_empty(
    organisation: Organisation, requester: User
) -> None:
    _busy_month(organisation, requester)
    this = organisation_statement(organisation=organisation, month=_month())
    following = organisation_statement(organisation=organisation, month=_month(timezone.now() + timedelta(days=32)))
    assert (following.available.opening, following.escrow.opening) == (this.available.closing, this.escrow.closing)
    assert following.available.lines == {} and following.escrow.lines == {} and following.deposits == []
    before = organisation_statement(organisation=organisation, month=_month(timezone.now() - timedelta(days=40)))
    assert (before.available.closing, before.escrow.closing, before.summary["deposits"]) == (0, 0, 0)
    assert statement_months(organisation=organisation) == [_month()]


def test_receipts_only_for_credited_deposits_of_the_organisation(organisation: Organisation, requester: User) -> None:
    from core.errors import NotFound
    from tests.factories import OrganisationFactory

    other_organisation = OrganisationFactory()

    credited = fund_by_bank(organisation=organisation, actor=requester, amount=12_34)
    waiting = payment_services.deposit_bank_start(organisation=organisation, actor=requester, amount=5_00)
    receipt = deposit_receipt(organisation=organisation, deposit_id=credited.pk)
    assert (receipt.amount, receipt.transfer_id, receipt.number) == (
        12_34,
        f"deposit:{credited.pk}",
        f"R-{credited.reference}",
    )
    for organisation_, deposit_id in ((organisation, waiting.pk), (other_organisation, credited.pk)):
        with pytest.raises(NotFound):
            deposit_receipt(organisation=organisation_, deposit_id=deposit_id)


def test_pages_and_api_serve_pdf_and_csv(client: Client, organisation: Organisation, requester: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.COOP_LEGAL_NAME = "Crowdwork Co-operative eG (test)"
    settings.COOP_VAT_ID = "DE123456789"
    deposit = fund_by_bank(organisation=organisation, actor=requester, amount=12_34)
    month = _month()
    client.force_login(requester)
    page = client.get(f"/org/{organisation.slug}/statements/")
    assert page.status_code == 200
    assert deposit.reference in page.content.decode()
    pdf = client.get(f"/org/{organisation.slug}/statements/{month.year}/{month.month}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 1000
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/org/{organisation.slug}/statements/{month.year}/{month.month}/csv/").content.decode()
            )
        )
    )
    assert ["issuer", "Crowdwork Co-operative eG (test)", "", ""] in rows
    assert ["summary", "deposits", "12.34", "EUR"] in rows
    assert ["available", "closing", "12.34", "EUR"] in rows
    assert (
        f"/org/{organisation.slug}/funds/{deposit.pk}/receipt/pdf/"
        in client.get(f"/org/{organisation.slug}/funds/{deposit.pk}/").content.decode()
    )
    receipt_pdf = client.get(f"/org/{organisation.slug}/funds/{deposit.pk}/receipt/pdf/")
    assert receipt_pdf.status_code == 200 and receipt_pdf.content.startswith(b"%PDF-")
    receipt_rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/org/{organisation.slug}/funds/{deposit.pk}/receipt/csv/").content.decode())
        )
    )
    assert receipt_rows == [
        {
            "receipt": f"R-{deposit.reference}",
            "reference": deposit.reference,
            "organisation": organisation.legal_name,
            "method": "bank",
            "credited_at": deposit.credited_at.isoformat(),  # type: ignore[union-attr]
            "amount": "12.34",
            "currency": "EUR",
            "ledger_transfer": f"deposit:{deposit.pk}",
            "issuer": "Crowdwork Co-operative eG (test)",
        }
    ]
    assert client.get(f"/org/{organisation.slug}/statements/{month.year}/13/pdf/").status_code == 404
    assert client.get(f"/org/{organisation.slug}/statements/{month.year}/{month.month}/xls/").status_code == 404
    # The API: the same documents for the organisation; nothing for outsiders.
    api = APIClient()
    api.force_authenticate(requester)
    response = api.get(f"/api/organisations/{organisation.slug}/statements/{month.year}/{month.month}/", {"as": "csv"})
    assert response.status_code == 200 and b"summary,deposits,12.34,EUR" in response.content
    assert api.get(f"/api/organisations/{organisation.slug}/deposits/{deposit.pk}/receipt/").content.startswith(
        b"%PDF-"
    )
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get(f"/org/{organisation.slug}/funds/{deposit.pk}/receipt/pdf/").status_code == 404
    api.force_authenticate(outsider)
    assert api.get(f"/api/organisations/{organisation.slug}/deposits/{deposit.pk}/receipt/").status_code == 404
