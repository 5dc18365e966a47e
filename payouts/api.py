"""REST endpoints: the worker's payouts under /api/payouts/, the treasurer's SEPA
batches under /api/treasury/payout-batches/. Amounts leave and enter as strings
in major units ("12.50")."""

from datetime import UTC, datetime
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.reauthentication import FreshSignIn, fresh_sign_in_for_api
from core.api import AmountField, Pagination, StrictSerializer, paginated
from core.errors import AppError
from core.money import MAX_PAYOUT_MINIMUM, MAX_WITHDRAWAL, major_text, platform_currency
from payouts import selectors, services
from payouts.models import Payout, PayoutMethod, PayoutQuote, PayoutSchedule, SepaBatch


def _user(request: Request) -> User:
    return cast(User, request.user)


# -- methods ------------------------------------------------------------------------------


class MethodOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    rail = serializers.CharField()
    country = serializers.CharField()
    display = serializers.CharField()
    current = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    retired_at = serializers.DateTimeField(allow_null=True)


def _method_out(method: PayoutMethod) -> dict[str, Any]:
    return {
        "id": method.pk,
        "rail": method.rail,
        "country": method.country,
        "display": method.display,
        "current": method.retired_at is None,
        "created_at": method.created_at,
        "retired_at": method.retired_at,
    }


class ReauthenticationIn(StrictSerializer):
    """Changing where money goes needs a fresh sign-in: send your password (and, with
    two-factor authentication, a code); a web session signed in within the last minutes
    needs neither."""

    password = serializers.CharField(required=False, allow_blank=True, write_only=True)
    otp = serializers.CharField(required=False, allow_blank=True, max_length=20)


def _fresh_sign_in(request: Request, data: dict[str, Any]) -> FreshSignIn | None:
    return fresh_sign_in_for_api(request, password=data.pop("password", ""), otp=data.pop("otp", ""))


class MethodIn(ReauthenticationIn):
    rail = serializers.ChoiceField(choices=["sepa", "paypal", "wise"])  # Stripe rails: their onboarding endpoints
    iban = serializers.CharField(max_length=64, required=False)
    account_holder = serializers.CharField(max_length=140, required=False)
    bic = serializers.CharField(max_length=11, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False)
    bank_code = serializers.CharField(max_length=20, required=False)
    branch_code = serializers.CharField(max_length=20, required=False)
    account_number = serializers.CharField(max_length=34, required=False)


class MethodListView(APIView):
    """The worker's payout methods, current first, with every earlier one (history)."""

    @extend_schema(responses=MethodOut(many=True))
    def get(self, request: Request) -> Response:
        methods = selectors.payout_methods_for_worker(user=_user(request))
        return Response([_method_out(method) for method in methods])

    @extend_schema(request=MethodIn, responses={201: MethodOut})
    def post(self, request: Request) -> Response:
        data = MethodIn(data=request.data)
        data.is_valid(raise_exception=True)
        details = dict(data.validated_data)
        rail = details.pop("rail")
        proof = _fresh_sign_in(request, details)
        method = services.payout_method_set(user=_user(request), rail=rail, details=details, fresh_sign_in=proof)
        return Response(_method_out(method), status=201)


class StripeOnboardingIn(ReauthenticationIn):
    return_url = serializers.URLField()
    refresh_url = serializers.URLField()


class StripeOnboardingOut(serializers.Serializer):  # type: ignore[type-arg]
    method = MethodOut()
    onboarding_url = serializers.URLField()
    payouts_enabled = serializers.BooleanField()


class StripeOnboardingView(APIView):
    """Chooses Stripe Connect and returns a fresh link to Stripe's onboarding."""

    @extend_schema(request=StripeOnboardingIn, responses={201: StripeOnboardingOut})
    def post(self, request: Request) -> Response:
        data = StripeOnboardingIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        proof = _fresh_sign_in(request, values)
        link = services.stripe_onboarding_start(user=_user(request), fresh_sign_in=proof, **values)
        return Response(
            {
                "method": _method_out(link.method),
                "onboarding_url": link.url,
                "payouts_enabled": bool(link.connected_account and link.connected_account.payouts_enabled),
            },
            status=201,
        )


