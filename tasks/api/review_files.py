"""Offline review through the API, as on the page: the submissions awaiting review as a
CSV in MTurk's batch-results shape with ``Approve`` and ``Reject`` columns, the edited file
applied all or nothing, and bonuses from a CSV (idempotent)."""

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictSerializer
from core.errors import AppError
from tasks import selectors, services
from tasks.api.access import _user, batch_for_request

MAX_FILE_BYTES = 10 * 1024 * 1024


class ReviewFileIn(StrictSerializer):
    content = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="The CSV as text."
    )
    file = serializers.FileField(required=False, help_text="Or the CSV as a multipart upload.")


class ReviewFileOut(serializers.Serializer):  # type: ignore[type-arg]
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    undecided = serializers.IntegerField()


class BonusFileOut(serializers.Serializer):  # type: ignore[type-arg]
    paid = serializers.IntegerField()
    already_paid = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Newly paid, in minor units.")


def uploaded_csv(request: Request) -> str:
    """The CSV text of a request: a multipart ``file`` or a JSON ``content``."""
    data = ReviewFileIn(data=request.data)
    data.is_valid(raise_exception=True)
    upload = data.validated_data.get("file")
    if upload is not None:
        if upload.size > MAX_FILE_BYTES:
            raise AppError("invalid_file", _("The file is larger than 10 MB; split it into smaller files."))
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise AppError("invalid_file", _("The file is not UTF-8 text; save it as UTF-8 CSV.")) from None
    content = data.validated_data.get("content", "")
    if not content:
        raise AppError("invalid_file", _("Send the CSV as a multipart file or as content."))
    return str(content)


def review_file_response(batch_id: int, columns: list[str], rows: list[dict[str, str]]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch_id}-review.csv"'
    return response


class ReviewFileView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="batches_review_file_download", responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, batch_id: int) -> HttpResponse:
        """The submissions awaiting review in MTurk's batch-results shape, with empty
        ``Approve`` and ``Reject`` columns to fill."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        columns, rows = selectors.batch_review_file(batch=batch)
        return review_file_response(batch.pk, columns, rows)

    @extend_schema(operation_id="batches_review_file_apply", request=ReviewFileIn, responses=ReviewFileOut)
    def post(self, request: Request, batch_id: int) -> Response:
        """Applies the edited file, all or nothing: 400 ``review_file_invalid`` lists every
        bad row in ``details.errors`` (row, column, message) and changes nothing."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        result = services.review_file_apply(
            actor=_user(request), organisation=batch.organisation, batch=batch, content=uploaded_csv(request)
        )
        return Response(ReviewFileOut(result).data)


class BonusFileView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="batches_bonus_file_apply", request=ReviewFileIn, responses=BonusFileOut)
    def post(self, request: Request, batch_id: int) -> Response:
        """Pays the bonuses of a CSV (``AssignmentId``, ``BonusAmount``, ``Reason``, optional
        ``WorkerId`` and ``UniqueRequestToken``); a row paid before is not paid again."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        result = services.bonus_file_apply(
            actor=_user(request), organisation=batch.organisation, batch=batch, content=uploaded_csv(request)
        )
        return Response(BonusFileOut(result).data)
