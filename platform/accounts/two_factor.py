"""Two-factor authentication: an authenticator app (TOTP) plus one-time backup codes,
through django-otp. Open to everyone; required of co-op staff, treasurers and
organisation owners before they use those functions (``second_factor_required``).

Enrolling is two steps: ``two_factor_enrol_start`` makes an unconfirmed TOTP device and
hands out its secret (as text and as a QR code); ``two_factor_enrol_confirm`` takes a
code from the app, confirms the device, and returns ten backup codes, shown once. From
then on sign-in asks for a code (web: a second step; API token: the ``otp`` field), and
every API token issued before enrolment is deleted, so each token of a person with a
second factor was obtained with it.

Passkeys (WebAuthn, ``accounts.passkeys``) are the other second factor: a passkey is a
django-otp device too, so everything here that asks for "a confirmed device" (whether
two-factor is on, whether a role's requirement is met) counts it. The first passkey of a
person without an app gets the backup codes too.
"""

import base64
from dataclasses import dataclass

import segno
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.authentication import forget_tokens
from accounts.models import STAFF_ROLE_GROUPS, OrganisationStaff, User, WebAuthnDevice
from accounts.security_notices import security_notice_send
from core.audit import audit_record
from core.errors import AppError

BACKUP_CODE_COUNT = 10
_TOTP_NAME = "authenticator app"
_BACKUP_NAME = "backup codes"


def two_factor_enabled(user: User) -> bool:
    """Whether ``user`` has a confirmed second factor."""
    return bool(user.is_authenticated) and user_has_device(user, confirmed=True)


def totp_enabled(user: User) -> bool:
    """Whether ``user`` has a confirmed authenticator app (the codes this module checks)."""
    return bool(user.is_authenticated) and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_required(user: User) -> bool:
    """Co-op staff (treasurers, and verifiers and moderators, who decide who may publish
    and who is suspended) and organisation owners must sign in with a second factor to use
    those functions."""
    if not user.is_authenticated:
        return False
    return bool(
        user.is_staff
        or user.is_superuser
        or user.groups.filter(name__in=STAFF_ROLE_GROUPS.values()).exists()
        or OrganisationStaff.objects.filter(user=user, role=OrganisationStaff.Role.OWNER).exists()
    )


@dataclass(frozen=True)
class Enrolment:
    """What the person copies into their authenticator app."""

    secret: str  # base32, as apps expect it typed in
    otpauth_url: str
    qr_svg: str  # the same URL as an SVG QR code (inline; no external service)


def two_factor_enrol_start(*, user: User) -> Enrolment:
    """Starts enrolment with a fresh TOTP secret (replacing an unfinished one). Refused
    with ``two_factor_already_enabled`` (409) when a confirmed device exists."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise AppError(
                "two_factor_already_enabled",
                _("Two-factor authentication is already on; turn it off first to enrol a new app."),
                status=409,
            )
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=_TOTP_NAME, confirmed=False)
    url = device.config_url
    return Enrolment(
        secret=base64.b32encode(device.bin_key).decode(),
        otpauth_url=url,
        qr_svg=segno.make(url, error="m").svg_inline(scale=4),
    )


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _unused in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_enrol_confirm(*, user: User, token: str) -> list[str]:
    """Confirms the pending TOTP device with a code from the app; returns the backup
    codes (shown once). Deletes the person's API tokens (they sign in again with a code).
    Raises ``two_factor_not_started`` (409) or ``invalid_code`` (400); nothing changes then."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise AppError("two_factor_not_started", _("Start enrolment first to get a secret for your app."), status=409)
    # Verified outside the writing transaction: a failure must still count (django-otp throttles).
    if not device.verify_token(_clean(token)):
        raise AppError("invalid_code", _("That code is not right; check the app's clock and try the next code."))
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_backup_codes(user)
        forget_tokens(user=user)
        Token.objects.filter(user=user).delete()
        audit_record(actor=user, action="two_factor.enabled", target=user, after={"device": "totp"})
        security_notice_send(user=user, category="two_factor_enabled", params={}, url="/account/security/")
    return codes


def two_factor_verify(*, user: User, token: str) -> Device | None:
    """The confirmed device that accepts ``token`` (an app code, or a backup code, which
    is used up), or None. Replayed app codes are refused (django-otp keeps the last one)."""
    token = _clean(token)
    if not token:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(token):
                return device
    return None


def two_factor_device(*, user: User) -> TOTPDevice:
    """The person's confirmed authenticator device (to mark a session verified with it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise AppError("two_factor_not_enabled", _("Two-factor authentication is not on."), status=409)
    return device


def two_factor_backup_codes_renew(*, user: User, token: str) -> list[str]:
    """New backup codes for a current code; the old ones stop working."""
    if not two_factor_enabled(user):
        raise AppError("two_factor_not_enabled", _("Turn on two-factor authentication first."), status=409)
    if two_factor_verify(user=user, token=token) is None:
        raise AppError("invalid_code", _("That code is not right."))
    with transaction.atomic():
        codes = _new_backup_codes(user)
        audit_record(actor=user, action="two_factor.backup_codes_renewed", target=user)
    return codes


def two_factor_disable(*, user: User, token: str) -> None:
    """Turns the second factor off for a current code. Refused while the person holds a
    role that requires it (``second_factor_required_for_role``, 409)."""
    if not two_factor_enabled(user):
        raise AppError("two_factor_not_enabled", _("Two-factor authentication is not on."), status=409)
    if second_factor_required(user):
        raise AppError(
            "second_factor_required_for_role",
            _("Your role (co-op staff, treasurer or organisation owner) requires two-factor authentication."),
            status=409,
        )
    if two_factor_verify(user=user, token=token) is None:
        raise AppError("invalid_code", _("That code is not right."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        if not WebAuthnDevice.objects.filter(user=user, confirmed=True).exists():  # passkeys keep their backup codes
            StaticDevice.objects.filter(user=user).delete()
        audit_record(actor=user, action="two_factor.disabled", target=user)
        security_notice_send(user=user, category="two_factor_disabled", params={}, url="/account/security/")


def _clean(token: str) -> str:
    return "".join(str(token or "").split())
