"""REST endpoints under /api/governance/: rules and their history, rule classes,
proposals, discussion, one's own ballot, and published results.

No endpoint returns another member's choice: ballots are only ever read back
by their own voter (open ballots) or as anonymous receipts after close
(secret ballots), and results are counts.
"""

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, StrictSerializer, paginated
from governance import selectors, services
from governance.models import Ballot, Proposal, Rule, RuleClass


class RuleClassOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = RuleClass
        fields = [
            "key",
            "name",
            "quorum_bps",
            "threshold_numerator",
            "threshold_denominator",
            "threshold_inclusive",
            "notice_days",
            "discussion_days",
            "voting_days",
            "secret_ballot",
        ]


class RuleVersionOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    value = serializers.IntegerField()
    effective_at = serializers.DateTimeField()
    adopted_by_proposal = serializers.IntegerField(source="adopted_by_proposal_id", allow_null=True)
    # A plain string, not a choice field: an enum named "status" would collide
    # with other apps' status enums in the OpenAPI schema.
    status = serializers.CharField(help_text="superseded, in_force or scheduled")


class GovernedRuleOut(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    value_type = serializers.CharField()
    unit = serializers.CharField()
    min_value = serializers.IntegerField()
    max_value = serializers.IntegerField()
    rule_class = serializers.CharField(source="rule_class.key")
    value = serializers.IntegerField(allow_null=True)
    version_id = serializers.IntegerField(allow_null=True)
    effective_at = serializers.DateTimeField(allow_null=True)


class GovernedRuleDetailOut(GovernedRuleOut):
    versions = RuleVersionOut(many=True)


def _rule_out(rule: Rule, current: selectors.RuleValue | None) -> dict[str, Any]:
    return {
        "key": rule.key,
        "name": rule.name,
        "description": rule.description,
        "value_type": rule.value_type,
        "unit": rule.unit,
        "min_value": rule.min_value,
        "max_value": rule.max_value,
        "rule_class": rule.rule_class,
        "value": current.value if current else None,
        "version_id": current.version_id if current else None,
        "effective_at": current.effective_at if current else None,
    }


class RuleListView(APIView):
    @extend_schema(responses=GovernedRuleOut(many=True))
    def get(self, request: Request) -> Response:
        current = selectors.rules_in_force()
        rules = [_rule_out(rule, current.get(rule.key)) for rule in selectors.rules_list()]
        return Response(GovernedRuleOut(rules, many=True).data)


class RuleDetailView(APIView):
    @extend_schema(responses=GovernedRuleDetailOut)
    def get(self, request: Request, key: str) -> Response:
        rule = selectors.rule_get(key=key)
        current = selectors.rule_in_force(key)
        body = _rule_out(rule, current)
        body["versions"] = [
            {
                "id": version.pk,
                "value": version.value,
                "effective_at": version.effective_at,
                "adopted_by_proposal_id": version.adopted_by_proposal_id,
                "status": "in_force"
                if version.pk == current.version_id
                else ("scheduled" if version.effective_at > current.effective_at else "superseded"),
            }
            for version in selectors.rule_history(rule=rule)
        ]
        return Response(GovernedRuleDetailOut(body).data)


class RuleClassListView(APIView):
    @extend_schema(responses=RuleClassOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(RuleClassOut(selectors.rule_classes_list(), many=True).data)


class VoteResultOut(serializers.Serializer):  # type: ignore[type-arg]
    state = serializers.CharField()
    roll_size = serializers.IntegerField()
    turnout = serializers.IntegerField()
    yes = serializers.IntegerField()
    no = serializers.IntegerField()
    abstain = serializers.IntegerField()
    quorum_bps = serializers.IntegerField()
    quorum_met = serializers.BooleanField()
    threshold_numerator = serializers.IntegerField()
    threshold_denominator = serializers.IntegerField()
    threshold_inclusive = serializers.BooleanField()
    secret_ballot = serializers.BooleanField()
    closed_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField(allow_null=True)


class ProposalOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    author = serializers.CharField(source="author.username")
    rule_class = serializers.CharField(source="rule_class.key")
    rule = serializers.CharField(source="rule.key", allow_null=True, default=None)
    target_class = serializers.CharField(source="target_class.key", allow_null=True, default=None)
    appointee = serializers.CharField(source="appointee.username", allow_null=True, default=None)
    secret_ballot = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "kind",
            "state",
            "title",
            "body",
            "author",
            "rule_class",
            "rule",
            "proposed_value",
            "target_class",
            "class_parameters",
            "appointee",
            "staff_role",
            "appointment_action",
            "dividend_period_start",
            "dividend_period_end",
            "dividend_amount",
            "secret_ballot",
            "created_at",
            "discussion_ends_at",
            "voting_opened_at",
            "voting_closes_at",
            "closed_at",
            "effective_at",
            "in_effect_at",
            "roll_size",
        ]

    def get_secret_ballot(self, proposal: Proposal) -> bool:
        if proposal.secret_ballot is not None:
            return proposal.secret_ballot
        return proposal.rule_class.secret_ballot


class ProposalIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Proposal.Kind.values)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    rule = serializers.SlugField(required=False)
    proposed_value = serializers.IntegerField(required=False)
    rule_class = serializers.SlugField(required=False)
    target_class = serializers.SlugField(required=False)
    class_parameters = serializers.DictField(required=False)
    # appointment: the person's user name, the staff role, grant or remove.
    appointee = serializers.CharField(max_length=150, required=False)
    staff_role = serializers.CharField(max_length=12, required=False)
    appointment_action = serializers.ChoiceField(choices=["grant", "remove"], required=False)
    # dividend: the period (first and last day, UTC) and the amount in minor units.
    dividend_period_start = serializers.DateField(required=False)
    dividend_period_end = serializers.DateField(required=False)
    dividend_amount = serializers.IntegerField(required=False, min_value=1, max_value=10**13)


