"""The co-op's data promises through the API (issue 28): a requester files and reads the
end-of-batch data report; a worker opts out of reuse of their answers on a slot."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictSerializer
from core.errors import NotFound
from tasks import selectors, services
from tasks.api.access import _user, _worker, batch_for_request
from tasks.models import Assignment, BatchDataReport


class DataReportIn(StrictSerializer):
    used_for = serializers.CharField(help_text="What the data was used for.")
    matched = serializers.ChoiceField(
        choices=BatchDataReport.Matched.values, help_text="Did the use match the stated purpose and data use?"
    )
    matched_explanation = serializers.CharField(required=False, allow_blank=True, default="")
    published_where = serializers.CharField(required=False, allow_blank=True, default="")


class DataReportOut(serializers.Serializer):  # type: ignore[type-arg]
    batch = serializers.IntegerField(source="batch_id")
    used_for = serializers.CharField()
    matched = serializers.CharField()
    matched_explanation = serializers.CharField()
    published_where = serializers.CharField()
    filed_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    late = serializers.BooleanField()


class DataReportStatusOut(serializers.Serializer):  # type: ignore[type-arg]
    due_at = serializers.DateTimeField(allow_null=True, help_text="Null while the batch is open, or if cancelled.")
    overdue_marked_at = serializers.DateTimeField(allow_null=True)
    report = DataReportOut(allow_null=True)


class BatchDataReportView(APIView):
    """The end-of-batch data report: due once the batch has closed (completed or expired),
    within the governed ``data_report_days``; one per batch."""

    accepts_organisation_keys = True

    @extend_schema(responses=DataReportStatusOut)
    def get(self, request: Request, batch_id: int) -> Response:
        batch = batch_for_request(request, batch_id)
        report = BatchDataReport.objects.filter(batch=batch).first()
        body: dict[str, Any] = {
            "due_at": selectors.data_report_due_at(batch),
            "overdue_marked_at": batch.data_report_overdue_at,
            "report": report,
        }
        return Response(DataReportStatusOut(body).data)

    @extend_schema(request=DataReportIn, responses={201: DataReportOut})
    def post(self, request: Request, batch_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.change_batch")
        data = DataReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.batch_data_report_file(batch=batch, actor=_user(request), **data.validated_data)
        return Response(DataReportOut(report).data, status=201)


class ReuseOptOutOut(serializers.Serializer):  # type: ignore[type-arg]
    assignment = serializers.IntegerField(source="assignment_id")
    opted_out = serializers.BooleanField(default=True)
    created_at = serializers.DateTimeField()


class ReuseOptOutView(APIView):
    """The worker refuses reuse of their own answers on this slot beyond the batch's purpose
    (only where the batch's data use allows such reuse). Idempotent."""

    @extend_schema(request=None, responses={200: ReuseOptOutOut})
    def post(self, request: Request, assignment_id: int) -> Response:
        worker = _worker(request)
        assignment = Assignment.objects.filter(pk=assignment_id).first()
        if assignment is None:
            raise NotFound("assignment")
        opt_out = services.assignment_reuse_opt_out(worker=worker, assignment=assignment)
        return Response(ReuseOptOutOut(opt_out).data)
