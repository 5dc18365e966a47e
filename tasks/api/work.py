"""The worker's side: the task feed, a batch's preview, accept, the worker's assignments,
submit, return, the approval rate."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import Pagination, StrictSerializer, paginated
from core.errors import AppError
from tasks import dispatch, external, inputs, selectors, services
from tasks.api.access import _worker
from tasks.api.batches import RequirementOut
from tasks.models import Assignment, Batch


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
    search = forms.CharField(required=False, max_length=200)
    tags = forms.CharField(required=False, max_length=400)

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
            raise AppError("invalid", _("Some filters are not valid."), fields=errors)
        if "tags" in params:
            params["tags"] = [tag for tag in params["tags"].split(",") if tag.strip()]
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
    requester_approval_rate_bps = serializers.SerializerMethodField(
        help_text="Share of the requester's decided work it approved (basis points); null: no decisions yet."
    )
    requester_formerly = serializers.SerializerMethodField(
        help_text=("Names the requester went by before a rename within the governed former_name_days.")
    )
    reward = serializers.IntegerField()
    currency = serializers.CharField()
    estimated_minutes = serializers.IntegerField()
    estimated_hourly_pay = serializers.IntegerField()
    time_allotted_minutes = serializers.IntegerField()
    open_slots = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    sandbox = serializers.BooleanField(
        source="is_sandbox",
        help_text="A sandbox batch (play money), shown only to the requester's own people; never in the feed.",
    )
    requirements = RequirementOut(many=True, source="requirement_list")
    control_share_bps = serializers.IntegerField(help_text=("Share of the tasks that are controls (known answers)."))
    attention_checks = serializers.SerializerMethodField(help_text=("How many attention checks each task has."))
    control_threshold_bps = serializers.IntegerField(
        allow_null=True, help_text=("Control accuracy under which work may be rejected (disputable); null: none.")
    )

    def get_attention_checks(self, batch: Batch) -> int:
        return len(batch.attention_checks)

    tags = serializers.SerializerMethodField()
    dispatch = serializers.SerializerMethodField(
        help_text=(
            "'all_at_once' (first come, first served from publication, as the "
            "dispatch rule allows) or 'waves' (slots drawn by lot per wave until "
            "first_come_first_served_at)."
        )
    )
    first_come_first_served_at = serializers.DateTimeField(source="dispatch_fcfs_at", allow_null=True)

    def get_tags(self, batch: Batch) -> list[str]:
        return sorted(selectors.batch_tags(batch))

    def get_dispatch(self, batch: Batch) -> str:
        return "all_at_once" if batch.dispatch_fcfs_at is None else "waves"

    def get_requester_formerly(self, batch: Batch) -> list[str]:
        return list(getattr(batch.organisation, "former_names", []))

    def get_requester_measured_hourly_pay(self, batch: Batch) -> int | None:
        figures = getattr(batch.organisation, "figures", None)  # the requester page's figures
        return figures.measured_hourly_pay if figures is not None else None

    def get_requester_approval_rate_bps(self, batch: Batch) -> int | None:
        figures = getattr(batch.organisation, "figures", None)
        return figures.approval_rate_bps if figures is not None else None


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
            OpenApiParameter("search", str, description="Words that must all appear in title, description or tags."),
            OpenApiParameter("tags", str, description="Comma-separated tags the batch must all carry."),
        ],
    )
    def get(self, request: Request) -> Response:
        """Batches a worker can take now. With ``qualified_only=false`` it also lists those
        the worker does not qualify for; the preview says why."""
        worker = _worker(request)
        batches = selectors.task_feed(worker=worker, **FeedQuery.params(request.query_params))
        services.worker_activity_record(worker=worker)  # the hours fair dispatch sizes its waves by
        paginator = Pagination()
        page: list[Batch] = paginator.paginate_queryset(batches, request, view=self) or []  # type: ignore[arg-type]
        return paginator.get_paginated_response([_feed_item(batch) for batch in page])


class PreviewView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, batch_id: int) -> Response:
        """Everything a worker should know before accepting, including why they cannot."""
        worker = _worker(request)
        batch = selectors.batch_for_worker(batch_id=batch_id, worker=worker)
        reasons = selectors.worker_ineligibility(worker=worker, batch=batch)
        if batch.status != Batch.Status.PUBLISHED:
            reasons.insert(0, "The requester has paused this batch.")
        batch.open_slots = batch.assignments.filter(status=Assignment.Status.OPEN).count()  # type: ignore[attr-defined]
        first = batch.tasks.order_by("row_number").first()
        selectors.attach_requester_figures([batch])
        pay, sample = batch.organisation.figures.measured_hourly_pay, batch.organisation.figures.measured_pay_sample  # type: ignore[attr-defined]
        return Response(
            {
                "batch": FeedItemOut(batch).data,
                "can_accept": not reasons,
                "reasons": reasons,
                "requester_measured_hourly_pay": pay,
                "requester_measured_pay_sample": sample,
                "preview_html": inputs.template_render(batch.template_html, first.input if first else {})
                if batch.template_html
                else "",
                "external_url": batch.external_url,
                # The external page in MTurk's preview mode (assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE).
                "external_preview_url": external.external_preview_url(batch=batch, task=first)
                if batch.external_url
                else "",
                "completion_code": bool(batch.completion_codes),
            }
        )


class AcceptIn(StrictSerializer):
    task_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    reuse_opt_out = serializers.BooleanField(
        required=False,
        default=False,
        help_text=("Refuse reuse of your answers beyond the batch's purpose (where the batch allows reuse)."),
    )


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
    auto_approve_at = serializers.DateTimeField(
        allow_null=True, help_text="When submitted work not reviewed by then is approved and paid automatically."
    )
    answers = serializers.JSONField()
    approved_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()
    rejection_text = serializers.CharField()
    rejection_final_at = serializers.DateTimeField(allow_null=True)
    requester_feedback = serializers.CharField()
    reuse_beyond_purpose = serializers.BooleanField(source="batch.reuse_beyond_purpose")
    sandbox = serializers.BooleanField(
        source="batch.is_sandbox", help_text="Sandbox work: paid in play money, never an earning."
    )


class AssignmentDetailOut(AssignmentOut):
    frame = serializers.SerializerMethodField()
    reuse_opted_out = serializers.SerializerMethodField()

    def get_reuse_opted_out(self, assignment: Assignment) -> bool:
        return assignment.pk in selectors.reuse_opted_out_ids(assignments=[assignment])

    def get_frame(self, assignment: Assignment) -> dict[str, Any]:
        """The task to show in a sandboxed iframe (``srcdoc`` + ``sandbox``), or the external URL
        with MTurk's query parameters."""
        batch = assignment.batch
        if batch.external_url:
            # MTurk's parameters, with the attempt-bound assignment id that externalSubmit
            # accepts; only while the worker holds the task (a finished one has no frame).
            working = assignment.status == Assignment.Status.ACCEPTED
            return {
                "external_url": external.external_task_url(assignment=assignment) if working else "",
                "sandbox": "allow-forms allow-scripts allow-same-origin allow-popups",
                "completion_code": bool(batch.completion_codes),
            }
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
        batch = selectors.batch_for_worker(batch_id=batch_id, lean=True)
        opt_out = data.validated_data["reuse_opt_out"]
        if opt_out and not batch.reuse_beyond_purpose:
            # Refused before the claim, so a refusal leaves no slot taken.
            raise AppError(
                "reuse_not_allowed",
                _("This batch's data use allows no reuse beyond its purpose, so there is nothing to opt out of."),
                status=409,
            )
        assignment = services.assignment_accept(worker=worker, batch=batch, task_id=data.validated_data["task_id"])
        if opt_out:
            services.assignment_reuse_opt_out(worker=worker, assignment=assignment)
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
    take_next = serializers.BooleanField(
        default=False,
        help_text="Also claim the next task of the same batch; the answer then carries next_assignment "
        "(null when none could be taken, with next_refusal saying why).",
    )


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
        body = dict(AssignmentOut(assignment).data)
        if data.validated_data["take_next"]:
            # The submission stands whatever happens next; the next task goes through the same
            # claim service as the feed's accept (issue 25.4).
            body["next_assignment"], body["next_refusal"] = None, None
            try:
                batch = selectors.batch_for_worker(batch_id=assignment.batch_id, worker=assignment.worker)
                body["next_assignment"] = AssignmentOut(services.assignment_accept(worker=worker, batch=batch)).data
            except AppError as error:
                body["next_refusal"] = {"code": error.code, "message": error.message}
        return Response(body)