class GlobalOnboardingView(APIView):
    """Chooses Stripe Global Payouts and returns a fresh link to Stripe's hosted form,
    where the worker adds their local bank account or card."""

    @extend_schema(request=StripeOnboardingIn, responses={201: StripeOnboardingOut})
    def post(self, request: Request) -> Response:
        data = StripeOnboardingIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        proof = _fresh_sign_in(request, values)
        link = services.stripe_global_onboarding_start(user=_user(request), fresh_sign_in=proof, **values)
        ready = selectors.payout_balance(user=_user(request)).not_ready_reason == ""
        return Response(
            {"method": _method_out(link.method), "onboarding_url": link.url, "payouts_enabled": ready}, status=201
        )


# -- schedule and balance ----------------------------------------------------------------------


class ScheduleOut(serializers.Serializer):  # type: ignore[type-arg]
    frequency = serializers.CharField()
    minimum_amount = serializers.CharField()
    floor = serializers.CharField()
    floor_rule_version_id = serializers.IntegerField()
    is_default = serializers.BooleanField()


class ScheduleIn(StrictSerializer):
    frequency = serializers.ChoiceField(choices=PayoutSchedule.Frequency.values)
    minimum_amount = AmountField(maximum=MAX_PAYOUT_MINIMUM, minimum=0)


def _schedule_out(user: User) -> dict[str, Any]:
    view = selectors.schedule_for(user=user)
    currency = platform_currency()
    return {
        "frequency": view.frequency,
        "minimum_amount": major_text(view.minimum_amount, currency),
        "floor": major_text(view.floor, currency),
        "floor_rule_version_id": view.floor_rule_version_id,
        "is_default": view.is_default,
    }


class ScheduleView(APIView):
    @extend_schema(responses=ScheduleOut)
    def get(self, request: Request) -> Response:
        return Response(_schedule_out(_user(request)))

    @extend_schema(request=ScheduleIn, responses=ScheduleOut)
    def put(self, request: Request) -> Response:
        data = ScheduleIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.payout_schedule_set(user=_user(request), **data.validated_data)
        return Response(_schedule_out(_user(request)))


class BalanceOut(serializers.Serializer):  # type: ignore[type-arg]
    currency = serializers.CharField()
    available = serializers.CharField()
    on_the_way = serializers.CharField()
    not_ready_reason = serializers.CharField()


class BalanceView(APIView):
    @extend_schema(responses=BalanceOut)
    def get(self, request: Request) -> Response:
        figures = selectors.payout_balance(user=_user(request))
        return Response(
            {
                "currency": figures.currency,
                "available": major_text(figures.available, figures.currency),
                "on_the_way": major_text(figures.on_the_way, figures.currency),
                "not_ready_reason": figures.not_ready_reason,
            }
        )


# -- payouts -------------------------------------------------------------------------------------


class PayoutOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    state = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    rail = serializers.CharField()
    destination = serializers.CharField()
    requested = serializers.BooleanField()
    failure_message = serializers.CharField()
    fee = serializers.CharField()
    fee_bearer = serializers.CharField()
    rate = serializers.CharField()
    destination_amount = serializers.CharField(allow_null=True)
    destination_currency = serializers.CharField()
    arrived_amount = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    held_until = serializers.DateTimeField(
        allow_null=True, help_text="The destination is new: not sent before this; cancel it meanwhile."
    )
    submitted_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)


def _payout_out(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.pk,
        "state": payout.state,
        "amount": major_text(payout.amount, payout.currency),
        "currency": payout.currency,
        "rail": payout.rail,
        "destination": payout.display,
        "requested": payout.run_id is None,
        "failure_message": payout.failure_message,
        "fee": major_text(payout.fee, payout.currency),
        "fee_bearer": payout.fee_bearer,
        "rate": payout.rate,
        "destination_amount": (
            major_text(payout.destination_amount, payout.destination_currency)
            if payout.destination_amount is not None
            else None
        ),
        "destination_currency": payout.destination_currency,
        "arrived_amount": (
            major_text(payout.arrived_amount, payout.destination_currency or payout.currency)
            if payout.arrived_amount is not None
            else None
        ),
        "created_at": payout.created_at,
        "held_until": payout.held_until,
        "submitted_at": payout.submitted_at,
        "paid_at": payout.paid_at,
        "failed_at": payout.failed_at,
    }


class PayoutRequestIn(StrictSerializer):
    amount = AmountField(
        maximum=MAX_WITHDRAWAL, minimum=0, required=False, help_text="Major units; the whole balance when left out."
    )
    quote = serializers.IntegerField(required=False, help_text="The estimate being confirmed (POST quotes/ first).")


class QuoteIn(StrictSerializer):
    amount = AmountField(
        maximum=MAX_WITHDRAWAL, minimum=0, required=False, help_text="Major units; the whole balance when left out."
    )


class QuoteOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    rail = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    fee = serializers.CharField()
    fee_bearer = serializers.CharField()
    total_from_balance = serializers.CharField()
    rate = serializers.CharField()
    destination_amount = serializers.CharField()
    destination_currency = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


def _quote_out(quote: PayoutQuote) -> dict[str, Any]:
    worker_fee = quote.fee if quote.fee_bearer == "worker" else 0
    return {
        "id": quote.pk,
        "rail": quote.rail,
        "amount": major_text(quote.amount, quote.currency),
        "currency": quote.currency,
        "fee": major_text(quote.fee, quote.currency),
        "fee_bearer": quote.fee_bearer,
        "total_from_balance": major_text(quote.amount + worker_fee, quote.currency),
        "rate": quote.rate,
        "destination_amount": major_text(quote.destination_amount, quote.destination_currency),
        "destination_currency": quote.destination_currency,
        "expires_at": quote.expires_at,
    }


class QuoteView(APIView):
    """An estimate for a payout through the current method: fee, rate, the amount in
    the worker's currency and until when it holds. Confirm it with POST payouts/ {"quote": id}."""

    @extend_schema(request=QuoteIn, responses={201: QuoteOut})
    def post(self, request: Request) -> Response:
        data = QuoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        quote = services.payout_quote_create(user=_user(request), amount=data.validated_data.get("amount"))
        return Response(_quote_out(quote), status=201)


class PayoutListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=Payout.State.values, required=False)],
        operation_id="payouts_payouts_list",
        responses=paginated(PayoutOut),
    )
    def get(self, request: Request) -> Response:
        payouts = selectors.payouts_for_worker(user=_user(request))
        state = request.query_params.get("state")
        if state:
            payouts = payouts.filter(state=state)
        paginator = Pagination()
        page = paginator.paginate_queryset(payouts, request, view=self)
        return paginator.get_paginated_response([_payout_out(payout) for payout in page or []])

    @extend_schema(request=PayoutRequestIn, responses={201: PayoutOut})
    def post(self, request: Request) -> Response:
        """Ask for a payout now (on request), of an amount or of the whole balance."""
        data = PayoutRequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_request(
            user=_user(request), amount=data.validated_data.get("amount"), quote_id=data.validated_data.get("quote")
        )
        return Response(_payout_out(payout), status=201)


class PayoutDetailView(APIView):
    @extend_schema(responses=PayoutOut)
    def get(self, request: Request, payout_id: int) -> Response:
        return Response(_payout_out(selectors.access_payout(user=_user(request), payout_id=payout_id)))


class PayoutCancelView(APIView):
    """Cancels your payout while it waits out a new destination's hold; the money returns
    to your balance."""

    @extend_schema(request=None, responses=PayoutOut)
    def post(self, request: Request, payout_id: int) -> Response:
        return Response(_payout_out(services.payout_cancel_held(user=_user(request), payout_id=payout_id)))


# -- statements ----------------------------------------------------------------------------------


class StatementLineOut(serializers.Serializer):  # type: ignore[type-arg]
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.CharField()
    balance = serializers.CharField()
    reference = serializers.CharField()


class StatementOut(serializers.Serializer):  # type: ignore[type-arg]
    currency = serializers.CharField()
    opening_balance = serializers.CharField()
    closing_balance = serializers.CharField()
    lines = StatementLineOut(many=True)


def _year_bounds(request: Request) -> tuple[datetime | None, datetime | None]:
    year = request.query_params.get("year")
    if not year:
        return None, None
    if not year.isdigit() or not 2000 <= int(year) <= 2100:
        raise AppError("invalid", _("year must be a year like 2026."), fields={"year": [_("A year like 2026.")]})
    start = datetime(int(year), 1, 1, tzinfo=UTC)
    return start, start.replace(year=int(year) + 1)


class StatementView(APIView):
    """Every earning, bonus, reward, payout and failure with the running balance;
    ``?year=2026`` limits it to a year."""

    @extend_schema(
        parameters=[OpenApiParameter("year", int, required=False)],
        responses=StatementOut,
    )
    def get(self, request: Request) -> Response:
        start, end = _year_bounds(request)
        statement = selectors.worker_statement(user=_user(request), start=start, end=end)
        currency = statement.currency
        return Response(
            {
                "currency": currency,
                "opening_balance": major_text(statement.opening_balance, currency),
                "closing_balance": major_text(statement.closing_balance, currency),
                "lines": [
                    {
                        "at": line.at,
                        "kind": line.kind,
                        "description": line.description,
                        "amount": major_text(line.amount, currency),
                        "balance": major_text(line.balance, currency),
                        "reference": line.reference,
                    }
                    for line in statement.lines
                ],
            }
        )