class ProposalUpdateIn(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False)
    proposed_value = serializers.IntegerField(required=False)
    class_parameters = serializers.DictField(required=False)


class ProposalListView(APIView):
    @extend_schema(operation_id="governance_proposals_list", responses=paginated(ProposalOut))
    def get(self, request: Request) -> Response:
        proposals = selectors.proposals_visible(user=request.user)
        state = request.query_params.get("state")
        if state:
            proposals = proposals.filter(state=state)
        paginator = Pagination()
        page = paginator.paginate_queryset(proposals, request, view=self)
        return paginator.get_paginated_response(ProposalOut(page, many=True).data)

    @extend_schema(request=ProposalIn, responses={201: ProposalOut})
    def post(self, request: Request) -> Response:
        data = ProposalIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        proposal = services.proposal_create(
            author=request.user,  # type: ignore[arg-type]
            kind=values["kind"],
            title=values["title"],
            body=values["body"],
            rule_key=values.get("rule"),
            proposed_value=values.get("proposed_value"),
            rule_class_key=values.get("rule_class"),
            target_class_key=values.get("target_class"),
            class_parameters=values.get("class_parameters"),
            appointee_username=values.get("appointee"),
            staff_role=values.get("staff_role"),
            appointment_action=values.get("appointment_action"),
            dividend_period_start=values.get("dividend_period_start"),
            dividend_period_end=values.get("dividend_period_end"),
            dividend_amount=values.get("dividend_amount"),
        )
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal.pk)
        return Response(ProposalOut(proposal).data, status=201)


