"""Receipts and monthly statements through the API: PDF or CSV (``?as=pdf|csv``), for the
organisation's finance role or a key with the funds scope."""

from datetime import date

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from core.errors import AppError
from payments import documents, statements

# Both formats the ``as`` parameter chooses, so the schema names every content type served.
DOCUMENT_RESPONSES = {(200, "application/pdf"): OpenApiTypes.BINARY, (200, "text/csv"): OpenApiTypes.STR}
FORMAT = OpenApiParameter("as", str, enum=["pdf", "csv"], description="pdf (the default) or csv.")


def document_response(*, content: bytes | str, file_format: str, filename: str) -> HttpResponse:
    content_type = "application/pdf" if file_format == "pdf" else "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response


def _format(request: Request) -> str:
    file_format = request.query_params.get("as", "pdf")
    if file_format not in ("pdf", "csv"):
        raise AppError("invalid", "as must be pdf or csv.", fields={"as": ["pdf or csv."]})
    return file_format


def statement_month(year: int, month: int) -> date:
    if not (2000 <= year <= 9999 and 1 <= month <= 12):
        raise AppError("invalid", "No such month.", status=404)
    return date(year, month, 1)


class DepositReceiptView(APIView):
    accepts_organisation_keys = True

    @extend_schema(parameters=[FORMAT], responses=DOCUMENT_RESPONSES)
    def get(self, request: Request, slug: str, deposit_id: int) -> HttpResponse:
        """The receipt of a deposit the co-op credited; 404 for any other."""
        organisation = organisation_for_request(request, slug, "funds")
        receipt = statements.deposit_receipt(organisation=organisation, deposit_id=deposit_id)
        file_format = _format(request)
        content = documents.receipt_pdf(receipt) if file_format == "pdf" else documents.receipt_csv(receipt)
        return document_response(content=content, file_format=file_format, filename=f"receipt-{receipt.number}")


class StatementView(APIView):
    accepts_organisation_keys = True

    @extend_schema(parameters=[FORMAT], responses=DOCUMENT_RESPONSES)
    def get(self, request: Request, slug: str, year: int, month: int) -> HttpResponse:
        """The month's statement (UTC) of deposits, escrow, payments, fees and refunds, from the ledger."""
        organisation = organisation_for_request(request, slug, "funds")
        statement = statements.organisation_statement(organisation=organisation, month=statement_month(year, month))
        file_format = _format(request)
        content = documents.statement_pdf(statement) if file_format == "pdf" else documents.statement_csv(statement)
        return document_response(
            content=content, file_format=file_format, filename=f"statement-{slug}-{year:04d}-{month:02d}"
        )


urlpatterns = [
    path(
        "organisations/<slug:slug>/deposits/<int:deposit_id>/receipt/",
        DepositReceiptView.as_view(),
        name="api-deposit-receipt",
    ),
    path(
        "organisations/<slug:slug>/statements/<int:year>/<int:month>/",
        StatementView.as_view(),
        name="api-statement",
    ),
]