class StatementCsvView(APIView):
    @extend_schema(parameters=[OpenApiParameter("year", int, required=False)], responses={(200, "text/csv"): str})
    def get(self, request: Request) -> StreamingHttpResponse:
        start, end = _year_bounds(request)
        statement = selectors.worker_statement(user=_user(request), start=start, end=end)
        response = StreamingHttpResponse(selectors.statement_csv(statement), content_type="text/csv; charset=utf-8")
        suffix = f"-{start.year}" if start else ""
        response["Content-Disposition"] = f'attachment; filename="payout-statement{suffix}.csv"'
        return response


class YearlyStatementOut(serializers.Serializer):  # type: ignore[type-arg]
    year = serializers.IntegerField()
    currency = serializers.CharField()
    opening_balance = serializers.CharField()
    closing_balance = serializers.CharField()
    earnings = serializers.CharField()
    bonuses = serializers.CharField()
    rewards = serializers.CharField()
    total_earned = serializers.CharField()
    paid_out = serializers.CharField()
    payouts_paid = serializers.IntegerField()
    payouts_failed = serializers.IntegerField()


class YearlyStatementView(APIView):
    @extend_schema(operation_id="payouts_yearly_statement_retrieve", responses=YearlyStatementOut)
    def get(self, request: Request, year: int) -> Response:
        if not 2000 <= year <= 2100:
            raise AppError("invalid", _("year must be a year like 2026."))
        yearly = selectors.worker_yearly_statement(user=_user(request), year=year)
        currency = yearly.currency
        money = ("opening_balance", "closing_balance", "earnings", "bonuses", "rewards", "total_earned", "paid_out")
        body: dict[str, Any] = {name: major_text(getattr(yearly, name), currency) for name in money}
        body.update(
            year=yearly.year,
            currency=currency,
            payouts_paid=yearly.payouts_paid,
            payouts_failed=yearly.payouts_failed,
        )
        return Response(body)


# -- the treasurer's SEPA batches ------------------------------------------------------------------


class BatchOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    message_id = serializers.CharField()
    state = serializers.CharField()
    currency = serializers.CharField()
    payment_count = serializers.IntegerField()
    total_amount = serializers.CharField()
    execution_date = serializers.DateField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class BatchPaymentOut(serializers.Serializer):  # type: ignore[type-arg]
    payout_id = serializers.IntegerField()
    end_to_end_id = serializers.CharField()
    state = serializers.CharField()
    amount = serializers.CharField()
    name = serializers.CharField()
    iban = serializers.CharField()
    failure_message = serializers.CharField()


class BatchDetailOut(BatchOut):
    payments = BatchPaymentOut(many=True)


def _batch_out(batch: SepaBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "message_id": batch.message_id,
        "state": batch.state,
        "currency": batch.currency,
        "payment_count": batch.payment_count,
        "total_amount": major_text(batch.total_amount, batch.currency),
        "execution_date": batch.execution_date,
        "created_at": batch.created_at,
        "sent_at": batch.sent_at,
        "closed_at": batch.closed_at,
    }


def _batch_detail(batch: SepaBatch) -> dict[str, Any]:
    body = _batch_out(batch)
    body["payments"] = [
        {
            "payout_id": payout.pk,
            "end_to_end_id": payout.end_to_end_id,
            "state": payout.state,
            "amount": major_text(payout.amount, payout.currency),
            "name": payout.destination.get("name", ""),
            "iban": payout.destination.get("iban", ""),
            "failure_message": payout.failure_message,
        }
        for payout in batch.payouts.order_by("id")
    ]
    return body


class BatchListView(APIView):
    @extend_schema(operation_id="treasury_payout_batches_list", responses=paginated(BatchOut))
    def get(self, request: Request) -> Response:
        batches = selectors.sepa_batches_for_treasurer(user=_user(request))
        paginator = Pagination()
        page = paginator.paginate_queryset(batches, request, view=self)
        return paginator.get_paginated_response([_batch_out(batch) for batch in page or []])

    @extend_schema(request=None, responses={201: BatchDetailOut})
    def post(self, request: Request) -> Response:
        """Gathers the SEPA payouts waiting for a file into a new batch."""
        batch = services.sepa_batch_create(actor=_user(request))
        return Response(_batch_detail(batch), status=201)


