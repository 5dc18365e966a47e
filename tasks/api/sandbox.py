"""The organisation's sandbox money through the API (issue 24.6), as on its Sandbox page:
the play-money balance and a top-up. Play money never touches the real books."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from accounts.models import Organisation
from core.api import MinorUnitsAmountField, StrictSerializer
from tasks import play, services
from tasks.api.access import _user


class PlayTesterOut(serializers.Serializer):  # type: ignore[type-arg]
    worker = serializers.CharField(help_text="The tester's pseudonym.")
    paid = serializers.IntegerField(help_text="Play money paid to them (rewards and bonuses), minor units.")


class PlayBalanceOut(serializers.Serializer):  # type: ignore[type-arg]
    sandbox = serializers.BooleanField(help_text="Always true: these are play-money figures, never real money.")
    available = serializers.IntegerField(help_text="Play money that can fund sandbox batches, minor units.")
    held = serializers.IntegerField(help_text="Held for unfinished sandbox slots (reward + fee each).")
    paid = serializers.IntegerField(help_text="Paid to the organisation's testers.")
    fees = serializers.IntegerField(help_text="The platform fee real batches would have paid.")
    issued = serializers.IntegerField(help_text="All play money given: the opening amount and every top-up.")
    currency = serializers.CharField()
    testers = PlayTesterOut(many=True)


class TopUpIn(StrictSerializer):
    amount = MinorUnitsAmountField(maximum=play.MAX_TOP_UP, help_text="Play money to add, minor units.")
    token = serializers.CharField(
        max_length=64, help_text="Your idempotency key: the same token again adds nothing more."
    )


def _balance(organisation: Organisation) -> dict[str, Any]:
    book = play.play_balance(organisation=organisation)
    return {
        "sandbox": True,
        "available": book.available,
        "held": book.held,
        "paid": book.paid,
        "fees": book.fees,
        "issued": book.issued,
        "currency": book.currency,
        "testers": [
            {"worker": worker.pseudonym, "paid": amount}
            for worker, amount in play.play_paid_by_tester(organisation=organisation)
        ],
    }


class OrganisationSandboxView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_sandbox_balance", responses=PlayBalanceOut)
    def get(self, request: Request, slug: str) -> Response:
        """The organisation's play money: what sandbox batches can still use, hold and paid."""
        return Response(_balance(organisation_for_request(request, slug)))


class OrganisationSandboxTopUpView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=TopUpIn, responses=PlayBalanceOut)
    def post(self, request: Request, slug: str) -> Response:
        """Add play money (free; once per ``token``). 400 outside the limits, 409
        ``token_reused`` for a token already used with another amount."""
        organisation = organisation_for_request(request, slug, "publish")
        data = TopUpIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.sandbox_top_up(organisation=organisation, actor=_user(request), **data.validated_data)
        return Response(_balance(organisation))
