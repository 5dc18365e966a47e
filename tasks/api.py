"""REST endpoints of the marketplace. Views are thin: validate with a StrictSerializer,
call one service or selector, serialize. Workers appear to requesters only by pseudonym."""

import csv
import io
from datetime import datetime, tzinfo
from typing import Any

from django import forms
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request, request_actor, request_user
from accounts.models import ApiKey, Organisation, User
from accounts.selectors import organisation_public, require_organisation_capability
from core.api import MinorUnitsAmountField, Pagination, StrictSerializer, paginated
from core.errors import AppError, NotFound
from core.money import MAX_BONUS, MAX_REWARD
from notifications.render import words
from notifications.selectors import inbox_for_user
from tasks import inputs, selectors, services
from tasks.models import Assignment, Batch, Qualification
from tasks.states import REJECTION_REASONS

# --- Access --------------------------------------------------------------------------------------


def batch_for_request(request: Request, batch_id: int, permission: str = "tasks.view_batch") -> Batch:
    """The one way in to a batch for requester endpoints: guardian permission through the
    organisation's staff group and, for an API key, the key's own organisation; changing
    a batch needs the ``publish`` capability, reviewing it ``review`` (team role or key scope)."""
    batch = selectors.access_batch(user=_user(request), batch_id=batch_id, permission=permission)
    key = request.auth if isinstance(request.auth, ApiKey) else None
    if key is not None and key.organisation_id != batch.organisation_id:
        raise NotFound("batch")
    capability = selectors.BATCH_PERMISSION_CAPABILITY.get(permission)
    if capability is not None:
        require_organisation_capability(
            user=_user(request), organisation=batch.organisation, capability=capability, api_key=key
        )
    return batch


def _user(request: Request) -> User:
    """Who acts on a requester endpoint: the signed-in person, or for an organisation's
    API key its accountable creator (see ``accounts.api.request_actor``)."""
    return request_actor(request)


def _worker(request: Request) -> User:
    """The signed-in person on a worker endpoint; never an organisation's key."""
    return request_user(request)


def _worker_by_pseudonym(pseudonym: str) -> User:
    worker = User.objects.filter(pseudonym=pseudonym).first()
    if worker is None:
        raise NotFound("worker")
    return worker


# --- Serializers ---------------------------------------------------------------------------------


class RequirementIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=["approval_rate", "approved_count", "locale", "qualification"])
    value = serializers.IntegerField(required=False, default=0)
    countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    qualification_id = serializers.IntegerField(required=False)


