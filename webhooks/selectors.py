"""Reading an organisation's webhook endpoints and their delivery log."""

from django.db.models import QuerySet

from accounts.models import Organisation
from core.errors import NotFound
from webhooks.models import WebhookDelivery, WebhookEndpoint

LOG_LENGTH = 100


def webhook_endpoints(*, organisation: Organisation) -> QuerySet[WebhookEndpoint]:
    """The organisation's active endpoints (the caller checked access to it)."""
    return WebhookEndpoint.objects.filter(organisation=organisation, active=True).order_by("id")


def access_webhook_endpoint(*, organisation: Organisation, endpoint_id: int) -> WebhookEndpoint:
    endpoint = webhook_endpoints(organisation=organisation).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("webhook")
    return endpoint


def webhook_delivery_log(*, organisation: Organisation, endpoint_id: int | None = None) -> QuerySet[WebhookDelivery]:
    """The latest deliveries to the organisation's endpoints, newest first."""
    deliveries = WebhookDelivery.objects.filter(endpoint__organisation=organisation).select_related("endpoint")
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    return deliveries.order_by("-id")
