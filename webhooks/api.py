"""REST endpoints of the requesters' webhooks: register, list, remove, and the delivery log."""

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request, request_actor
from core.api import Pagination, StrictSerializer, paginated
from webhooks import selectors, services


class WebhookIn(StrictSerializer):
    url = serializers.CharField(max_length=500, help_text="A public https:// URL.")
    events = serializers.ListField(
        child=serializers.CharField(max_length=30), help_text=f"Any of: {', '.join(services.EVENTS)}."
    )


class WebhookOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField(help_text="The signing secret; shown only in this answer.")


class DeliveryOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    endpoint = serializers.IntegerField(source="endpoint_id")
    event_type = serializers.CharField()
    payload = serializers.JSONField()
    sandbox = serializers.BooleanField(source="is_sandbox", help_text="An event of sandbox work (play money).")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    next_attempt_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class WebhooksView(APIView):
    # A REST requester's integration registers its endpoints with the organisation's key.
    accepts_organisation_keys = True

    @extend_schema(responses=WebhookOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        return Response(WebhookOut(selectors.webhook_endpoints(organisation=organisation), many=True).data)

    @extend_schema(request=WebhookIn, responses={201: WebhookCreatedOut})
    def post(self, request: Request, slug: str) -> Response:
        """Registers an endpoint; the answer holds its signing secret, shown only once."""
        organisation = organisation_for_request(request, slug, "review")
        data = WebhookIn(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(
            organisation=organisation, actor=request_actor(request), **data.validated_data
        )
        body: dict[str, Any] = {**WebhookOut(endpoint).data, "secret": secret}
        return Response(body, status=201)


class WebhookView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, endpoint_id: int) -> Response:
        organisation = organisation_for_request(request, slug, "review")
        endpoint = selectors.access_webhook_endpoint(organisation=organisation, endpoint_id=endpoint_id)
        services.webhook_endpoint_deactivate(endpoint=endpoint, actor=request_actor(request))
        return Response(status=204)


class DeliveriesView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=paginated(DeliveryOut))
    def get(self, request: Request, slug: str) -> Response:
        """The delivery log of the organisation's endpoints, newest first."""
        organisation = organisation_for_request(request, slug)
        deliveries = selectors.webhook_delivery_log(organisation=organisation)
        paginator = Pagination()
        page = paginator.paginate_queryset(deliveries, request, view=self) or []  # type: ignore[arg-type]
        return paginator.get_paginated_response(DeliveryOut(page, many=True).data)


urlpatterns = [
    path("organisations/<slug:slug>/webhooks/", WebhooksView.as_view(), name="api-webhooks"),
    path("organisations/<slug:slug>/webhooks/<int:endpoint_id>/", WebhookView.as_view(), name="api-webhook"),
    path("organisations/<slug:slug>/webhook-deliveries/", DeliveriesView.as_view(), name="api-webhook-deliveries"),
]
