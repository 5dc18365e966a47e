"""REST endpoints of the dispute procedure, under /api/disputes/.

Thin views: validate with a strict serializer, reach the case through
``selectors.access_case`` (parties and jurors only), call one service, answer with what
the caller's role may see.
"""

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import request_actor
from accounts.models import ApiKey, User
from accounts.selectors import organisation_public
from core.api import Pagination, StrictSerializer, paginated
from core.errors import NotFound, PermissionDenied
from disputes import selectors, services
from disputes.models import Precedent
from disputes.parties import ONLY_ROLE


def _user(request: Request) -> User:
    """The signed-in person or, on the requester-side views that accept an organisation's
    API key (``accepts_organisation_keys``), the key's accountable creator; ``_access``
    keeps a key to its organisation's side of its organisation's cases."""
    return request_actor(request)


def _access(request: Request, case_id: int, *, role: str | None = None) -> selectors.CaseAccess:
    """The one way in to a case for the API. An API key acts only for its organisation's
    side of that organisation's cases, never as a worker or a juror."""
    access = selectors.access_case(user=_user(request), case_id=case_id)
    if isinstance(request.auth, ApiKey) and (
        access.role != selectors.REQUESTER or access.case.organisation_id != request.auth.organisation_id
    ):
        raise NotFound("case")
    if role is not None and access.role != role:
        raise PermissionDenied(str(ONLY_ROLE[role]))
    return access


def _view(request: Request, case_id: int, status: int = 200) -> Response:
    return Response(selectors.case_view(access=_access(request, case_id)), status=status)


class CaseSummaryOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    round = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    task_type = serializers.CharField()


class PanelSeatOut(serializers.Serializer):  # type: ignore[type-arg]
    label = serializers.CharField()  # type: ignore[assignment]
    round = serializers.IntegerField()
    status = serializers.CharField()
    share_bps = serializers.IntegerField(required=False)
    reason = serializers.CharField(required=False)


class EvidenceOut(serializers.Serializer):  # type: ignore[type-arg]
    side = serializers.CharField()
    round = serializers.IntegerField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    worker = serializers.CharField(help_text="On a mass case: which worker's evidence (their label).")


class CaseOut(CaseSummaryOut):
    role = serializers.ChoiceField(choices=["worker", "requester", "juror"])
    statement = serializers.CharField()
    response_text = serializers.CharField()
    offer_share_bps = serializers.IntegerField(allow_null=True)
    outcome_share_bps = serializers.IntegerField(allow_null=True)
    resolution = serializers.CharField()
    appealed_by = serializers.CharField()
    appeal_reason = serializers.CharField()
    task_description = serializers.CharField()
    items = serializers.ListField(child=serializers.DictField())
    workers = serializers.ListField(
        child=serializers.DictField(), help_text="Jurors of a mass case: each worker's held items, decided alone."
    )
    your_share_bps = serializers.IntegerField(
        required=False, allow_null=True, help_text="A worker of a mass case: the decision on their own work."
    )
    panel = PanelSeatOut(many=True)
    evidence = EvidenceOut(many=True)
    requester = serializers.CharField(required=False, help_text="Not shown to jurors.")
    created_at = serializers.DateTimeField()


class OpenIn(StrictSerializer):
    assignment_id = serializers.IntegerField()
    statement = serializers.CharField(max_length=services.MAX_TEXT)


class CaseListView(APIView):
    """The caller's own cases (as worker or requester staff); POST opens a dispute."""

    accepts_organisation_keys = frozenset({"GET"})

    @extend_schema(operation_id="disputes_cases_list", responses=paginated(CaseSummaryOut))
    def get(self, request: Request) -> Response:
        cases = selectors.cases_for_party(user=_user(request)).select_related("batch")
        if isinstance(request.auth, ApiKey):
            cases = cases.filter(organisation_id=request.auth.organisation_id)
        paginator = Pagination()
        page = paginator.paginate_queryset(cases, request, view=self)
        return paginator.get_paginated_response([selectors.case_summary(case=case) for case in page or []])

    @extend_schema(request=OpenIn, responses={201: CaseOut})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            raise PermissionDenied(_("A worker opens a dispute with their own sign-in, not an API key."))
        data = OpenIn(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.dispute_open(worker=_user(request), **data.validated_data)
        return _view(request, case.pk, status=201)


class CaseDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=CaseOut)
    def get(self, request: Request, case_id: int) -> Response:
        return _view(request, case_id)


