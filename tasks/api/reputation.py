"""Requesters' reputation and the workers' ratings of them."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.selectors import organisation_public
from core.api import StrictSerializer
from tasks import selectors, services
from tasks.api.access import _worker


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