class CompletionCodeIn(StrictSerializer):
    code = serializers.CharField(max_length=200, trim_whitespace=True)


class CompletionCodeView(APIView):
    @extend_schema(request=CompletionCodeIn, responses=AssignmentOut)
    def post(self, request: Request, assignment_id: int) -> Response:
        """Submit an external task with the completion code its survey showed at the end
        (Prolific's way). A code that does not match is 400 ``completion_code_mismatch``
        and changes nothing."""
        worker = _worker(request)
        assignment = selectors.access_assignment_for_worker(worker=worker, assignment_id=assignment_id)
        data = CompletionCodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_submit_completion_code(
            worker=worker, assignment=assignment, code=data.validated_data["code"]
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


# --- Fair dispatch: apply to a wave, the draws ----------------------------------------------------


class ApplicationOut(serializers.Serializer):  # type: ignore[type-arg]
    batch_id = serializers.IntegerField(source="wave.batch_id")
    title = serializers.CharField(source="wave.batch.title")
    wave = serializers.IntegerField(source="wave.number")
    applied_at = serializers.DateTimeField()
    draws_at = serializers.DateTimeField(source="wave.draws_at")
    recent_earnings = serializers.IntegerField()
    weight = serializers.IntegerField()
    outcome = serializers.CharField()
    assignment_id = serializers.IntegerField(allow_null=True)


class ApplyView(APIView):
    @extend_schema(request=None, responses={201: ApplicationOut})
    def post(self, request: Request, batch_id: int) -> Response:
        """Asks for a slot in the open wave of a batch that opens in waves; the slots are
        drawn by lot when the window closes (see ``GET /api/tasks/batches/<id>/dispatch/``)."""
        worker = _worker(request)
        batch = selectors.batch_for_worker(batch_id=batch_id, lean=True)
        application = services.wave_apply(worker=worker, batch=batch)  # with its wave and the wave's batch
        return Response(ApplicationOut(application).data, status=201)


class MyDrawsView(APIView):
    @extend_schema(responses={200: ApplicationOut(many=True)})
    def get(self, request: Request) -> Response:
        """The worker's own applications to waves and what the draws gave them."""
        worker = _worker(request)
        return Response(ApplicationOut(dispatch.worker_draws(worker=worker), many=True).data)


class DispatchView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, batch_id: int) -> Response:
        """A live batch's dispatch, for anyone to check: the rule in force at publication,
        and per drawn wave its seed, pool (pseudonyms and weights, in draw order of the
        formula, and for a draw stratified by time zone each one's UTC offset hour), the
        strata's record and the order drawn, enough to re-run the draw."""
        batch = selectors.batch_for_worker(batch_id=batch_id, worker=_worker(request))
        public = dispatch.batch_dispatch_public(batch=batch)
        ids = {int(entry[0]) for wave in public["waves"] for entry in wave.pool}
        names = dict(User.objects.filter(pk__in=ids).values_list("pk", "pseudonym"))
        plan = public["plan"]
        sizes = {row.wave.pk: row for row in plan.rows} if plan is not None else {}
        return Response(
            {
                "dispatch": "all_at_once" if public["all_at_once"] else "waves",
                "first_come_first_served_at": public["fcfs_at"],
                "cap_slots": public["cap_slots"],
                "cap_until": public["cap_until"],
                "rules": public["rules"],
                "formula": public["formula"],
                "stratified": public["stratified"],
                "stratified_formula": public["stratified_formula"],
                # What the waves were sized by: eligible workers active per UTC hour (0 first),
                # summed over the days measured; the floor weight; equal: nothing was measured.
                "activity": batch.dispatch_activity,
                "plan_formula": str(public["plan_formula"]),
                "waves": [
                    {
                        "number": wave.number,
                        "opens_at": wave.opens_at,
                        "draws_at": wave.draws_at,
                        "state": wave.state,
                        "seed": wave.seed,
                        "applicants": len(wave.pool),
                        # Formula 2 (stratified) adds each entry's stratum: its UTC offset hour.
                        "draw_formula": wave.draw_formula,
                        "pool": [[names.get(int(entry[0]), ""), *entry[1:]] for entry in wave.pool],
                        "strata": wave.strata,
                        "drawn": [names.get(int(w), "") for w in wave.drawn],
                        "slots_offered": wave.slots_offered,
                        "slots_given": wave.slots_given,
                        "hour_utc": sizes[wave.pk].hour_utc,
                        "activity": wave.activity,
                        "weight": wave.weight,
                        "cumulative_bps": wave.cumulative_bps,
                        "planned_slots": sizes[wave.pk].planned,
                    }
                    for wave in public["waves"]
                ],
            }
        )
