"""The person's own security pages: two-factor authentication, re-entering the
password before sensitive changes, and their personal data (download, erasure)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import personal_data, reauthentication, two_factor
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
        label=_("Code"),
        help_text=_("The 6 digits your authenticator app shows now (or a backup code)."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordForm(PageForm):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(
        max_length=20,
        required=False,
        label=_("Code"),
        help_text=_("Only if you use two-factor authentication."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Two-factor status and every action on it, one form per action (``action`` field)."""
    user = _user(request)
    context: dict[str, Any] = {
        "enabled": two_factor.two_factor_enabled(user),
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
                user=_user(request), password=form.cleaned_data["password"], otp=form.cleaned_data["code"]
            )
        except AppError as error:
            form.add_error(None, error.message)
            status = 429 if error.status_code == 429 else 400
        else:
            reauthentication.sign_in_recorded(request=request)
            if proof.second_factor:
                device = two_factor.two_factor_device(user=_user(request))
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
