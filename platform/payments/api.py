"""REST endpoints for funding: deposits, withdrawals, balance, the treasurer's
confirmations, and the Stripe webhook.

Amounts travel as decimal strings in major units of the currency ("100.00"),
in and out, the way a person writes them; the services work in minor units.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request, request_actor
from core.api import AmountField, Pagination, StrictSerializer, paginated
from core.errors import AppError
from core.money import MAX_DEPOSIT, MAX_WITHDRAWAL, major_text
from payments import reconciliation, selectors, services, stripe_gateway, webhooks
from payments.models import Deposit, ReconciliationDifference, Withdrawal


def _choice(values: list[str], help_text: str = "") -> serializers.ChoiceField:
    """A choice whose schema is a plain string list: several apps have fields named
    "method" with their own values, and named enum components would collide."""

    @extend_schema_field({"type": "string", "enum": values})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=values, help_text=help_text)


class DepositIn(StrictSerializer):
    method = _choice(Deposit.Method.values, "stripe: pay by card now; bank: send a transfer with the reference.")
    amount = AmountField(maximum=MAX_DEPOSIT, help_text='Major units, e.g. "100.00".')


class DepositOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    reference = serializers.CharField()
    method = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.CharField()
    credited_amount = serializers.CharField()
    currency = serializers.CharField()
    failure_message = serializers.CharField()
    created_at = serializers.DateTimeField()
    credited_at = serializers.DateTimeField(allow_null=True)
    stripe = serializers.DictField(allow_null=True, help_text="Card deposits: what Stripe.js needs to pay.")
    bank_transfer = serializers.DictField(allow_null=True, help_text="Bank deposits: where to send the money.")


def deposit_out(deposit: Deposit) -> dict[str, Any]:
    stripe_info = None
    bank_info = None
    if deposit.method == Deposit.Method.STRIPE:
        pending = deposit.status in (Deposit.Status.PENDING, Deposit.Status.FAILED)
        stripe_info = {
            "payment_intent": deposit.stripe_payment_intent_id or "",
            "client_secret": deposit.stripe_client_secret if pending else "",
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        }
    else:
        bank_info = {
            "account_holder": settings.COOP_BANK_NAME,
            "iban": settings.COOP_BANK_IBAN,
            "bic": settings.COOP_BANK_BIC,
            "reference": deposit.reference,
            "amount": major_text(deposit.amount, deposit.currency),
        }
    return {
        "id": deposit.pk,
        "reference": deposit.reference,
        "method": deposit.method,
        "status": deposit.status,
        "amount": major_text(deposit.amount, deposit.currency),
        "credited_amount": major_text(deposit.credited_amount, deposit.currency),
        "currency": deposit.currency,
        "failure_message": deposit.failure_message,
        "created_at": deposit.created_at,
        "credited_at": deposit.credited_at,
        "stripe": stripe_info,
        "bank_transfer": bank_info,
    }


class DepositListView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_deposits_list", responses=paginated(DepositOut))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.deposits_for_organisation(organisation=organisation), request, view=self
        )
        return paginator.get_paginated_response([deposit_out(d) for d in page or []])

    @extend_schema(request=DepositIn, responses={201: DepositOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "funds")
        data = DepositIn(data=request.data)
        data.is_valid(raise_exception=True)
        start = (
            services.deposit_stripe_start
            if data.validated_data["method"] == Deposit.Method.STRIPE
            else services.deposit_bank_start
        )
        deposit = start(organisation=organisation, actor=request_actor(request), amount=data.validated_data["amount"])
        return Response(deposit_out(deposit), status=201)


class DepositDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=DepositOut)
    def get(self, request: Request, slug: str, deposit_id: int) -> Response:
        organisation = organisation_for_request(request, slug)
        return Response(deposit_out(selectors.access_deposit(organisation=organisation, deposit_id=deposit_id)))


class DepositPaymentIntentView(APIView):
    """Retry attaching the Stripe PaymentIntent when creating it failed (idempotent)."""

    accepts_organisation_keys = True

    @extend_schema(request=None, responses=DepositOut)
    def post(self, request: Request, slug: str, deposit_id: int) -> Response:
        organisation = organisation_for_request(request, slug, "funds")
        deposit = selectors.access_deposit(organisation=organisation, deposit_id=deposit_id)
        return Response(deposit_out(services.deposit_payment_intent_ensure(deposit=deposit)))


class WithdrawalIn(StrictSerializer):
    method = _choice(Withdrawal.Method.values, "stripe_refund: back to the cards that paid; bank: to an IBAN.")
    amount = AmountField(maximum=MAX_WITHDRAWAL)
    iban = serializers.CharField(max_length=42, required=False, allow_blank=True)
    account_holder = serializers.CharField(max_length=140, required=False, allow_blank=True)
    token = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Idempotency token: a retry answers the first."
    )


class WithdrawalOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.CharField()
    paid_amount = serializers.CharField()
    currency = serializers.CharField()
    failure_message = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


def withdrawal_out(withdrawal: Withdrawal) -> dict[str, Any]:
    return {
        "id": withdrawal.pk,
        "method": withdrawal.method,
        "status": withdrawal.status,
        "amount": major_text(withdrawal.amount, withdrawal.currency),
        "paid_amount": major_text(withdrawal.paid_amount, withdrawal.currency),
        "currency": withdrawal.currency,
        "failure_message": withdrawal.failure_message,
        "created_at": withdrawal.created_at,
        "completed_at": withdrawal.completed_at,
    }


class WithdrawalListView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_withdrawals_list", responses=paginated(WithdrawalOut))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.withdrawals_for_organisation(organisation=organisation), request, view=self
        )
        return paginator.get_paginated_response([withdrawal_out(w) for w in page or []])

    @extend_schema(request=WithdrawalIn, responses={201: WithdrawalOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "funds")
        data = WithdrawalIn(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawal = services.withdrawal_request(
            organisation=organisation,
            actor=request_actor(request),
            amount=data.validated_data["amount"],
            method=data.validated_data["method"],
            iban=data.validated_data.get("iban", ""),
            account_holder=data.validated_data.get("account_holder", ""),
            token=data.validated_data.get("token", ""),
        )
        return Response(withdrawal_out(withdrawal), status=201)


class OrganisationBalanceOut(serializers.Serializer):  # type: ignore[type-arg]
    currency = serializers.CharField()
    available = serializers.CharField(help_text="Can be reserved for new work or withdrawn.")
    escrowed = serializers.CharField(help_text="Reserved for published work, not yet paid.")
    card_bound = serializers.CharField(
        help_text="Part of available that came by card recently: it can only be refunded to its card."
    )
    bank_withdrawable = serializers.CharField(help_text="What a bank withdrawal may take now.")


class BalanceView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=OrganisationBalanceOut)
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        figures = selectors.organisation_balance(organisation=organisation)
        card_bound = selectors.card_bound_amount(organisation=organisation)
        return Response(
            {
                "currency": figures.currency,
                "available": major_text(figures.available, figures.currency),
                "escrowed": major_text(figures.escrowed, figures.currency),
                "card_bound": major_text(card_bound, figures.currency),
                "bank_withdrawable": major_text(figures.available - card_bound, figures.currency),
            }
        )


class DepositConfirmIn(StrictSerializer):
    amount = AmountField(
        maximum=MAX_DEPOSIT, required=False, help_text="What arrived; defaults to the announced amount."
    )


class TreasuryDepositListView(APIView):
    @extend_schema(operation_id="treasury_deposits_list", responses=paginated(DepositOut))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.treasury_deposits_awaiting(user=request.user),  # type: ignore[arg-type]
            request,
            view=self,
        )
        return paginator.get_paginated_response([deposit_out(d) for d in page or []])


class TreasuryDepositConfirmView(APIView):
    @extend_schema(request=DepositConfirmIn, responses=DepositOut)
    def post(self, request: Request, deposit_id: int) -> Response:
        deposit = selectors.treasury_access_deposit(user=request.user, deposit_id=deposit_id)  # type: ignore[arg-type]
        data = DepositConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        deposit = services.deposit_bank_confirm(
            deposit=deposit,
            amount=data.validated_data.get("amount", deposit.amount),
            actor=request.user,  # type: ignore[arg-type]
            via="api",
        )
        return Response(deposit_out(deposit))


class TreasuryWithdrawalOut(WithdrawalOut):
    organisation = serializers.CharField()
    iban = serializers.CharField()
    account_holder = serializers.CharField()


class TreasuryWithdrawalListView(APIView):
    """Bank withdrawals waiting to be sent, with where to send them (treasurer only)."""

    @extend_schema(operation_id="treasury_withdrawals_list", responses=paginated(TreasuryWithdrawalOut))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.treasury_withdrawals_awaiting(user=request.user),  # type: ignore[arg-type]
            request,
            view=self,
        )
        return paginator.get_paginated_response(
            [
                {
                    **withdrawal_out(w),
                    "organisation": w.organisation.slug,
                    "iban": w.iban,
                    "account_holder": w.account_holder,
                }
                for w in page or []
            ]
        )


class TreasuryWithdrawalConfirmView(APIView):
    @extend_schema(request=None, responses=WithdrawalOut)
    def post(self, request: Request, withdrawal_id: int) -> Response:
        withdrawal = selectors.treasury_access_withdrawal(user=request.user, withdrawal_id=withdrawal_id)  # type: ignore[arg-type]
        withdrawal = services.withdrawal_bank_confirm(withdrawal=withdrawal, actor=request.user)  # type: ignore[arg-type]
        return Response(withdrawal_out(withdrawal))


class ReconciliationDifferenceOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    day = serializers.DateField(source="run.day")
    rail = serializers.CharField(help_text="stripe or bank")
    kind = serializers.CharField(help_text="missing_in_ledger, missing_at_rail, amount_mismatch or unknown_transaction")

    class Meta:
        model = ReconciliationDifference
        fields = [
            "id",
            "day",
            "rail",
            "kind",
            "reference",
            "ledger_amount",
            "rail_amount",
            "note",
            "resolved_at",
            "resolution",
        ]


class TreasuryDifferenceListView(APIView):
    """Open reconciliation differences (amounts in minor units, as the rails report them)."""

    @extend_schema(operation_id="treasury_differences_list", responses=paginated(ReconciliationDifferenceOut))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.treasury_open_differences(user=request.user),  # type: ignore[arg-type]
            request,
            view=self,
        )
        return paginator.get_paginated_response(ReconciliationDifferenceOut(page, many=True).data)


class DifferenceResolveIn(StrictSerializer):
    resolution = serializers.CharField(max_length=500)


class TreasuryDifferenceResolveView(APIView):
    @extend_schema(request=DifferenceResolveIn, responses=ReconciliationDifferenceOut)
    def post(self, request: Request, difference_id: int) -> Response:
        difference = selectors.treasury_access_difference(user=request.user, difference_id=difference_id)  # type: ignore[arg-type]
        data = DifferenceResolveIn(data=request.data)
        data.is_valid(raise_exception=True)
        difference = reconciliation.reconciliation_difference_resolve(
            difference=difference,
            actor=request.user,  # type: ignore[arg-type]
            resolution=data.validated_data["resolution"],
        )
        return Response(ReconciliationDifferenceOut(difference).data)


@csrf_exempt
@require_POST
def stripe_webhook_view(request: HttpRequest) -> JsonResponse:
    """Stripe's webhook endpoint: no session, no CSRF, only the signature counts.

    Verifies, stores the event once by id and answers at once; a job processes it.
    A bad signature, or an event the signing endpoint may not deliver, is answered
    400 and nothing is stored.
    """
    try:
        event = stripe_gateway.webhook_event_verify(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
        stored, created = webhooks.webhook_event_receive(event=event)
    except AppError as error:
        return JsonResponse({"error": error.as_dict()}, status=error.status_code)
    return JsonResponse({"received": True, "duplicate": not created, "status": stored.status})


urlpatterns = [
    path("organisations/<slug:slug>/deposits/", DepositListView.as_view(), name="api-deposits"),
    path("organisations/<slug:slug>/deposits/<int:deposit_id>/", DepositDetailView.as_view(), name="api-deposit"),
    path(
        "organisations/<slug:slug>/deposits/<int:deposit_id>/payment-intent/",
        DepositPaymentIntentView.as_view(),
        name="api-deposit-payment-intent",
    ),
    path("organisations/<slug:slug>/withdrawals/", WithdrawalListView.as_view(), name="api-withdrawals"),
    path("organisations/<slug:slug>/balance/", BalanceView.as_view(), name="api-balance"),
    path("treasury/deposits/", TreasuryDepositListView.as_view(), name="api-treasury-deposits"),
    path(
        "treasury/deposits/<int:deposit_id>/confirm/",
        TreasuryDepositConfirmView.as_view(),
        name="api-treasury-deposit-confirm",
    ),
    path("treasury/withdrawals/", TreasuryWithdrawalListView.as_view(), name="api-treasury-withdrawals"),
    path(
        "treasury/withdrawals/<int:withdrawal_id>/confirm/",
        TreasuryWithdrawalConfirmView.as_view(),
        name="api-treasury-withdrawal-confirm",
    ),
    path("treasury/differences/", TreasuryDifferenceListView.as_view(), name="api-treasury-differences"),
    path(
        "treasury/differences/<int:difference_id>/resolve/",
        TreasuryDifferenceResolveView.as_view(),
        name="api-treasury-difference-resolve",
    ),
]
