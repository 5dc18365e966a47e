"""The person's own security pages: two-factor authentication, re-entering the
password before sensitive changes, and their personal data (download, erasure)."""

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login

from accounts import passkeys, personal_data, reauthentication, two_factor
from accounts.models import User
from core.errors import AppError
from frontend.forms import PageForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


class CodeForm(PageForm):
    code = forms.CharField(
        max_length=20,
        label=gettext_lazy("Code"),
        help_text=gettext_lazy("The 6 digits your authenticator app shows now (or a backup code)."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordForm(PageForm):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(
        max_length=20,
        required=False,
        label=gettext_lazy("Code"),
        help_text=gettext_lazy("Only if you use two-factor authentication."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Two-factor status and every action on it, one form per action (``action`` field)."""
    user = _user(request)
    context: dict[str, Any] = {
        # ``enabled``: the authenticator app; ``two_factor_on``: any second factor (a passkey too).
        "enabled": two_factor.totp_enabled(user),
        "two_factor_on": two_factor.two_factor_enabled(user),
        "passkeys": passkeys.passkeys_of(user=user),
        "backup_codes": request.session.pop(SHOW_BACKUP_CODES, None) if request.method == "GET" else None,
        "required": two_factor.second_factor_required(user),
        "verified": reauthentication.session_verified(request),
        "next": _next(request, ""),
        "form": CodeForm(),
    }
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        form = CodeForm(request.POST)
        context["form"] = form
        try:
            if action == "start":
                context["enrolment"] = two_factor.two_factor_enrol_start(user=user)
                context["form"] = CodeForm()
            elif not form.is_valid():
                raise AppError("invalid", _("Enter the code."))
            elif action == "confirm":
                context["backup_codes"] = two_factor.two_factor_enrol_confirm(
                    user=user, token=form.cleaned_data["code"]
                )
                device = two_factor.two_factor_device(user=user)
                otp_login(request, device)
                context.update(enabled=True, verified=True)
                messages.success(request, _("Two-factor authentication is on. Keep your backup codes somewhere safe."))
            elif action == "verify":
                device = two_factor.two_factor_verify(user=user, token=form.cleaned_data["code"])
                if device is None:
                    raise AppError("invalid_code", _("That code is not right."))
                otp_login(request, device)
                messages.success(request, _("This session is confirmed with your second factor."))
                return redirect(_next(request, "/account/security/"))
            elif action == "backup_codes":
                context["backup_codes"] = two_factor.two_factor_backup_codes_renew(
                    user=user, token=form.cleaned_data["code"]
                )
            elif action == "disable":
                two_factor.two_factor_disable(user=user, token=form.cleaned_data["code"])
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("account_security")
            else:
                raise AppError("invalid", _("Unknown action."))
        except AppError as error:
            form.add_error(None, error.message)
            status = 400 if error.status_code < 500 else error.status_code
            if action == "confirm":  # show the pending secret again
                context["retry_confirm"] = True
    return render(request, "frontend/account/security.html", context, status=status)


@login_required
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Re-enter the password (and code) before changing where money goes."""
    form = PasswordForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            proof = reauthentication.fresh_sign_in_with_password(
                user=_user(request),
                password=form.cleaned_data["password"],
                otp=form.cleaned_data["code"],
                session_second_factor=reauthentication.session_verified(request),
            )
        except AppError as error:
            form.add_error(None, error.message)
            status = 429 if error.status_code == 429 else 400
        else:
            reauthentication.sign_in_recorded(request=request)
            if proof.second_factor and form.cleaned_data["code"]:
                # The code passed: the session counts as verified (with whichever device).
                device = next(iter(devices_for_user(_user(request), confirmed=True)), None)
                if device is not None:
                    otp_login(request, device)
            return redirect(_next(request, "/work/payouts/"))
    return render(
        request, "frontend/account/reauthenticate.html", {"form": form, "next": _next(request, "")}, status=status
    )


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    return render(
        request, "frontend/account/data.html", {"blockers": personal_data.erasure_blockers(user=_user(request))}
    )


@login_required
def my_data_download(request: HttpRequest) -> HttpResponse:
    content = personal_data.personal_data_export(user=_user(request))
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
    return response


@login_required
@require_POST
def my_data_erase(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordForm(request.POST)
    if not form.is_valid() or request.POST.get("confirm") != "erase":
        messages.error(request, _("Type your password and tick the box to confirm."))
        return redirect("account_data")
    try:
        proof = reauthentication.fresh_sign_in_with_password(
            user=user, password=form.cleaned_data["password"], otp=form.cleaned_data["code"]
        )
        personal_data.personal_data_erase(user=user, fresh_sign_in=proof)
    except AppError as error:
        messages.error(request, error.message)
        return redirect("account_data")
    logout(request)
    messages.success(request, _("Your account is erased: your name and details are gone from the platform."))
    return redirect("home")


# --- Passkeys (WebAuthn): adding and removing them on the security page -----------------------

PASSKEY_REGISTRATION = "accounts:passkey_registration"
SHOW_BACKUP_CODES = "accounts:show_backup_codes"


def _json_error(error: AppError) -> JsonResponse:
    return JsonResponse({"error": {"code": error.code, "message": str(error.message)}}, status=error.status_code)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@login_required
@require_POST
def passkey_registration_options(request: HttpRequest) -> HttpResponse:
    """The browser's options to create a passkey; the challenge stays in the session."""
    user = _user(request)
    try:
        reauthentication.fresh_sign_in_check(user=user, proof=reauthentication.fresh_sign_in_from_session(request))
        ceremony = passkeys.passkey_registration_options(user=user, site=passkeys.site_for_request(request))
    except AppError as error:
        return _json_error(error)
    request.session[PASSKEY_REGISTRATION] = ceremony.challenge
    return HttpResponse(ceremony.options_json, content_type="application/json")


@login_required
@require_POST
def passkey_add(request: HttpRequest) -> HttpResponse:
    """Keeps the passkey the browser created (``{"name", "credential"}``); the session is
    then verified with it. The challenge is used once, whatever the outcome."""
    user = _user(request)
    body = _json_body(request)
    challenge = request.session.pop(PASSKEY_REGISTRATION, "")
    try:
        device, codes = passkeys.passkey_register(
            user=user,
            credential=body.get("credential"),
            challenge=challenge,
            site=passkeys.site_for_request(request),
            name=str(body.get("name") or ""),
            fresh_sign_in=reauthentication.fresh_sign_in_from_session(request),
        )
    except AppError as error:
        return _json_error(error)
    otp_login(request, device)
    if codes:
        request.session[SHOW_BACKUP_CODES] = codes
    messages.success(request, _("Your passkey “%(name)s” is added.") % {"name": device.name})
    return JsonResponse({"redirect": reverse("account_security")})


@login_required
@require_POST
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    try:
        passkeys.passkey_remove(
            user=_user(request), passkey_id=passkey_id, session_verified=reauthentication.session_verified(request)
        )
    except AppError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The passkey is removed."))
    return redirect("account_security")
