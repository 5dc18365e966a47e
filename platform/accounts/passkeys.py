"""Passkeys (WebAuthn) as a second factor beside the authenticator app, through
py_webauthn (``webauthn``, pinned), which checks the browser's signed answers.

A passkey is an ``accounts.models.WebAuthnDevice``, a django-otp device: a session that
passed one is verified like one that passed a TOTP code, and a confirmed passkey turns
two-factor on (``two_factor_enabled``), so the roles that require a second factor
(``second_factor_required``) accept it unchanged.

Each ceremony is two steps. The ``*_options`` function makes the browser's options with a
fresh random challenge, which the caller keeps in the person's session (never sent back by
the browser as proof); ``passkey_register`` / ``passkey_verify`` check the browser's
answer against that challenge, the site's origin and relying-party id, once.

The relying-party id is the site's host name (``WEBAUTHN_RP_ID`` overrides it); the
expected origin the page's scheme and host. Both come from the request, whose host Django
has already checked against ``ALLOWED_HOSTS``.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.authentication import forget_tokens
from accounts.models import User, WebAuthnDevice
from accounts.reauthentication import FreshSignIn, fresh_sign_in_check
from accounts.security_notices import security_notice_send
from core.audit import audit_record
from core.errors import AppError

RP_NAME = "Co-op crowdwork"
MAX_PASSKEYS = 10
NAME_MAX = 64


@dataclass(frozen=True)
class Site:
    """Where the ceremony happens: the relying-party id and the page's origin."""

    rp_id: str
    origin: str


@dataclass(frozen=True)
class Ceremony:
    """Options for the browser (JSON text) and the challenge the caller keeps."""

    options_json: str
    challenge: str  # base64url


def site_for_request(request: Any) -> Site:
    """The relying party and origin of the page that asked (its host already checked
    against ``ALLOWED_HOSTS`` by ``get_host``)."""
    from django.conf import settings
    from django.http.request import split_domain_port

    host = request.get_host()
    domain, _port = split_domain_port(host)
    return Site(rp_id=settings.WEBAUTHN_RP_ID or domain, origin=f"{request.scheme}://{host}")


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for device in WebAuthnDevice.objects.filter(user=user, confirmed=True).order_by("id"):
        transports = []
        for name in device.transports or []:
            try:
                transports.append(AuthenticatorTransport(name))
            except ValueError:
                continue
        descriptors.append(
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(device.credential_id), transports=transports or None)
        )
    return descriptors


