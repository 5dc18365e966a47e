from django.contrib import admin

from core.admin import ReadOnlyAdmin
from webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "url", "active", "created_at")
    exclude = ("secret_encrypted",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("endpoint", "event_type", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status", "event_type")