class MarketBatchIn(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    purpose = serializers.CharField()
    data_use = serializers.CharField()
    content_warnings = serializers.CharField(required=False, allow_blank=True, default="")
    keywords = serializers.CharField(required=False, allow_blank=True, default="", max_length=400)
    reward = MinorUnitsAmountField(maximum=MAX_REWARD, help_text="Minor units per assignment.")
    assignments_per_task = serializers.IntegerField()
    estimated_minutes = serializers.IntegerField()
    time_allotted_minutes = serializers.IntegerField()
    lifetime_hours = serializers.IntegerField()
    auto_approval_hours = serializers.IntegerField(required=False, allow_null=True, default=None)
    template_html = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    external_url = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    requirements = RequirementIn(many=True, required=False, default=list)


class RequirementOut(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField()
    value = serializers.IntegerField()
    countries = serializers.ListField(child=serializers.CharField(), source="country_list")
    reason = serializers.CharField()
    qualification_id = serializers.IntegerField(allow_null=True)
    text = serializers.SerializerMethodField()

    def get_text(self, requirement: Any) -> str:
        return selectors.requirement_text(requirement)


_REQUIREMENTS_OUT = RequirementOut(many=True)


def _iso(value: datetime, zone: tzinfo) -> str:
    """What DRF's ``DateTimeField`` gives for an aware datetime in the current time zone
    ``zone`` (ISO 8601, UTC as ``Z``), without looking the zone up again for each value."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class MarketBatchOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    organisation = serializers.CharField(source="organisation.slug")
    requirements = RequirementOut(many=True, source="requirement_rows")

    class Meta:
        model = Batch
        fields = [
            "id", "organisation", "status", "title", "description", "purpose", "data_use", "content_warnings",
            "keywords", "reward", "currency", "fee_per_assignment", "assignments_per_task", "estimated_minutes",
            "estimated_hourly_pay", "time_allotted_minutes", "lifetime_hours", "auto_approval_hours",
            "template_html", "external_url", "answer_fields", "placeholders", "rule_versions", "requirements",
            "created_at", "published_at", "expires_at", "ended_at",
        ]  # fmt: skip

    def to_representation(self, batch: Batch) -> dict[str, Any]:
        """What DRF's field-by-field walk gives (a test holds the two equal for every kind of
        batch), built directly: a requester's batch list is up to 50 of these, and the walk
        over 28 fields cost more than fetching the rows. The fields declared above still
        describe the output (the OpenAPI schema)."""
        data: dict[str, Any] = {}
        zone = timezone.get_current_timezone()
        for name in MarketBatchOut.Meta.fields:
            value = getattr(batch, name)
            if name == "organisation":
                value = value.slug
            elif name == "requirements":
                value = _REQUIREMENTS_OUT.to_representation(batch.requirement_rows)
            elif name.endswith("_at") and value is not None:
                value = _iso(value, zone)
            data[name] = value
        return data


class MarketBatchDetailOut(MarketBatchOut):
    counts = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()

    class Meta(MarketBatchOut.Meta):
        fields = [*MarketBatchOut.Meta.fields, "counts", "tasks"]

    def to_representation(self, batch: Batch) -> dict[str, Any]:
        return {**super().to_representation(batch), "counts": self.get_counts(batch), "tasks": self.get_tasks(batch)}

    def get_counts(self, batch: Batch) -> dict[str, int]:
        return selectors.batch_status_counts(batch=batch)

    def get_tasks(self, batch: Batch) -> int:
        return batch.tasks.count()


class InputIn(StrictSerializer):
    format = serializers.ChoiceField(choices=["csv", "json"], required=False)
    content = serializers.CharField(required=False, trim_whitespace=False)
    file = serializers.FileField(required=False)


class PerTaskIn(StrictSerializer):
    per_task = serializers.IntegerField()


class HoursIn(StrictSerializer):
    hours = serializers.IntegerField()


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


# --- Requester endpoints -------------------------------------------------------------------------


class OrganisationBatchesView(APIView):
    accepts_organisation_keys = True

    @extend_schema(
        operation_id="organisations_batches_list",
        responses=paginated(MarketBatchOut),
        parameters=[OpenApiParameter("status", str)],
    )
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        batches = selectors.batches_for_organisation(
            organisation=organisation, status=request.query_params.get("status")
        )
        paginator = Pagination()
        page = selectors.attach_requirements(paginator.paginate_queryset(batches, request, view=self) or [])
        for batch in page:
            batch.organisation = organisation  # known already: no join for every row
        return paginator.get_paginated_response(MarketBatchOut(page, many=True).data)

    @extend_schema(request=MarketBatchIn, responses={201: MarketBatchDetailOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        data = MarketBatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_create(organisation=organisation, actor=_user(request), **data.validated_data)
        return Response(MarketBatchDetailOut(batch).data, status=201)


class BatchDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=MarketBatchDetailOut)
    def get(self, request: Request, batch_id: int) -> Response:
        return Response(MarketBatchDetailOut(batch_for_request(request, batch_id)).data)


class BatchInputView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=InputIn, responses={200: OpenApiTypes.OBJECT})
    def put(self, request: Request, batch_id: int) -> Response:
        """Replace the draft's input rows with a CSV or JSON file (multipart ``file`` or
        JSON ``{"format", "content"}``). A bad file lists every bad row and creates nothing."""
        batch = batch_for_request(request, batch_id, "tasks.change_batch")
        data = InputIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("file")
        file_format = data.validated_data.get("format")
        if upload is not None:
            try:
                content = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise AppError("invalid_input_file", "The file is not UTF-8 text; save it as UTF-8 CSV.") from None
            file_format = file_format or ("json" if upload.name.lower().endswith(".json") else "csv")
        else:
            content = data.validated_data.get("content", "")
        if not content or not file_format:
            raise AppError("invalid", "Send a file, or a format (csv or json) and the content.")
        rows = services.batch_set_input(batch=batch, actor=_user(request), content=content, file_format=file_format)
        return Response({"rows": rows})


def _batch_action(name: str, permission: str = "tasks.change_batch") -> type[APIView]:
    service = getattr(services, f"batch_{name}")

    class BatchActionView(APIView):
        accepts_organisation_keys = True

        @extend_schema(request=None, responses=MarketBatchDetailOut, operation_id=f"batch_{name}")
        def post(self, request: Request, batch_id: int) -> Response:
            batch = service(batch=batch_for_request(request, batch_id, permission), actor=_user(request))
            return Response(MarketBatchDetailOut(batch).data)

    BatchActionView.__name__ = f"Batch{name.title()}View"
    return BatchActionView


class BatchAddAssignmentsView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=PerTaskIn, responses=MarketBatchDetailOut)
    def post(self, request: Request, batch_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.change_batch")
        data = PerTaskIn(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_add_assignments(batch=batch, actor=_user(request), **data.validated_data)
        return Response(MarketBatchDetailOut(batch).data)


class BatchExtendView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=HoursIn, responses=MarketBatchDetailOut)
    def post(self, request: Request, batch_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.change_batch")
        data = HoursIn(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_extend_lifetime(batch=batch, actor=_user(request), **data.validated_data)
        return Response(MarketBatchDetailOut(batch).data)


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
        parameters=[OpenApiParameter("status", str)],
    )
    def get(self, request: Request, batch_id: int) -> Response:
        """Submissions whose pay is held in escrow or paid; nothing else is ever shown."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        paginator = Pagination()
        status = request.query_params.get("status")
        page_size = paginator.get_page_size(request) or 50
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            raise AppError("invalid", "page must be a number.") from None
        rows = selectors.submissions_for_requester(
            batch=batch, status=status, offset=(page - 1) * page_size, limit=page_size
        )
        total = selectors.submissions_count(batch=batch, status=status)
        return Response({"count": total, "page": page, "results": SubmissionOut(rows, many=True).data})


class SubmissionDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=SubmissionOut)
    def get(self, request: Request, batch_id: int, assignment_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        return Response(
            SubmissionOut(selectors.submission_for_requester(batch=batch, assignment_id=assignment_id)).data
        )


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
        response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-results.csv"'
        return response


class ExportJsonView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, batch_id: int) -> Response:
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        columns, rows = selectors.batch_results_export(batch=batch)
        return Response({"batch": batch.pk, "columns": columns, "results": rows})


class QualificationIn(StrictSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField()
    test_questions = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    answer_key = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    pass_bps = serializers.IntegerField(required=False, default=10_000)
    estimated_minutes = serializers.IntegerField(
        required=False, default=1, help_text="Longer than the governed free length: the test is paid."
    )


class QualificationOut(serializers.Serializer):  # type: ignore[type-arg]
    """What anyone sees of a qualification: never the answer key."""

    id = serializers.IntegerField()
    organisation = serializers.CharField(source="organisation.slug")
    name = serializers.CharField()
    description = serializers.CharField()
    test_questions = serializers.JSONField()
    pass_bps = serializers.IntegerField()


class GrantIn(StrictSerializer):
    worker = serializers.CharField(help_text="The worker's pseudonym.")
    value = serializers.IntegerField(required=False, default=1)


class OrganisationQualificationsView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=QualificationOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        return Response(QualificationOut(organisation.qualifications.order_by("id"), many=True).data)

    @extend_schema(request=QualificationIn, responses={201: QualificationOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        data = QualificationIn(data=request.data)
        data.is_valid(raise_exception=True)
        qualification = services.qualification_create(
            organisation=organisation,
            actor=_user(request),
            **data.validated_data,
        )
        return Response(QualificationOut(qualification).data, status=201)


class QualificationGrantView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=GrantIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str, qualification_id: int) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        qualification = organisation.qualifications.filter(pk=qualification_id).first()
        if qualification is None:
            raise NotFound("qualification")
        data = GrantIn(data=request.data)
        data.is_valid(raise_exception=True)
        worker = _worker_by_pseudonym(data.validated_data["worker"])
        grant = services.qualification_grant(
            qualification=qualification,
            worker=worker,
            actor=_user(request),
            value=data.validated_data["value"],
        )
        return Response({"qualification": qualification.pk, "worker": worker.pseudonym, "value": grant.value})


class BlockIn(StrictSerializer):
    worker = serializers.CharField(help_text="The worker's pseudonym.")
    reason = serializers.CharField()


class BlockOut(serializers.Serializer):  # type: ignore[type-arg]
    worker = serializers.CharField(help_text="The worker's pseudonym.")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class NoticeOut(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField()
    message = serializers.CharField()
    batch = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class OrganisationBlocksView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_blocks_list", responses=BlockOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        blocks = organisation.blocked_workers.select_related("worker").order_by("id")
        return Response(
            [{"worker": b.worker.pseudonym, "reason": b.reason, "created_at": b.created_at} for b in blocks]
        )

    @extend_schema(request=BlockIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "review")
        data = BlockIn(data=request.data)
        data.is_valid(raise_exception=True)
        worker = _worker_by_pseudonym(data.validated_data["worker"])
        block = services.worker_block(
            organisation=organisation,
            actor=_user(request),
            worker=worker,
            reason=data.validated_data["reason"],
        )
        return Response({"worker": worker.pseudonym, "reason": block.reason}, status=201)


class OrganisationBlockDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, pseudonym: str) -> Response:
        organisation = organisation_for_request(request, slug, "review")
        services.worker_unblock(organisation=organisation, actor=_user(request), worker=_worker_by_pseudonym(pseudonym))
        return Response(status=204)


# --- Worker endpoints ----------------------------------------------------------------------------


class FeedQuery(forms.Form):
    """Query parameters of the task feed (validated; a bad value is a 400). A plain form:
    the feed is cut from the market copy in Python (``selectors.task_feed``), so nothing
    here builds a query, and a form is a third of a FilterSet's cost on every page."""

    min_reward = forms.IntegerField(required=False)
    min_hourly_pay = forms.IntegerField(required=False)
    max_minutes = forms.IntegerField(required=False)
    requester = forms.CharField(required=False)
    qualified_only = forms.NullBooleanField(required=False)
    ordering = forms.ChoiceField(choices=[(key, key) for key in selectors.FEED_ORDERINGS], required=False)

    @classmethod
    def params(cls, query: Any) -> dict[str, Any]:
        """The filters given in ``query``, each read and cleaned by its field exactly as a
        bound form would, without binding one: a form deep-copies its six fields (with their
        widgets and choices), which cost more than the rest of a feed page. The fields are
        only read, so one set serves every request. A bad value raises ``AppError`` naming
        each bad filter."""
        params: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, field in cls.base_fields.items():
            try:
                value = field.clean(field.widget.value_from_datadict(query, {}, name))
            except forms.ValidationError as error:
                errors[name] = list(error.messages)
                continue
            if value not in (None, ""):
                params[name] = value
        if errors:
            raise AppError("invalid", "Some filters are not valid.", fields=errors)
        return params


class FeedItemOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    purpose = serializers.CharField()
    data_use = serializers.CharField()
    content_warnings = serializers.CharField()
    requester = serializers.CharField(source="organisation.slug")
    requester_name = serializers.CharField(source="organisation.display_name")
    requester_measured_hourly_pay = serializers.SerializerMethodField()
    requester_formerly = serializers.SerializerMethodField(
        help_text="Names the requester went by before a rename within the governed former_name_days."
    )
    reward = serializers.IntegerField()
    currency = serializers.CharField()
    estimated_minutes = serializers.IntegerField()
    estimated_hourly_pay = serializers.IntegerField()
    time_allotted_minutes = serializers.IntegerField()
    open_slots = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    requirements = RequirementOut(many=True, source="requirement_list")

    def get_requester_formerly(self, batch: Batch) -> list[str]:
        return list(getattr(batch.organisation, "former_names", []))

    def get_requester_measured_hourly_pay(self, batch: Batch) -> int | None:
        stat = getattr(batch.organisation, "pay_stat", None)
        return stat.median_hourly_pay if stat is not None else None


def _feed_item(batch: Batch) -> dict[str, Any]:
    """A batch as the feed shows it, the same for every worker: serialized once per copy
    of the live market (``selectors.live_market``) rather than on every page."""
    item: dict[str, Any] | None = getattr(batch, "_feed_item", None)
    if item is None:
        item = batch._feed_item = FeedItemOut(batch).data  # type: ignore[attr-defined]
    return item


class FeedView(APIView):
    @extend_schema(
        operation_id="tasks_feed_list",
        responses=paginated(FeedItemOut),
        parameters=[
            OpenApiParameter("min_reward", int),
            OpenApiParameter("min_hourly_pay", int),
            OpenApiParameter("max_minutes", int),
            OpenApiParameter("requester", str),
            OpenApiParameter("qualified_only", bool),
            OpenApiParameter("ordering", str, enum=list(selectors.FEED_ORDERINGS)),
        ],
    )
    def get(self, request: Request) -> Response:
        """Batches a worker can take now. With ``qualified_only=false`` it also lists those
        the worker does not qualify for; the preview says why."""
        worker = _worker(request)
        batches = selectors.task_feed(worker=worker, **FeedQuery.params(request.query_params))
        paginator = Pagination()
        page: list[Batch] = paginator.paginate_queryset(batches, request, view=self) or []  # type: ignore[arg-type]
        return paginator.get_paginated_response([_feed_item(batch) for batch in page])


class PreviewView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, batch_id: int) -> Response:
        """Everything a worker should know before accepting, including why they cannot."""
        worker = _worker(request)
        batch = selectors.batch_for_worker(batch_id=batch_id)
        reasons = selectors.worker_ineligibility(worker=worker, batch=batch)
        if batch.status != Batch.Status.PUBLISHED:
            reasons.insert(0, "The requester has paused this batch.")
        batch.open_slots = batch.assignments.filter(status=Assignment.Status.OPEN).count()  # type: ignore[attr-defined]
        first = batch.tasks.order_by("row_number").first()
        pay, sample = selectors.requester_measured_pay(organisation=batch.organisation)
        return Response(
            {
                "batch": FeedItemOut(batch).data,
                "can_accept": not reasons,
                "reasons": reasons,
                "requester_measured_hourly_pay": pay,
                "requester_measured_pay_sample": sample,
                "preview_html": inputs.template_render(batch.template_html, first.input if first else {}),
                "external_url": batch.external_url,
            }
        )


class AcceptIn(StrictSerializer):
    task_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class AssignmentOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    batch_id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    title = serializers.CharField(source="batch.title")
    status = serializers.CharField()
    reward = serializers.IntegerField(source="batch.reward")
    accepted_at = serializers.DateTimeField(allow_null=True)
    deadline_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    answers = serializers.JSONField()
    approved_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()
    rejection_text = serializers.CharField()
    rejection_final_at = serializers.DateTimeField(allow_null=True)
    requester_feedback = serializers.CharField()


class AssignmentDetailOut(AssignmentOut):
    frame = serializers.SerializerMethodField()

    def get_frame(self, assignment: Assignment) -> dict[str, Any]:
        """The task to show in a sandboxed iframe (``srcdoc`` + ``sandbox``), or the external URL
        with MTurk's query parameters."""
        batch = assignment.batch
        if batch.external_url:
            separator = "&" if "?" in batch.external_url else "?"
            url = f"{batch.external_url}{separator}assignmentId={assignment.pk}&hitId={assignment.task_id}"
            return {"external_url": url, "sandbox": "allow-forms allow-scripts"}
        return {
            "srcdoc": inputs.template_render(batch.template_html, assignment.task.input),
            "sandbox": "allow-forms allow-scripts",
            "answer_fields": batch.answer_fields,
        }


class AcceptView(APIView):
    @extend_schema(request=AcceptIn, responses={201: AssignmentDetailOut})
    def post(self, request: Request, batch_id: int) -> Response:
        """Claims an open slot (of ``task_id`` if given). Also "accept next" after a submit."""
        worker = _worker(request)
        data = AcceptIn(data=request.data)
        data.is_valid(raise_exception=True)
        batch = selectors.batch_for_worker(batch_id=batch_id)
        assignment = services.assignment_accept(worker=worker, batch=batch, task_id=data.validated_data["task_id"])
        return Response(AssignmentDetailOut(assignment).data, status=201)


class MyAssignmentsView(APIView):
    @extend_schema(
        operation_id="assignments_list",
        responses=paginated(AssignmentOut),
        parameters=[OpenApiParameter("status", str)],
    )
    def get(self, request: Request) -> Response:
        rows = selectors.assignments_for_worker(worker=_worker(request), status=request.query_params.get("status"))
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(AssignmentOut(page, many=True).data)


class AssignmentDetailView(APIView):
    @extend_schema(responses=AssignmentDetailOut)
    def get(self, request: Request, assignment_id: int) -> Response:
        assignment = selectors.access_assignment_for_worker(worker=_worker(request), assignment_id=assignment_id)
        return Response(AssignmentDetailOut(assignment).data)


class SubmitIn(StrictSerializer):
    answers = serializers.DictField()


class SubmitView(APIView):
    @extend_schema(request=SubmitIn, responses=AssignmentOut)
    def post(self, request: Request, assignment_id: int) -> Response:
        worker = _worker(request)
        assignment = selectors.access_assignment_for_worker(worker=worker, assignment_id=assignment_id)
        data = SubmitIn(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_submit(
            worker=worker, assignment=assignment, answers=data.validated_data["answers"]
        )
        return Response(AssignmentOut(assignment).data)


class ReturnView(APIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, assignment_id: int) -> Response:
        worker = _worker(request)
        assignment = selectors.access_assignment_for_worker(worker=worker, assignment_id=assignment_id)
        services.assignment_return(worker=worker, assignment=assignment)
        return Response({"id": assignment_id, "status": "returned"})


class ApprovalRateView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        rate = selectors.worker_approval_rate(worker=_worker(request))
        return Response(
            {
                "rate_bps": rate.rate_bps,
                "approved": rate.approved,
                "final_rejections": rate.final_rejections,
                "approved_all_time": rate.approved_all_time,
                "window_days": rate.window_days,
                "formula": selectors.APPROVAL_RATE_FORMULA,
            }
        )


class QualificationDetailView(APIView):
    @extend_schema(responses=QualificationOut)
    def get(self, request: Request, qualification_id: int) -> Response:
        return Response(QualificationOut(selectors.qualification_for_worker(qualification_id=qualification_id)).data)


class TestIn(StrictSerializer):
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True))


