"""Top-level URLs. Each app owns its routes; the API lives under /api/."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from payments.api import stripe_webhook_view


def ping(request: HttpRequest) -> HttpResponse:
    """The trivial endpoint: no database, no session. The load benchmark's reference."""
    return HttpResponse("pong", content_type="text/plain")


api_patterns = [
    path("", include("accounts.api")),
    path("", include("payments.api")),
    path("", include("payments.statements_api")),
    path("", include("notifications.api")),
    path("governance/", include("governance.api")),
    path("", include("tasks.api")),
    path("", include("tasks.alerts_api")),
    path("", include("disputes.api")),
    path("", include("payouts.api")),
    path("", include("webhooks.api")),
    path("", include("staff.api")),
]

# Under /api/ the resolver's 404 and an unhandled error answer in the API's JSON shape.
handler404 = "core.handlers.not_found"
handler500 = "core.handlers.server_error"

urlpatterns = [
    path("ping/", ping, name="ping"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(api_patterns)),
    path("mturk/", include("mturk.urls")),
    path("webhooks/stripe/", stripe_webhook_view, name="stripe-webhook"),
    # The mail provider's tracking webhooks (bounces, complaints), verified by anymail.
    path("webhooks/anymail/", include("anymail.urls")),
    path("webhooks/", include("payouts.webhook_urls")),
    path("", include("frontend.urls")),
]