class BatchDetailView(APIView):
    @extend_schema(responses=BatchDetailOut)
    def get(self, request: Request, batch_id: int) -> Response:
        return Response(_batch_detail(selectors.treasury_access_sepa_batch(user=_user(request), batch_id=batch_id)))


class BatchFileView(APIView):
    """The pain.001 XML file to upload to the co-op's bank."""

    @extend_schema(responses={(200, "application/xml"): str})
    def get(self, request: Request, batch_id: int) -> HttpResponse:
        batch = selectors.treasury_access_sepa_batch(user=_user(request), batch_id=batch_id)
        response = HttpResponse(services.sepa_batch_file(batch=batch), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{batch.message_id}.xml"'
        return response


class BatchSentView(APIView):
    @extend_schema(request=None, responses=BatchOut)
    def post(self, request: Request, batch_id: int) -> Response:
        batch = selectors.treasury_access_sepa_batch(user=_user(request), batch_id=batch_id)
        batch = services.sepa_batch_mark_sent(batch_id=batch.pk, actor=_user(request))
        return Response(_batch_out(batch))


class PaymentFailedIn(StrictSerializer):
    reason = serializers.CharField(max_length=200)


class BatchPaymentPaidView(APIView):
    @extend_schema(request=None, responses=PayoutOut)
    def post(self, request: Request, batch_id: int, payout_id: int) -> Response:
        batch = selectors.treasury_access_sepa_batch(user=_user(request), batch_id=batch_id)
        payout = selectors.treasury_access_sepa_payment(user=_user(request), batch=batch, payout_id=payout_id)
        payout = services.sepa_payment_mark_paid(payout_id=payout.pk, actor=_user(request))
        return Response(_payout_out(payout))


class BatchPaymentFailedView(APIView):
    @extend_schema(request=PaymentFailedIn, responses=PayoutOut)
    def post(self, request: Request, batch_id: int, payout_id: int) -> Response:
        batch = selectors.treasury_access_sepa_batch(user=_user(request), batch_id=batch_id)
        payout = selectors.treasury_access_sepa_payment(user=_user(request), batch=batch, payout_id=payout_id)
        data = PaymentFailedIn(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.sepa_payment_mark_failed(
            payout_id=payout.pk, actor=_user(request), reason=data.validated_data["reason"]
        )
        return Response(_payout_out(payout))


# -- coverage (public) -----------------------------------------------------------------------


class CoverageOptionOut(serializers.Serializer):  # type: ignore[type-arg]
    rail = serializers.CharField()
    rail_label = serializers.CharField()
    method = serializers.CharField()
    currency = serializers.CharField()
    arrival = serializers.CharField()
    fees = serializers.CharField()
    configured = serializers.BooleanField()
    missing_settings = serializers.ListField(child=serializers.CharField())


class CoverageOut(serializers.Serializer):  # type: ignore[type-arg]
    country = serializers.CharField()
    name = serializers.CharField()
    covered = serializers.BooleanField()
    methods = serializers.ListField(child=serializers.CharField())
    currencies = serializers.ListField(child=serializers.CharField())
    options = CoverageOptionOut(many=True)
    closest = serializers.CharField()


def _coverage_out(country: str) -> dict[str, Any]:
    from payouts.rails import coverage_for_country

    found = coverage_for_country(country)
    return {
        "country": found.country,
        "name": found.name,
        "covered": found.covered,
        "methods": sorted({option.method for option in found.options}),
        "currencies": sorted({option.currency for option in found.options}),
        "options": [
            {
                "rail": option.rail,
                "rail_label": option.label,
                "method": option.method,
                "currency": option.currency,
                "arrival": option.arrival,
                "fees": option.fee_note,
                "configured": option.configured,
                "missing_settings": list(option.missing_settings),
            }
            for option in found.options
        ],
        "closest": found.closest,
    }


class CoverageListView(APIView):
    """Where can I be paid? For every ISO 3166 country: the rails, methods (bank
    account, card, wallet), currencies, and whether each rail is configured here.
    No authentication: people read it before they register."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses=CoverageOut(many=True), auth=[])
    def get(self, request: Request) -> Response:
        from payouts.rails.coverage import all_countries

        return Response([_coverage_out(code) for code, _ in all_countries()])


class CoverageCountryView(APIView):
    """The coverage of one country (ISO 3166 alpha-2, e.g. KE)."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses=CoverageOut, auth=[])
    def get(self, request: Request, country: str) -> Response:
        import pycountry

        if len(country) != 2 or pycountry.countries.get(alpha_2=country.upper()) is None:
            raise AppError(
                "unknown_country",
                _("'%(country)s' is not an ISO 3166 country code; use two letters such as KE or IN.")
                % {"country": country},
                status=404,
            )
        return Response(_coverage_out(country))


# -- provider webhooks (no session; only the signature counts) ---------------------------------


@csrf_exempt
@require_POST
def stripe_event_notification_view(request: HttpRequest) -> JsonResponse:
    """Stripe's v2 event destination (thin events for Global Payouts)."""
    from payouts.provider_events import stripe_event_notification_receive

    try:
        stored, created = stripe_event_notification_receive(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
    except AppError as error:
        return JsonResponse({"error": error.as_dict()}, status=error.status_code)
    return JsonResponse({"received": True, "duplicate": not created, "status": stored.status})


@csrf_exempt
@require_POST
def paypal_webhook_view(request: HttpRequest) -> JsonResponse:
    """PayPal's webhook: verified through PayPal, stored once, applied at once."""
    from payouts.provider_events import paypal_webhook_receive

    try:
        stored, created = paypal_webhook_receive(headers=dict(request.headers), body=request.body)
    except AppError as error:
        return JsonResponse({"error": error.as_dict()}, status=error.status_code)
    return JsonResponse({"received": True, "duplicate": not created, "status": stored.status, "note": stored.error})


@csrf_exempt
@require_POST
def wise_webhook_view(request: HttpRequest) -> JsonResponse:
    """Wise's webhook (transfers#state-change): RSA-signed, stored once, applied at once."""
    from payouts.provider_events import wise_webhook_receive

    try:
        stored, created = wise_webhook_receive(headers=dict(request.headers), body=request.body)
    except AppError as error:
        return JsonResponse({"error": error.as_dict()}, status=error.status_code)
    return JsonResponse({"received": True, "duplicate": not created, "status": stored.status, "note": stored.error})


urlpatterns = [
    path("payouts/balance/", BalanceView.as_view(), name="api-payouts-balance"),
    path("payouts/methods/", MethodListView.as_view(), name="api-payouts-methods"),
    path("payouts/methods/stripe/", StripeOnboardingView.as_view(), name="api-payouts-stripe-onboarding"),
    path("payouts/methods/stripe-global/", GlobalOnboardingView.as_view(), name="api-payouts-global-onboarding"),
    path("payouts/quotes/", QuoteView.as_view(), name="api-payouts-quotes"),
    path("payouts/coverage/", CoverageListView.as_view(), name="api-payouts-coverage"),
    path("payouts/coverage/<str:country>/", CoverageCountryView.as_view(), name="api-payouts-coverage-country"),
    path("payouts/schedule/", ScheduleView.as_view(), name="api-payouts-schedule"),
    path("payouts/payouts/", PayoutListView.as_view(), name="api-payouts"),
    path("payouts/payouts/<int:payout_id>/", PayoutDetailView.as_view(), name="api-payout"),
    path("payouts/payouts/<int:payout_id>/cancel/", PayoutCancelView.as_view(), name="api-payout-cancel"),
    path("payouts/statement/", StatementView.as_view(), name="api-payouts-statement"),
    path("payouts/statement.csv", StatementCsvView.as_view(), name="api-payouts-statement-csv"),
    path("payouts/statement/<int:year>/", YearlyStatementView.as_view(), name="api-payouts-yearly-statement"),
    path("treasury/payout-batches/", BatchListView.as_view(), name="api-payout-batches"),
    path("treasury/payout-batches/<int:batch_id>/", BatchDetailView.as_view(), name="api-payout-batch"),
    path("treasury/payout-batches/<int:batch_id>/sepa.xml", BatchFileView.as_view(), name="api-payout-batch-file"),
    path("treasury/payout-batches/<int:batch_id>/sent/", BatchSentView.as_view(), name="api-payout-batch-sent"),
    path(
        "treasury/payout-batches/<int:batch_id>/payments/<int:payout_id>/paid/",
        BatchPaymentPaidView.as_view(),
        name="api-payout-batch-payment-paid",
    ),
    path(
        "treasury/payout-batches/<int:batch_id>/payments/<int:payout_id>/failed/",
        BatchPaymentFailedView.as_view(),
        name="api-payout-batch-payment-failed",
    ),
]