class QualificationTestView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, qualification_id: int) -> Response:
        """Opens the test: its questions, and for a paid test its pay, escrowed from now."""
        qualification: Qualification = selectors.qualification_for_worker(qualification_id=qualification_id)
        offer = services.qualification_test_offer(qualification=qualification, worker=_worker(request))
        return Response(
            {
                "questions": qualification.test_questions,
                "estimated_minutes": qualification.estimated_minutes,
                "pay": offer.amount if offer is not None else 0,
                "pay_status": offer.status if offer is not None else "unpaid_test",
            }
        )

    @extend_schema(request=TestIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, qualification_id: int) -> Response:
        qualification: Qualification = selectors.qualification_for_worker(qualification_id=qualification_id)
        data = TestIn(data=request.data)
        data.is_valid(raise_exception=True)
        score = services.qualification_test_take(
            qualification=qualification, worker=_worker(request), answers=data.validated_data["answers"]
        )
        return Response({"score_bps": score, "granted": score >= qualification.pass_bps})


class RatingIn(StrictSerializer):
    pay_fairness = serializers.IntegerField()
    communication = serializers.IntegerField()
    review_speed = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReputationView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> Response:
        organisation: Organisation = organisation_public(slug=slug)
        return Response(selectors.requester_reputation(organisation=organisation))