class RespondIn(StrictSerializer):
    action = serializers.ChoiceField(choices=["accept", "offer", "contest"])
    text = serializers.CharField(max_length=services.MAX_TEXT, required=False, allow_blank=True)
    share_bps = serializers.IntegerField(required=False, min_value=1, max_value=9999)


class RespondView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=RespondIn, responses=CaseOut)
    def post(self, request: Request, case_id: int) -> Response:
        access = _access(request, case_id, role=selectors.REQUESTER)
        data = RespondIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_respond(case=access.case, actor=_user(request), **data.validated_data)
        return _view(request, case_id)


class OfferAnswerIn(StrictSerializer):
    accept = serializers.BooleanField()


class OfferAnswerView(APIView):
    @extend_schema(request=OfferAnswerIn, responses=CaseOut)
    def post(self, request: Request, case_id: int) -> Response:
        access = _access(request, case_id, role=selectors.WORKER)
        data = OfferAnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_offer_answer(case=access.case, worker=_user(request), accept=data.validated_data["accept"])
        return _view(request, case_id)


class TextIn(StrictSerializer):
    text = serializers.CharField(max_length=services.MAX_TEXT)


class EvidenceView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=TextIn, responses={201: CaseOut})
    def post(self, request: Request, case_id: int) -> Response:
        access = _access(request, case_id)
        if access.role == selectors.JUROR:
            raise PermissionDenied(_("Jurors read the evidence; the parties add it."))
        data = TextIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_add_evidence(case=access.case, actor=_user(request), text=data.validated_data["text"])
        return _view(request, case_id, status=201)


class VoteIn(StrictSerializer):
    share_bps = serializers.IntegerField(
        min_value=0, max_value=10_000, required=False, help_text="Every case but a mass case."
    )
    worker_shares = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=10_000),
        required=False,
        help_text=gettext_lazy('A mass case: one share per worker label, e.g. {"Worker 1": 10000, "Worker 2": 0}.'),
    )
    reason = serializers.CharField(max_length=services.MAX_TEXT)


class VoteView(APIView):
    @extend_schema(request=VoteIn, responses={201: CaseOut})
    def post(self, request: Request, case_id: int) -> Response:
        access = _access(request, case_id, role=selectors.JUROR)
        data = VoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_vote(case=access.case, juror_user=_user(request), **data.validated_data)
        return _view(request, case_id, status=201)


class ReasonIn(StrictSerializer):
    reason = serializers.CharField(max_length=services.MAX_TEXT)


class AppealView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=ReasonIn, responses=CaseOut)
    def post(self, request: Request, case_id: int) -> Response:
        access = _access(request, case_id)
        if access.role == selectors.JUROR:
            raise PermissionDenied(_("Only a party can appeal."))
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_appeal(case=access.case, actor=_user(request), reason=data.validated_data["reason"])
        return _view(request, case_id)


class StatementIn(StrictSerializer):
    statement = serializers.CharField(max_length=services.MAX_TEXT)


class SplitView(APIView):
    """A worker of a mass case asks for their own case."""

    @extend_schema(request=StatementIn, responses={201: CaseOut})
    def post(self, request: Request, case_id: int) -> Response:
        access = _access(request, case_id, role=selectors.WORKER)
        data = StatementIn(data=request.data)
        data.is_valid(raise_exception=True)
        own = services.case_split(case=access.case, worker=_user(request), statement=data.validated_data["statement"])
        return _view(request, own.pk, status=201)


