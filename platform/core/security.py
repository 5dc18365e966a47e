"""Security headers for every response.

The platform's own pages get a strict Content-Security-Policy; a view that serves
untrusted task HTML sets its own (sandboxed) policy, which is left alone here.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

DEFAULT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        # Task pages embed the task frame (ours) or a requester's external HTTPS page.
        "frame-src 'self' https:",
        "frame-ancestors 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


# Stripe's hosted onboarding (Connect and Global Payouts account links) lives here; the
# worker's payout page posts to our own view, which answers with a redirect to it, and
# browsers apply the page's ``form-action`` to that redirect too.
STRIPE_ONBOARDING_ORIGIN = "https://connect.stripe.com"


def page_policy_with_form_target(origin: str) -> str:
    """The platform's page policy, with forms also allowed to lead to ``origin`` (one
    page at a time: every other page keeps ``form-action 'self'``)."""
    policy = str(getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY))
    return policy.replace("form-action 'self'", f"form-action 'self' {origin}")


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and not request.path.startswith("/api/docs"):
            response["Content-Security-Policy"] = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
