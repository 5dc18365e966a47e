"""Proof of a fresh sign-in, for acts that must not be done with a stolen session or
token alone (adding or changing a payout destination).

``FreshSignIn`` says who proved what and when: the web session's own sign-in time
(recorded at every ``login()``; the re-enter-your-password page renews it) and whether
the session passed the second factor, or, over the API, a password (and code) sent with
the request. ``fresh_sign_in_check`` is what the protected service calls.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import signin
from accounts.models import User
from core.errors import AppError

SESSION_SIGNED_IN_AT = "accounts:signed_in_at"


@dataclass(frozen=True)
class FreshSignIn:
    user_id: int
    at: datetime
    second_factor: bool


def sign_in_recorded(*, request: HttpRequest) -> None:
    """Notes in the session that its person proved their password just now."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_SIGNED_IN_AT] = timezone.now().isoformat()


def record_sign_in(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_logged_in`` receiver (see ``AccountsConfig.ready``): Django's ``login()`` is
    called from places this project does not own (the admin, password reset, test
    clients), and each must renew the time."""
    if request is not None:
        sign_in_recorded(request=request)


def session_verified(request: Any) -> bool:
    """Whether the request's session passed the second factor (django-otp)."""
    user = getattr(request, "user", None)
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def fresh_sign_in_from_session(request: Any) -> FreshSignIn | None:
    session = getattr(request, "session", None)
    text = session.get(SESSION_SIGNED_IN_AT) if session is not None else None
    if not text or not request.user.is_authenticated:
        return None
    return FreshSignIn(
        user_id=request.user.pk, at=datetime.fromisoformat(text), second_factor=session_verified(request)
    )


def fresh_sign_in_with_password(
    *, user: User, password: str, otp: str = "", session_second_factor: bool = False
) -> FreshSignIn:
    """Checks ``password`` (and ``otp`` when the person has a second factor) now. Failures
    count against the account's sign-in throttle. ``session_second_factor``: the web
    session already passed the second factor (a passkey or a code at sign-in), so the
    password alone renews it (a person whose only second factor is a passkey has no code
    to type). Raises ``reauthentication_failed`` (403) or ``account_locked`` (429)."""
    from accounts.two_factor import two_factor_enabled, two_factor_verify

    if signin.signin_locked(username=user.username):
        raise AppError("account_locked", signin.locked_message(), status=429)
    if not password or authenticate(username=user.username, password=password) is None:
        signin.signin_failed(username=user.username)
        raise AppError(
            "reauthentication_failed", _("That password is not right."), status=403, fields={"password": [_("Wrong.")]}
        )
    second = False
    if two_factor_enabled(user) and session_second_factor and not otp:
        second = True
    elif two_factor_enabled(user):
        if two_factor_verify(user=user, token=otp) is None:
            signin.signin_failed(username=user.username)
            raise AppError(
                "reauthentication_failed",
                _("Send the code from your authenticator app (or a backup code) as well."),
                status=403,
                fields={"otp": [_("Wrong or missing.")]},
            )
        second = True
    return FreshSignIn(user_id=user.pk, at=timezone.now(), second_factor=second)


def fresh_sign_in_for_api(request: Any, *, password: str = "", otp: str = "") -> FreshSignIn | None:
    """An API request's proof: the password (and code) sent with it, checked now; else the
    web session's sign-in, when the request came with the session; else None."""
    if password:
        return fresh_sign_in_with_password(user=request.user, password=password, otp=otp)
    django_request = getattr(request, "_request", request)
    if getattr(request, "auth", None) is None and hasattr(django_request, "session"):
        return fresh_sign_in_from_session(django_request)
    return None


def fresh_sign_in_check(*, user: User, proof: FreshSignIn | None) -> None:
    """Raises ``reauthentication_required`` (403) unless ``proof`` is ``user``'s, at most
    ``REAUTHENTICATION_MINUTES`` old and, when the person has a second factor, passed it."""
    from accounts.two_factor import two_factor_enabled

    minutes = int(settings.REAUTHENTICATION_MINUTES)
    if proof is None or proof.user_id != user.pk or timezone.now() - proof.at > timedelta(minutes=minutes):
        raise AppError(
            "reauthentication_required",
            _(
                "For your safety, confirm it is you: sign in again (or send your "
                "password) within %(minutes)s minutes before changing where your money "
                "goes."
            )
            % {"minutes": minutes},
            status=403,
        )
    if not proof.second_factor and two_factor_enabled(user):
        raise AppError(
            "reauthentication_required",
            _("Confirm it is you with the code from your authenticator app as well."),
            status=403,
        )
