"""Staff, treasurers and organisation owners use those functions only after signing in
with a second factor (issue 19, point 12). Pages here; the API in ``accounts.permissions``;
both ask ``second_factor_missing``."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.reauthentication import session_verified

# Where the functions of those roles live: treasury, co-op staff (and the admin), and the
# organisations' own pages and endpoints.
PRIVILEGED_PREFIXES = (
    "/treasury/",
    "/api/treasury/",
    "/staff/",
    "/api/staff/",
    "/admin/",
    "/org/",
    "/api/organisations/",
    "/api/batches/",
)
_NOT_PRIVILEGED = ("/org/new/", "/admin/login/", "/admin/logout/")


def second_factor_missing(*, user: Any, path: str, verified: Callable[[], bool]) -> bool:
    """Whether ``user`` must pass a second factor before using ``path`` and has not
    (``verified`` is asked only then: it may cost a query)."""
    if not settings.SECOND_FACTOR_REQUIRED_FOR_ROLES or not getattr(user, "is_authenticated", False):
        return False
    if not path.startswith(PRIVILEGED_PREFIXES) or path.startswith(_NOT_PRIVILEGED):
        return False
    from accounts.two_factor import second_factor_required

    return second_factor_required(user) and not verified()


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The API authenticates inside DRF (tokens, keys); its permission class decides there.
        if not request.path.startswith("/api/") and second_factor_missing(
            user=request.user, path=request.path, verified=lambda: session_verified(request)
        ):
            messages.error(
                request,
                "Your role requires two-factor authentication: turn it on (or confirm this session with a code) "
                "to continue.",
            )
            return redirect(f"/account/security/?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
