"""A requester's submissions of a batch: list, read, approve (one or many), reject,
withdraw a rejection, bonus, and the paid results as CSV or JSON."""

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import MinorUnitsAmountField, Pagination, StrictSerializer
from core.errors import AppError
from core.money import MAX_BONUS
from tasks import selectors, services
from tasks.api.access import _user, batch_for_request
from tasks.models import Assignment
from tasks.states import REJECTION_REASONS


class SubmissionOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    worker = serializers.CharField(source="worker.pseudonym")
    status = serializers.CharField()
    input = serializers.JSONField(source="task.input")
    answers = serializers.JSONField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    auto_approve_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()
    rejection_text = serializers.CharField()
    rejection_final_at = serializers.DateTimeField(allow_null=True)
    work_seconds = serializers.SerializerMethodField(help_text="Seconds from accepting to submitting.")

    def get_work_seconds(self, assignment: Assignment) -> int | None:
        return selectors.submission_work_seconds(assignment)

    reuse_opted_out = serializers.SerializerMethodField(
        help_text="The worker refused reuse of these answers beyond the batch's purpose (only where the batch "
        "allows reuse)."
    )

    def get_reuse_opted_out(self, assignment: Assignment) -> bool:
        return assignment.pk in self.context.get("reuse_opted_out", set())


def _submissions_out(rows: list[Assignment]) -> list[dict[str, object]]:
    """Serialized submissions with each one's reuse opt-out (one query for the page)."""
    opted_out = selectors.reuse_opted_out_ids(assignments=rows)
    return SubmissionOut(rows, many=True, context={"reuse_opted_out": opted_out}).data  # type: ignore[return-value]


class FeedbackIn(StrictSerializer):
    feedback = serializers.CharField(required=False, allow_blank=True, default="")


class BulkApproveIn(StrictSerializer):
    assignment_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False, max_length=5000)
    feedback = serializers.CharField(required=False, allow_blank=True, default="")


class RejectIn(StrictSerializer):
    reason = serializers.ChoiceField(choices=list(REJECTION_REASONS))
    text = serializers.CharField()


class BonusIn(StrictSerializer):
    amount = MinorUnitsAmountField(maximum=MAX_BONUS)
    reason = serializers.CharField()
    token = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class BonusOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    assignment_id = serializers.IntegerField()
    amount = serializers.IntegerField()
    reason = serializers.CharField()
    kind = serializers.CharField()
    created_at = serializers.DateTimeField()


class SubmissionPageOut(serializers.Serializer):  # type: ignore[type-arg]
    """A page of escrow-backed submissions (numbered pages: the escrow check runs per page)."""

    count = serializers.IntegerField()
    page = serializers.IntegerField()
    results = SubmissionOut(many=True)


class SubmissionsView(APIView):
    accepts_organisation_keys = True

    @extend_schema(
        operation_id="batches_submissions_list",
        responses=SubmissionPageOut,
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("worker", str, description="A worker's pseudonym."),
            OpenApiParameter("min_work_seconds", int),
            OpenApiParameter("max_work_seconds", int),
            OpenApiParameter("ordering", str, enum=list(selectors.SUBMISSION_TABLE_ORDERINGS)),
        ],
    )
    def get(self, request: Request, batch_id: int) -> Response:
        """Submissions whose pay is held in escrow or paid; nothing else is ever shown.
        Filtered by status, worker and work time, sorted by ``ordering``."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        paginator = Pagination()
        params = request.query_params
        page_size = paginator.get_page_size(request) or 50
        try:
            page = max(1, int(params.get("page", "1")))
            bounds = {
                name: int(params[name]) if params.get(name, "") != "" else None
                for name in ("min_work_seconds", "max_work_seconds")
            }
        except ValueError:
            raise AppError("invalid", _("page, min_work_seconds and max_work_seconds must be whole numbers.")) from None
        ordering = params.get("ordering", "id")
        if ordering not in selectors.SUBMISSION_TABLE_ORDERINGS:
            raise AppError(
                "invalid",
                _("ordering must be one of: %(SUBMISSION_TABLE_ORDERINGS)s.")
                % {"SUBMISSION_TABLE_ORDERINGS": ", ".join(selectors.SUBMISSION_TABLE_ORDERINGS)},
                fields={
                    "ordering": [
                        _("One of: %(SUBMISSION_TABLE_ORDERINGS)s.")
                        % {"SUBMISSION_TABLE_ORDERINGS": ", ".join(selectors.SUBMISSION_TABLE_ORDERINGS)}
                    ]
                },
            )
        rows, total = selectors.submissions_table(
            batch=batch,
            status=params.get("status") or None,
            worker=params.get("worker", ""),
            ordering=ordering,
            offset=(page - 1) * page_size,
            limit=page_size,
            **bounds,
        )
        return Response({"count": total, "page": page, "results": _submissions_out(list(rows))})


class SubmissionDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=SubmissionOut)
    def get(self, request: Request, batch_id: int, assignment_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        [submission] = _submissions_out([selectors.submission_for_requester(batch=batch, assignment_id=assignment_id)])
        return Response(submission)


def _submission(request: Request, batch_id: int, assignment_id: int) -> Assignment:
    batch = batch_for_request(request, batch_id, "tasks.review_batch")
    return selectors.submission_for_requester(batch=batch, assignment_id=assignment_id)


class ApproveView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=FeedbackIn, responses=SubmissionOut)
    def post(self, request: Request, batch_id: int, assignment_id: int) -> Response:
        assignment = _submission(request, batch_id, assignment_id)
        data = FeedbackIn(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_approve(actor=_user(request), assignment=assignment, **data.validated_data)
        return Response(SubmissionOut(assignment).data)


class RejectView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=RejectIn, responses=SubmissionOut)
    def post(self, request: Request, batch_id: int, assignment_id: int) -> Response:
        assignment = _submission(request, batch_id, assignment_id)
        data = RejectIn(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_reject(actor=_user(request), assignment=assignment, **data.validated_data)
        return Response(SubmissionOut(assignment).data)


class WithdrawRejectionView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=None, responses=SubmissionOut)
    def post(self, request: Request, batch_id: int, assignment_id: int) -> Response:
        """Takes back the requester's own provisional rejection and pays the work in full; a
        dispute case still awaiting the requester's answer closes as accepted."""
        assignment = _submission(request, batch_id, assignment_id)
        assignment = services.assignment_rejection_withdraw(actor=_user(request), assignment=assignment)
        return Response(SubmissionOut(assignment).data)


class BonusView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=BonusIn, responses={201: BonusOut})
    def post(self, request: Request, batch_id: int, assignment_id: int) -> Response:
        assignment = _submission(request, batch_id, assignment_id)
        data = BonusIn(data=request.data)
        data.is_valid(raise_exception=True)
        bonus = services.assignment_bonus(actor=_user(request), assignment=assignment, **data.validated_data)
        return Response(BonusOut(bonus).data, status=201)


class BulkApproveView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=BulkApproveIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, batch_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        data = BulkApproveIn(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.assignments_approve_many(actor=_user(request), batch=batch, **data.validated_data)
        return Response({"approved": count})


class ExportCsvView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, batch_id: int) -> HttpResponse:
        """Paid work only, in MTurk's batch-results CSV shape."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        columns, rows = selectors.batch_results_export(batch=batch)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{selectors.export_filename(batch, "csv")}"'
        return response


class ExportJsonView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, batch_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        columns, rows = selectors.batch_results_export(batch=batch)
        return Response({"batch": batch.pk, "sandbox": batch.is_sandbox, "columns": columns, "results": rows})