class ProposalDetailView(APIView):
    @extend_schema(responses=ProposalOut)
    def get(self, request: Request, proposal_id: int) -> Response:
        return Response(ProposalOut(selectors.access_proposal(user=request.user, proposal_id=proposal_id)).data)

    @extend_schema(request=ProposalUpdateIn, responses=ProposalOut)
    def patch(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        data = ProposalUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.proposal_update(proposal=proposal, actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(ProposalOut(selectors.access_proposal(user=request.user, proposal_id=proposal_id)).data)


class ProposalDiscussionView(APIView):
    """The author opens the discussion; voting opens automatically after it."""

    @extend_schema(request=None, responses=ProposalOut)
    def post(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        services.proposal_open_discussion(proposal=proposal, actor=request.user)  # type: ignore[arg-type]
        return Response(ProposalOut(selectors.access_proposal(user=request.user, proposal_id=proposal_id)).data)


class ProposalWithdrawView(APIView):
    @extend_schema(request=None, responses=ProposalOut)
    def post(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        services.proposal_withdraw(proposal=proposal, actor=request.user)  # type: ignore[arg-type]
        return Response(ProposalOut(selectors.access_proposal(user=request.user, proposal_id=proposal_id)).data)


class ProposalCommentOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    reply_to = serializers.IntegerField(source="parent_id", allow_null=True)
    author = serializers.CharField(source="author.username")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProposalCommentIn(StrictSerializer):
    body = serializers.CharField()
    reply_to = serializers.IntegerField(required=False, help_text="The id of the comment this one answers.")


class CommentListView(APIView):
    @extend_schema(operation_id="governance_proposals_comments_list", responses=paginated(ProposalCommentOut))
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.proposal_comments(proposal=proposal), request, view=self)
        return paginator.get_paginated_response(ProposalCommentOut(page, many=True).data)

    @extend_schema(request=ProposalCommentIn, responses={201: ProposalCommentOut})
    def post(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        data = ProposalCommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_add(
            proposal=proposal,
            author=request.user,  # type: ignore[arg-type]
            body=data.validated_data["body"],
            parent_id=data.validated_data.get("reply_to"),
        )
        return Response(ProposalCommentOut(comment).data, status=201)


class BallotIn(StrictSerializer):
    choice = serializers.ChoiceField(choices=Ballot.Choice.values)
    ballot_secret = serializers.CharField(required=False, max_length=services.BALLOT_SECRET_MAX_LENGTH)


class BallotReceiptOut(serializers.Serializer):  # type: ignore[type-arg]
    proposal = serializers.IntegerField(source="proposal_id")
    secret = serializers.BooleanField()
    receipt = serializers.CharField(allow_null=True)
    ballot_secret = serializers.CharField(
        allow_null=True, help_text="Shown once when the platform made it; needed to change a secret ballot."
    )


class OwnBallotOut(serializers.Serializer):  # type: ignore[type-arg]
    on_roll = serializers.BooleanField()
    voted = serializers.BooleanField()
    secret = serializers.BooleanField()
    choice = serializers.CharField(allow_null=True)


class BallotView(APIView):
    """The caller's own ballot: POST casts it, PUT changes it, GET shows it
    (for a secret ballot only that it was cast: use the receipt to check it)."""

    @extend_schema(responses=OwnBallotOut)
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        return Response(OwnBallotOut(selectors.ballot_own(user=request.user, proposal=proposal)).data)

    @extend_schema(request=BallotIn, responses={201: BallotReceiptOut})
    def post(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        data = BallotIn(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.ballot_cast(
            proposal_id=proposal.pk,
            voter=request.user,  # type: ignore[arg-type]
            choice=data.validated_data["choice"],
            ballot_secret=data.validated_data.get("ballot_secret"),
        )
        return Response(BallotReceiptOut(receipt).data, status=201)

    @extend_schema(request=BallotIn, responses=BallotReceiptOut)
    def put(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        data = BallotIn(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.ballot_change(
            proposal_id=proposal.pk,
            voter=request.user,  # type: ignore[arg-type]
            choice=data.validated_data["choice"],
            ballot_secret=data.validated_data.get("ballot_secret"),
        )
        return Response(BallotReceiptOut(receipt).data)


class ResultView(APIView):
    @extend_schema(responses=VoteResultOut)
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        return Response(VoteResultOut(selectors.proposal_result(proposal=proposal)).data)


class PublishedReceiptOut(serializers.Serializer):  # type: ignore[type-arg]
    receipt = serializers.CharField()
    choice = serializers.CharField()


class ReceiptListView(APIView):
    """The published receipts of a secret vote; ``?receipt=`` finds one's own."""

    @extend_schema(operation_id="governance_proposals_receipts_list", responses=paginated(PublishedReceiptOut))
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.access_proposal(user=request.user, proposal_id=proposal_id)
        receipts = selectors.secret_ballot_receipts(proposal=proposal, receipt=request.query_params.get("receipt"))
        paginator = Pagination()
        page = paginator.paginate_queryset(receipts, request, view=self)
        return paginator.get_paginated_response(PublishedReceiptOut(page, many=True).data)


# --- patronage dividends ---------------------------------------------------------------------

FORMULA = (
    "net = fees earned - payout rail fees the co-op bore - juror pay (posted in the period); "
    "reserve = net x dividend_reserve_bps / 10000, rounded up; surplus = net - reserve; "
    "patronage = a member's work pay in the period (with bonuses and top-ups when dividend_bonuses_count is 1); "
    "share = amount x patronage / total patronage, rounded down, the minor units left over going one each to "
    "the largest remainders."
)


class SurplusOut(serializers.Serializer):  # type: ignore[type-arg]
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.CharField()
    fees_earned = serializers.IntegerField()
    rail_fees = serializers.IntegerField()
    juror_pay = serializers.IntegerField()
    reserve_bps = serializers.IntegerField()
    reserve = serializers.IntegerField()
    surplus = serializers.IntegerField()
    formula = serializers.CharField()


_SURPLUS_FIELDS = (
    "period_start",
    "period_end",
    "currency",
    "fees_earned",
    "rail_fees",
    "juror_pay",
    "reserve_bps",
    "reserve",
    "surplus",
)


class SurplusQuery(StrictSerializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()


class SurplusView(APIView):
    """The surplus of a period, computed from the ledger as a dividend would be (members)."""

    @extend_schema(parameters=[SurplusQuery], responses=SurplusOut)
    def get(self, request: Request) -> Response:
        selectors.require_dividend_reader(request.user)
        query = SurplusQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = selectors.surplus_preview(user=request.user, **query.validated_data)
        body = {name: getattr(figures, name) for name in _SURPLUS_FIELDS}
        return Response(SurplusOut({**body, "formula": FORMULA}).data)


class DividendOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField(source="dividend.pk")
    proposal = serializers.IntegerField(source="dividend.proposal_id")
    period_start = serializers.DateField(source="dividend.period_start")
    period_end = serializers.DateField(source="dividend.period_end")
    currency = serializers.CharField(source="dividend.currency")
    fees_earned = serializers.IntegerField(source="dividend.fees_earned")
    rail_fees = serializers.IntegerField(source="dividend.rail_fees")
    juror_pay = serializers.IntegerField(source="dividend.juror_pay")
    reserve_bps = serializers.IntegerField(source="dividend.reserve_bps")
    reserve = serializers.IntegerField(source="dividend.reserve")
    surplus = serializers.IntegerField(source="dividend.surplus")
    amount = serializers.IntegerField(source="dividend.amount")
    bonuses_count = serializers.BooleanField(source="dividend.bonuses_count")
    total_patronage = serializers.IntegerField(source="dividend.total_patronage")
    rule_versions = serializers.DictField(source="dividend.rule_versions", child=serializers.IntegerField())
    my_patronage = serializers.IntegerField(source="patronage")
    my_share = serializers.IntegerField(source="share")
    my_status = serializers.CharField(source="status", allow_null=True, help_text="owed, paid, or null")
    formula = serializers.SerializerMethodField()

    def get_formula(self, computation: selectors.DividendComputation) -> str:
        return FORMULA


class DividendListView(APIView):
    """Every dividend decided, each with the caller's own patronage and share (members)."""

    @extend_schema(responses=DividendOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(DividendOut(selectors.dividend_computations_own(user=request.user), many=True).data)


class DividendAllocationOut(serializers.Serializer):  # type: ignore[type-arg]
    member = serializers.CharField(source="user.username")
    patronage = serializers.IntegerField()
    amount = serializers.IntegerField()
    status = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)


class DividendAllocationListView(APIView):
    """Every member's share of one dividend (the treasurer)."""

    @extend_schema(responses=DividendAllocationOut(many=True))
    def get(self, request: Request, dividend_id: int) -> Response:
        dividend = selectors.access_dividend(user=request.user, dividend_id=dividend_id)
        allocations = selectors.dividend_allocations_for_treasurer(user=request.user, dividend=dividend)
        return Response(DividendAllocationOut(allocations, many=True).data)


urlpatterns = [
    path("rules/", RuleListView.as_view(), name="api-governance-rules"),
    path("surplus/", SurplusView.as_view(), name="api-governance-surplus"),
    path("dividends/", DividendListView.as_view(), name="api-governance-dividends"),
    path(
        "dividends/<int:dividend_id>/allocations/",
        DividendAllocationListView.as_view(),
        name="api-governance-dividend-allocations",
    ),
    path("rules/<slug:key>/", RuleDetailView.as_view(), name="api-governance-rule"),
    path("classes/", RuleClassListView.as_view(), name="api-governance-classes"),
    path("proposals/", ProposalListView.as_view(), name="api-governance-proposals"),
    path("proposals/<int:proposal_id>/", ProposalDetailView.as_view(), name="api-governance-proposal"),
    path(
        "proposals/<int:proposal_id>/discussion/",
        ProposalDiscussionView.as_view(),
        name="api-governance-proposal-discussion",
    ),
    path(
        "proposals/<int:proposal_id>/withdraw/", ProposalWithdrawView.as_view(), name="api-governance-proposal-withdraw"
    ),
    path("proposals/<int:proposal_id>/comments/", CommentListView.as_view(), name="api-governance-comments"),
    path("proposals/<int:proposal_id>/ballot/", BallotView.as_view(), name="api-governance-ballot"),
    path("proposals/<int:proposal_id>/results/", ResultView.as_view(), name="api-governance-results"),
    path("proposals/<int:proposal_id>/receipts/", ReceiptListView.as_view(), name="api-governance-receipts"),
]
