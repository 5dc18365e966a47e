"""Who may call an API endpoint at all, before any object is looked at.

An organisation's API key acts for the organisation only. Every endpoint is personal
unless its view says ``accepts_organisation_keys = True`` (every method) or names the
methods (``frozenset({"GET"})``): so a new endpoint refuses keys until someone decides
otherwise, and a key can never reach a person's payouts, profile, membership, votes,
disputes as a worker, juror work, ratings, claims or feed.
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.authentication import OrganisationPrincipal
from accounts.middleware import second_factor_missing
from accounts.reauthentication import session_verified
from core.errors import AppError


def view_accepts_organisation_keys(view: Any, method: str) -> bool:
    accepted = getattr(view, "accepts_organisation_keys", False)
    if isinstance(accepted, bool):
        return accepted
    return method.upper() in accepted


class OrganisationKeysOnOrganisationEndpoints(BasePermission):
    """Refuses an organisation's API key (403 ``organisation_key_refused``) on every
    endpoint that does not declare it acts for organisations, and a person whose role
    requires a second factor they have not passed (403 ``second_factor_required``) on
    those roles' endpoints."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.user, OrganisationPrincipal) and not view_accepts_organisation_keys(
            view, request.method or ""
        ):
            raise AppError(
                "organisation_key_refused",
                _(
                    "An organisation's API key acts for the organisation only; this "
                    "endpoint is a person's own. Sign in as yourself (a personal token or "
                    "the web session)."
                ),
                status=403,
            )
        if not isinstance(request.user, OrganisationPrincipal) and second_factor_missing(
            user=request.user, path=request.path, verified=lambda: _api_verified(request)
        ):
            raise AppError(
                "second_factor_required",
                _(
                    "Your role (co-op staff, treasurer or organisation owner) requires "
                    "two-factor authentication: turn it on at /account/security/ and sign "
                    "in with a code."
                ),
                status=403,
            )
        return True


def _api_verified(request: Request) -> bool:
    """A session verified with a second factor, or a token: every token of a person with
    a second factor was obtained with it (enrolling deletes the older ones)."""
    if isinstance(request.auth, Token):
        from accounts.two_factor import two_factor_enabled

        return two_factor_enabled(request.user)  # type: ignore[arg-type]
    return session_verified(request._request)
