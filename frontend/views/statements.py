"""Receipts for confirmed deposits and monthly statements, as PDF and CSV (issue 24
point 8). The figures come from the ledger through ``payments.statements``."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import NotFound
from frontend.pages import app_page
from frontend.views.requester import _organisation
from payments import documents, statements
from payments import selectors as payment_selectors
from payments.statements_api import document_response, statement_month


def _file_format(file_format: str) -> str:
    if file_format not in ("pdf", "csv"):
        raise NotFound("file format")
    return file_format


@app_page
def statements_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Every month with ledger movements, newest first, and the receipts of credited deposits."""
    organisation = _organisation(request, slug, "funds")
    deposits = payment_selectors.deposits_for_organisation(organisation=organisation).filter(
        status__in=statements.RECEIPT_STATUSES, credited_at__isnull=False
    )[:100]
    return render(
        request,
        "frontend/requester/statements.html",
        {
            "organisation": organisation,
            "months": statements.statement_months(organisation=organisation),
            "deposits": deposits,
        },
    )


@app_page
def statement_download(request: HttpRequest, slug: str, year: int, month: int, file_format: str) -> HttpResponse:
    organisation = _organisation(request, slug, "funds")
    statement = statements.organisation_statement(organisation=organisation, month=statement_month(year, month))
    file_format = _file_format(file_format)
    content = documents.statement_pdf(statement) if file_format == "pdf" else documents.statement_csv(statement)
    return document_response(
        content=content, file_format=file_format, filename=f"statement-{slug}-{year:04d}-{month:02d}"
    )


@app_page
def receipt_download(request: HttpRequest, slug: str, deposit_id: int, file_format: str) -> HttpResponse:
    organisation = _organisation(request, slug, "funds")
    receipt = statements.deposit_receipt(organisation=organisation, deposit_id=deposit_id)
    file_format = _file_format(file_format)
    content = documents.receipt_pdf(receipt) if file_format == "pdf" else documents.receipt_csv(receipt)
    return document_response(content=content, file_format=file_format, filename=f"receipt-{receipt.number}")