class SuspensionAppealView(APIView):
    @extend_schema(request=StatementIn, responses={201: CaseOut})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            raise PermissionDenied(_("Appeal with your own sign-in, not an API key."))
        data = StatementIn(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.suspension_appeal_open(worker=_user(request), statement=data.validated_data["statement"])
        return _view(request, case.pk, status=201)


class JurorQueueView(APIView):
    """Cases where the caller sits on the current panel."""

    @extend_schema(responses=CaseSummaryOut(many=True))
    def get(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            return Response([])
        cases = selectors.juror_queue(user=_user(request))
        return Response([selectors.case_summary(case=case, for_juror=True) for case in cases])


class PrecedentOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Precedent
        fields = [
            "id",
            "kind",
            "task_type",
            "rejection_reason",
            "rejection_text",
            "outcome",
            "share_bps",
            "items",
            "appealed",
            "juror_reasons",
            "published_at",
        ]


class PrecedentListView(APIView):
    """Decided cases without names, for jurors and requesters to read."""

    @extend_schema(operation_id="disputes_precedents_list", responses=paginated(PrecedentOut))
    def get(self, request: Request) -> Response:
        precedents = selectors.precedents_list()
        outcome = request.query_params.get("outcome")
        if outcome:
            precedents = precedents.filter(outcome=outcome)
        paginator = Pagination()
        page = paginator.paginate_queryset(precedents, request, view=self)
        return paginator.get_paginated_response(PrecedentOut(page, many=True).data)


class DisputeRecordOut(serializers.Serializer):  # type: ignore[type-arg]
    overturned = serializers.IntegerField()
    upheld = serializers.IntegerField()


class DisputeRecordView(APIView):
    """A requester's public dispute record: rejections overturned and upheld."""

    @extend_schema(responses=DisputeRecordOut)
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_public(slug=slug)
        return Response(selectors.organisation_dispute_record(organisation=organisation))


class DrawOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    round = serializers.IntegerField()
    purpose = serializers.CharField()
    seed = serializers.CharField()
    pool = serializers.ListField(child=serializers.IntegerField())
    size = serializers.IntegerField()
    chosen = serializers.ListField(child=serializers.IntegerField())
    reproduced = serializers.BooleanField()


class DrawAuditView(APIView):
    """Co-op staff re-run the juror draws of a case from their stored seed and pool."""

    @extend_schema(responses=DrawOut(many=True))
    def get(self, request: Request, case_id: int) -> Response:
        body: list[dict[str, Any]] = selectors.case_draws_for_audit(user=_user(request), case_id=case_id)
        return Response(DrawOut(body, many=True).data)


urlpatterns = [
    path("disputes/cases/", CaseListView.as_view(), name="api-dispute-cases"),
    path("disputes/cases/<int:case_id>/", CaseDetailView.as_view(), name="api-dispute-case"),
    path("disputes/cases/<int:case_id>/respond/", RespondView.as_view(), name="api-dispute-respond"),
    path("disputes/cases/<int:case_id>/offer/", OfferAnswerView.as_view(), name="api-dispute-offer"),
    path("disputes/cases/<int:case_id>/evidence/", EvidenceView.as_view(), name="api-dispute-evidence"),
    path("disputes/cases/<int:case_id>/vote/", VoteView.as_view(), name="api-dispute-vote"),
    path("disputes/cases/<int:case_id>/appeal/", AppealView.as_view(), name="api-dispute-appeal"),
    path("disputes/cases/<int:case_id>/split/", SplitView.as_view(), name="api-dispute-split"),
    path("disputes/cases/<int:case_id>/draws/", DrawAuditView.as_view(), name="api-dispute-draws"),
    path("disputes/suspension-appeal/", SuspensionAppealView.as_view(), name="api-dispute-suspension-appeal"),
    path("disputes/juror/cases/", JurorQueueView.as_view(), name="api-dispute-juror-queue"),
    path("disputes/precedents/", PrecedentListView.as_view(), name="api-dispute-precedents"),
    path("disputes/requesters/<slug:slug>/record/", DisputeRecordView.as_view(), name="api-dispute-record"),
]
