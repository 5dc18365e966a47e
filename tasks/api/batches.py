"""A requester's batches: create, list, read, set the input, publish, pause, resume, cancel,
add assignments, extend."""

from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from core.api import MinorUnitsAmountField, Pagination, StrictSerializer, paginated
from core.errors import AppError
from core.money import MAX_REWARD
from tasks import selectors, services
from tasks.api.access import _user, batch_for_request
from tasks.models import Batch


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
    completion_codes = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        help_text="Prolific-style codes an external survey shows at its end; a worker who pastes one submits.",
    )
    requirements = RequirementIn(many=True, required=False, default=list)
    control_threshold_bps = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Control accuracy (basis points) under which work may be rejected, shown to workers; null: none.",
    )
    control_min_answered = serializers.IntegerField(
        required=False, default=3, help_text="Checks a worker must have answered before the threshold applies."
    )
    reuse_beyond_purpose = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The data use allows reuse of the answers beyond the stated purpose; each worker may opt out.",
    )
    dispatch_mode = serializers.ChoiceField(
        choices=["auto", "waves", "all_at_once"],
        required=False,
        default="auto",
        help_text="How the slots open: all_at_once only up to the governed dispatch_all_at_once_max_slots; "
        "auto opens small batches all at once and larger ones in waves.",
    )
    attention_checks = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
        required=False,
        default=dict,
        help_text='Attention checks by answer field: {"field": {"expected": "...", "tolerance": ""}}. Checks '
        "written in the template (data-expected) are added to these; on an edit, {} removes the kept ones.",
    )


class MarketBatchCreateIn(MarketBatchIn):
    sandbox = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A sandbox batch, for good: published with play money from the organisation's sandbox balance "
        "(never the real books), worked only by the organisation's own people, and left out of the feed, "
        "statements, exports of real work and reputation. Same rules as a real batch otherwise.",
    )


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


# Output names that read another attribute of the batch.
_SOURCES = {"sandbox": "is_sandbox"}