class RatingView(APIView):
    @extend_schema(request=RatingIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_public(slug=slug)
        data = RatingIn(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.requester_rate(worker=_worker(request), organisation=organisation, **data.validated_data)
        return Response(
            {
                "pay_fairness": rating.pay_fairness,
                "communication": rating.communication,
                "review_speed": rating.review_speed,
                "comment": rating.comment,
            }
        )


def _notices_out(rows: Any) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        shown = words(category=row.category, params=row.params)
        out.append(
            {
                "kind": row.category,
                "message": shown.body,
                "batch": row.params.get("batch_id"),
                "created_at": row.created_at,
            }
        )
    return out


class NoticesView(APIView):
    @extend_schema(operation_id="tasks_notices_list", responses=NoticeOut(many=True))
    def get(self, request: Request) -> Response:
        """The caller's latest 100 inbox entries in the older notices' shape (the full inbox,
        paginated and marked read, is ``/api/notifications/``)."""
        return Response(_notices_out(inbox_for_user(user=_worker(request))[:100]))


class OrganisationNoticesView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_notices_list", responses=NoticeOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """The caller's inbox entries about the organisation (fair-pay top-ups owed or paid, ...)."""
        organisation = organisation_for_request(request, slug)
        rows = inbox_for_user(user=_user(request)).filter(organisation=organisation)[:100]
        return Response(_notices_out(rows))


class QualificationRevokeView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, qualification_id: int, pseudonym: str) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        qualification = organisation.qualifications.filter(pk=qualification_id).first()
        if qualification is None:
            raise NotFound("qualification")
        services.qualification_revoke(
            qualification=qualification, worker=_worker_by_pseudonym(pseudonym), actor=_user(request)
        )
        return Response(status=204)


urlpatterns = [
    path("organisations/<slug:slug>/notices/", OrganisationNoticesView.as_view(), name="api-org-notices"),
    path(
        "organisations/<slug:slug>/qualifications/<int:qualification_id>/grants/<str:pseudonym>/",
        QualificationRevokeView.as_view(),
        name="api-qual-revoke",
    ),
    path("organisations/<slug:slug>/batches/", OrganisationBatchesView.as_view(), name="api-batches"),
    path("organisations/<slug:slug>/qualifications/", OrganisationQualificationsView.as_view(), name="api-quals"),
    path(
        "organisations/<slug:slug>/qualifications/<int:qualification_id>/grants/",
        QualificationGrantView.as_view(),
        name="api-qual-grant",
    ),
    path("organisations/<slug:slug>/blocks/", OrganisationBlocksView.as_view(), name="api-blocks"),
    path("organisations/<slug:slug>/blocks/<str:pseudonym>/", OrganisationBlockDetailView.as_view(), name="api-block"),
    path("batches/<int:batch_id>/", BatchDetailView.as_view(), name="api-batch"),
    path("batches/<int:batch_id>/input/", BatchInputView.as_view(), name="api-batch-input"),
    path("batches/<int:batch_id>/publish/", _batch_action("publish").as_view(), name="api-batch-publish"),
    path("batches/<int:batch_id>/pause/", _batch_action("pause").as_view(), name="api-batch-pause"),
    path("batches/<int:batch_id>/resume/", _batch_action("resume").as_view(), name="api-batch-resume"),
    path("batches/<int:batch_id>/cancel/", _batch_action("cancel").as_view(), name="api-batch-cancel"),
    path("batches/<int:batch_id>/add-assignments/", BatchAddAssignmentsView.as_view(), name="api-batch-add"),
    path("batches/<int:batch_id>/extend/", BatchExtendView.as_view(), name="api-batch-extend"),
    path("batches/<int:batch_id>/submissions/", SubmissionsView.as_view(), name="api-submissions"),
    path("batches/<int:batch_id>/approve/", BulkApproveView.as_view(), name="api-bulk-approve"),
    path("batches/<int:batch_id>/export/csv/", ExportCsvView.as_view(), name="api-export-csv"),
    path("batches/<int:batch_id>/export/json/", ExportJsonView.as_view(), name="api-export-json"),
    path(
        "batches/<int:batch_id>/submissions/<int:assignment_id>/",
        SubmissionDetailView.as_view(),
        name="api-submission",
    ),
    path("batches/<int:batch_id>/submissions/<int:assignment_id>/approve/", ApproveView.as_view(), name="api-approve"),
    path("batches/<int:batch_id>/submissions/<int:assignment_id>/reject/", RejectView.as_view(), name="api-reject"),
    path(
        "batches/<int:batch_id>/submissions/<int:assignment_id>/withdraw-rejection/",
        WithdrawRejectionView.as_view(),
        name="api-withdraw-rejection",
    ),
    path("batches/<int:batch_id>/submissions/<int:assignment_id>/bonus/", BonusView.as_view(), name="api-bonus"),
    path("tasks/feed/", FeedView.as_view(), name="api-feed"),
    path("tasks/feed/<int:batch_id>/", PreviewView.as_view(), name="api-preview"),
    path("tasks/feed/<int:batch_id>/accept/", AcceptView.as_view(), name="api-accept"),
    path("tasks/feed/<int:batch_id>/accept-next/", AcceptView.as_view(), name="api-accept-next"),
    path("tasks/approval-rate/", ApprovalRateView.as_view(), name="api-approval-rate"),
    path("tasks/notices/", NoticesView.as_view(), name="api-task-notices"),
    path("assignments/", MyAssignmentsView.as_view(), name="api-assignments"),
    path("assignments/<int:assignment_id>/", AssignmentDetailView.as_view(), name="api-assignment"),
    path("assignments/<int:assignment_id>/submit/", SubmitView.as_view(), name="api-submit"),
    path("assignments/<int:assignment_id>/return/", ReturnView.as_view(), name="api-return"),
    path("qualifications/<int:qualification_id>/", QualificationDetailView.as_view(), name="api-qualification"),
    path("qualifications/<int:qualification_id>/test/", QualificationTestView.as_view(), name="api-qual-test"),
    path("requesters/<slug:slug>/reputation/", ReputationView.as_view(), name="api-reputation"),
    path("requesters/<slug:slug>/ratings/", RatingView.as_view(), name="api-ratings"),
]