def passkey_registration_options(*, user: User, site: Site) -> Ceremony:
    """Options to create a passkey for ``user`` (their existing ones excluded, so one
    authenticator is not registered twice). Raises ``too_many_passkeys`` (409)."""
    if WebAuthnDevice.objects.filter(user=user).count() >= MAX_PASSKEYS:
        raise AppError(
            "too_many_passkeys",
            _("You can keep up to %(count)d passkeys; remove one first.") % {"count": MAX_PASSKEYS},
            status=409,
        )
    options = generate_registration_options(
        rp_id=site.rp_id,
        rp_name=RP_NAME,
        user_name=user.username,
        user_id=f"coop-user-{user.pk}".encode(),
        user_display_name=user.username,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return Ceremony(options_json=options_to_json(options), challenge=bytes_to_base64url(options.challenge))


def _invalid_passkey(message: str) -> AppError:
    return AppError("invalid_passkey", message, status=400)


def _credential(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise _invalid_passkey(_("The browser's answer was not readable; try again.")) from error
    if not isinstance(raw, dict):
        raise _invalid_passkey(_("The browser's answer was not readable; try again."))
    return raw


def passkey_register(
    *,
    user: User,
    credential: Any,
    challenge: str,
    site: Site,
    name: str,
    fresh_sign_in: FreshSignIn | None,
) -> tuple[WebAuthnDevice, list[str]]:
    """Checks the browser's answer to ``passkey_registration_options`` and keeps the
    passkey. Needs a fresh sign-in that passed the second factor if the person already has
    one (``reauthentication_required``): a stolen session alone cannot add a way in.
    Returns the passkey and, when it is the person's first second factor, ten backup codes
    (shown once). Like enrolling an app, it deletes the person's API tokens and tells them.
    Raises ``invalid_passkey`` (400, nothing kept), ``passkey_exists`` (409)."""
    from accounts.two_factor import _new_backup_codes, two_factor_enabled

    fresh_sign_in_check(user=user, proof=fresh_sign_in)
    name = " ".join(str(name or "").split())[:NAME_MAX] or "passkey"
    if not challenge:
        raise _invalid_passkey(_("Start again: the passkey request expired."))
    try:
        verified = verify_registration_response(
            credential=_credential(credential),
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=site.rp_id,
            expected_origin=site.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise _invalid_passkey(_("The passkey could not be checked: %(reason)s") % {"reason": error}) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    transports = [str(item) for item in (_credential(credential).get("response", {}).get("transports") or [])][:8]
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if WebAuthnDevice.objects.filter(credential_id=credential_id).exists():
            raise AppError("passkey_exists", _("This passkey is registered already."), status=409)
        first_factor = not two_factor_enabled(locked)
        device = WebAuthnDevice.objects.create(
            user=locked,
            name=name,
            confirmed=True,
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports,
        )
        codes = _new_backup_codes(locked) if first_factor else []
        forget_tokens(user=locked)
        Token.objects.filter(user=locked).delete()
        audit_record(actor=locked, action="passkey.added", target=locked, after={"passkey": device.pk, "name": name})
        security_notice_send(user=locked, category="passkey_added", params={"name": name}, url="/account/security/")
    return device, codes


def passkey_authentication_options(*, user: User, site: Site) -> Ceremony:
    """Options to sign in with one of ``user``'s passkeys. Raises ``no_passkey`` (409)."""
    allowed = _descriptors(user)
    if not allowed:
        raise AppError("no_passkey", _("This account has no passkey; use the code from your app."), status=409)
    options = generate_authentication_options(
        rp_id=site.rp_id, allow_credentials=allowed, user_verification=UserVerificationRequirement.PREFERRED
    )
    return Ceremony(options_json=options_to_json(options), challenge=bytes_to_base64url(options.challenge))


def passkey_verify(*, user: User, credential: Any, challenge: str, site: Site) -> WebAuthnDevice:
    """The passkey of ``user`` that signed ``challenge`` (from
    ``passkey_authentication_options``), its signature counter moved on under a lock (a
    counter that went backwards, a cloned authenticator, is refused). Raises
    ``invalid_passkey`` (400); the caller counts it as a failed sign-in."""
    answer = _credential(credential)
    if not challenge:
        raise _invalid_passkey(_("Start again: the passkey request expired."))
    with transaction.atomic():
        device = (
            WebAuthnDevice.objects.select_for_update()
            .filter(user=user, confirmed=True, credential_id=str(answer.get("id") or answer.get("rawId") or ""))
            .first()
        )
        if device is None:
            raise _invalid_passkey(_("That passkey does not belong to this account."))
        try:
            verified = verify_authentication_response(
                credential=answer,
                expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=site.rp_id,
                expected_origin=site.origin,
                credential_public_key=bytes(device.public_key),
                credential_current_sign_count=device.sign_count,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as error:
            raise _invalid_passkey(_("The passkey could not be checked: %(reason)s") % {"reason": error}) from error
        device.sign_count = verified.new_sign_count
        device.last_used_at = timezone.now()
        device.save(update_fields=["sign_count", "last_used_at"])
    return device


def passkeys_of(*, user: User) -> list[WebAuthnDevice]:
    return list(WebAuthnDevice.objects.filter(user=user, confirmed=True).order_by("id"))


def passkey_remove(*, user: User, passkey_id: int, session_verified: bool) -> None:
    """Removes one of the person's own passkeys, from a session that passed the second
    factor. Refused with ``second_factor_required_for_role`` (409) when it is the last
    second factor of someone whose role requires one; ``not_found`` for anyone else's."""
    from accounts.two_factor import second_factor_required
    from core.errors import NotFound

    if not session_verified:
        raise AppError("second_factor_needed", _("Confirm this session with your second factor first."), status=403)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        device = WebAuthnDevice.objects.filter(user=locked, pk=passkey_id).first()
        if device is None:
            raise NotFound("passkey")
        others = WebAuthnDevice.objects.filter(user=locked, confirmed=True).exclude(pk=device.pk).exists()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        totp = TOTPDevice.objects.filter(user=locked, confirmed=True).exists()
        if second_factor_required(locked) and not others and not totp:
            raise AppError(
                "second_factor_required_for_role",
                _("Your role requires a second factor: add another passkey or an authenticator app first."),
                status=409,
            )
        name = device.name
        device.delete()
        if not others and not totp:  # no second factor left: the backup codes go too
            from django_otp.plugins.otp_static.models import StaticDevice

            StaticDevice.objects.filter(user=locked).delete()
        audit_record(actor=locked, action="passkey.removed", target=locked, after={"passkey": passkey_id})
        security_notice_send(user=locked, category="passkey_removed", params={"name": name}, url="/account/security/")