def _iso(value: datetime, zone: tzinfo) -> str:
    """What DRF's ``DateTimeField`` gives for an aware datetime in the current time zone
    ``zone`` (ISO 8601, UTC as ``Z``), without looking the zone up again for each value."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class MarketBatchOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    organisation = serializers.CharField(source="organisation.slug")
    requirements = RequirementOut(many=True, source="requirement_rows")
    sandbox = serializers.BooleanField(
        source="is_sandbox", help_text="A sandbox batch: play money, the organisation's own people as workers."
    )
    dispatch_mode = serializers.ChoiceField(choices=["auto", "waves", "all_at_once"])

    class Meta:
        model = Batch
        fields = [
            "id", "organisation", "status", "title", "description", "purpose", "data_use", "content_warnings",
            "keywords", "reward", "currency", "fee_per_assignment", "assignments_per_task", "estimated_minutes",
            "estimated_hourly_pay", "time_allotted_minutes", "lifetime_hours", "auto_approval_hours",
            "template_html", "external_url", "completion_codes", "answer_fields", "placeholders", "rule_versions",
            "requirements",
            "created_at", "published_at", "expires_at", "ended_at", "control_share_bps", "control_threshold_bps",
            "control_min_answered", "attention_checks", "reuse_beyond_purpose", "dispatch_mode", "sandbox",
        ]  # fmt: skip

    def to_representation(self, batch: Batch) -> dict[str, Any]:
        """What DRF's field-by-field walk gives (a test holds the two equal for every kind of
        batch), built directly: a requester's batch list is up to 50 of these, and the walk
        over 28 fields cost more than fetching the rows. The fields declared above still
        describe the output (the OpenAPI schema)."""
        data: dict[str, Any] = {}
        zone = timezone.get_current_timezone()
        for name in MarketBatchOut.Meta.fields:
            value = getattr(batch, _SOURCES.get(name, name))
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


class OrganisationBatchesView(APIView):
    accepts_organisation_keys = True

    @extend_schema(
        operation_id="organisations_batches_list",
        responses=paginated(MarketBatchOut),
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter(
                "sandbox", bool, description="true: only sandbox batches; false: only real ones; absent: both."
            ),
        ],
    )
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        sandbox = request.query_params.get("sandbox")
        if sandbox not in (None, "true", "false"):
            raise AppError("invalid", _("sandbox is true or false."), fields={"sandbox": [_("true or false.")]})
        batches = selectors.batches_for_organisation(
            organisation=organisation,
            status=request.query_params.get("status"),
            sandbox=None if sandbox is None else sandbox == "true",
        )
        paginator = Pagination()
        page = selectors.attach_requirements(paginator.paginate_queryset(batches, request, view=self) or [])
        for batch in page:
            batch.organisation = organisation  # known already: no join for every row
        return paginator.get_paginated_response(MarketBatchOut(page, many=True).data)

    @extend_schema(request=MarketBatchCreateIn, responses={201: MarketBatchDetailOut})
    def post(self, request: Request, slug: str) -> Response:
        """Create a draft; with ``"sandbox": true`` a sandbox batch (as the Sandbox page's
        "New sandbox batch"), held to the same rules."""
        organisation = organisation_for_request(request, slug, "publish")
        data = MarketBatchCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_create(organisation=organisation, actor=_user(request), **data.validated_data)
        return Response(MarketBatchDetailOut(batch).data, status=201)


class CloneIn(StrictSerializer):
    copy_rows = serializers.BooleanField(required=False, default=False)
    sandbox = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="false: a real draft from a sandbox batch you tested (or true: a sandbox copy of a real one); "
        "absent: the same as the batch cloned.",
    )


def _refuse_sandbox_change(request: Request) -> None:
    if isinstance(request.data, dict) and "sandbox" in request.data:
        message = _("A batch is a sandbox batch or a real one from its creation; clone it to get the other kind.")
        raise AppError("invalid", message, fields={"sandbox": [message]})


class BatchDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=MarketBatchDetailOut)
    def get(self, request: Request, batch_id: int) -> Response:
        return Response(MarketBatchDetailOut(batch_for_request(request, batch_id)).data)

    @extend_schema(request=MarketBatchIn(partial=True), responses=MarketBatchDetailOut)
    def patch(self, request: Request, batch_id: int) -> Response:
        """Edit a draft: any field (``requirements`` replaces them all); its input rows go
        through ``PUT .../input/``. A published batch changes only its ``keywords``: the
        terms workers took its work on are refused with ``batch_not_draft`` (409)."""
        batch = batch_for_request(request, batch_id, "tasks.change_batch")
        _refuse_sandbox_change(request)
        data = MarketBatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        batch = services.batch_update(batch=batch, actor=_user(request), changes=dict(data.validated_data))
        return Response(MarketBatchDetailOut(batch).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, batch_id: int) -> Response:
        """Delete a draft with its input rows; any other batch is 409 and stays."""
        batch = batch_for_request(request, batch_id, "tasks.change_batch")
        services.batch_delete(batch=batch, actor=_user(request))
        return Response(status=204)


class BatchCloneView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=CloneIn, responses={201: MarketBatchDetailOut})
    def post(self, request: Request, batch_id: int) -> Response:
        """Run a batch again: a new draft with the same fields (and its input rows with
        ``copy_rows``); upload new rows, then publish it."""
        batch = batch_for_request(request, batch_id, "tasks.change_batch")
        data = CloneIn(data=request.data)
        data.is_valid(raise_exception=True)
        clone = services.batch_clone(batch=batch, actor=_user(request), **data.validated_data)
        return Response(MarketBatchDetailOut(clone).data, status=201)


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
                raise AppError("invalid_input_file", _("The file is not UTF-8 text; save it as UTF-8 CSV.")) from None
            file_format = file_format or ("json" if upload.name.lower().endswith(".json") else "csv")
        else:
            content = data.validated_data.get("content", "")
        if not content or not file_format:
            raise AppError("invalid", _("Send a file, or a format (csv or json) and the content."))
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
