"""Server-rendered pages. Views are thin: read a form, call one service, render."""

import json
import time
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_ratelimit.decorators import ratelimit

from accounts import passkeys, selectors, services, signin, two_factor
from accounts.models import User
from core.errors import AppError
from core.jobs import HEARTBEAT_KEY
from core.runner import jobs_health
from notifications import services as notification_services


def home(request: HttpRequest) -> HttpResponse:
    context = {}
    if request.user.is_authenticated:
        context = {
            "organisations": selectors.organisations_for_user(user=request.user),  # type: ignore[arg-type]
            "is_member": selectors.user_is_member(request.user),  # type: ignore[arg-type]
            "is_treasurer": selectors.user_is_treasurer(request.user),  # type: ignore[arg-type]
        }
    return render(request, "frontend/home.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and compose health checks; also shows the last
    Celery beat heartbeat so an operator can see that timers fire, and per periodic job
    the age of the oldest due item it left undone and the items it parked."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "last_heartbeat": cache.get(HEARTBEAT_KEY), "jobs": jobs_health()})


def _country_choices() -> list[tuple[str, str]]:
    from payouts.rails.coverage import all_countries

    return [("", _("Choose your country")), *all_countries()]


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class RegisterForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    password = forms.CharField(
        label=gettext_lazy("Password"),
        widget=forms.PasswordInput,
        help_text=gettext_lazy("At least 8 characters, not a common password."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Your language"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=gettext_lazy("The pages, notifications and e-mails are written in it; you can change it any time."),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Your time zone"),
        choices=_time_zone_choices,
        required=False,
        initial="UTC",
        help_text=gettext_lazy("Every time and deadline is shown in it. Your browser's guess is chosen for you."),
        # app.js puts the browser's zone (Intl) here while the person has not chosen one.
        widget=forms.Select(attrs={"data-guess-time-zone": "yes"}),
    )
    country = forms.ChoiceField(
        label=gettext_lazy("Country"),
        choices=_country_choices,
        required=False,
        help_text=gettext_lazy("Where you live: it decides how you can be paid (shown below the form)."),
        # htmx shows the payout options of the chosen country without leaving the form.
        widget=forms.Select(
            attrs={
                "hx-get": "/payouts/coverage/",
                "hx-target": "#register-coverage",
                "hx-trigger": "change",
                "hx-include": "this",
            }
        ),
    )


def _coverage_context(country: str) -> dict[str, object]:
    from payouts.rails import coverage_for_country

    return {"coverage": coverage_for_country(country)}


def payout_coverage(request: HttpRequest) -> HttpResponse:
    """Where can I be paid? The rails for a chosen country and for the 20 countries
    where most crowdworkers live; public, for people deciding whether to register.
    With ``HX-Request`` only the chosen country's part is rendered."""
    from payouts.rails import coverage_for_country
    from payouts.rails.coverage import FOCUS_COUNTRIES, all_countries

    codes = {code for code, _ in all_countries()}
    country = str(request.GET.get("country") or "US").upper()
    if country not in codes:
        country = "US"
    context = _coverage_context(country)
    if request.headers.get("HX-Request"):
        return render(request, "frontend/public/_coverage_country.html", context)
    focus = []
    for code in FOCUS_COUNTRIES:
        found = coverage_for_country(code)
        by_method: dict[str, list[str]] = {"bank_account": [], "card": [], "wallet": []}
        for option in found.options:
            label = str(option.label)  # in the reader's language
            if label not in by_method[option.method]:
                by_method[option.method].append(label)
        focus.append(
            {
                "country": code,
                "name": found.name,
                "bank": by_method["bank_account"],
                "card": by_method["card"],
                "wallet": by_method["wallet"],
            }
        )
    return render(request, "frontend/public/coverage.html", {**context, "countries": all_countries(), "focus": focus})


def _credentials_rate() -> str:
    return str(settings.WEB_CREDENTIALS_RATE)


@ratelimit(key="ip", rate=lambda group, request: _credentials_rate(), method="POST", block=False)
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None, initial={"language": translation.get_language()})
    if getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("Too many attempts from your address; wait a few minutes and try again."))
        return render(request, "registration/register.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        country = data.pop("country", "")
        language = data.pop("language") or translation.get_language()
        time_zone = data.pop("time_zone") or "UTC"
        try:
            user = services.user_register(**data)
            if country:
                services.worker_profile_update(user=user, changes={"country": country})
            notification_services.notification_settings_set(user=user, language=language, time_zone=time_zone)
        except AppError as error:
            for field, messages in error.fields.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
    chosen = str(form.data.get("country") or "")
    coverage = _coverage_context(chosen) if chosen else {}
    return render(request, "registration/register.html", {"form": form, **coverage})


@method_decorator(
    ratelimit(key="ip", rate=lambda group, request: _credentials_rate(), method="POST", block=False), name="post"
)
class LoginView(auth_views.LoginView):
    """Django's sign-in, limited per address and per account name (``accounts.signin``:
    the same answer whether or not the account exists). A person with a second factor
    is not signed in yet: the password only opens the code step (``login_verify``)."""

    def _refuse(self, message: str) -> HttpResponse:
        form = self.get_form()
        form.is_valid()
        form.add_error(None, message)
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 429
        return response

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if getattr(request, "limited", False):
            return self._refuse(_("Too many sign-in attempts; wait a few minutes and try again."))
        username = str(request.POST.get("username", ""))
        if signin.signin_locked(username=username):
            return self._refuse(signin.locked_message())
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = str(self.request.POST.get("username", ""))
        if signin.signin_failed(username=username):
            return self._refuse(signin.locked_message())
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        signin.signin_succeeded(username=user.get_username())
        if two_factor.two_factor_enabled(user):
            self.request.session[PENDING_SIGN_IN] = {
                "user": user.pk,
                "backend": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("login_verify")
        return super().form_valid(form)


PENDING_SIGN_IN = "accounts:pending_sign_in"
PENDING_SECONDS = 300


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        label=gettext_lazy("Code from your authenticator app (or a backup code)"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


@ratelimit(key="ip", rate=lambda group, request: _credentials_rate(), method="POST", block=False)
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in: a code for the person whose password was right."""
    pending = request.session.get(PENDING_SIGN_IN)
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_SIGN_IN, None)
        messages.error(request, _("Your sign-in expired or was not started; sign in again."))
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return redirect("login")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if getattr(request, "limited", False) or signin.signin_locked(username=user.username):
            form.add_error(None, signin.locked_message())
            status = 429
        else:
            device = two_factor.two_factor_verify(user=user, token=form.cleaned_data["code"])
            if device is not None:
                signin.signin_succeeded(username=user.username)
                del request.session[PENDING_SIGN_IN]
                login(request, user, backend=pending["backend"])
                otp_login(request, device)
                return redirect(pending.get("next") or settings.LOGIN_REDIRECT_URL)
            if signin.signin_failed(username=user.username):
                form.add_error(None, signin.locked_message())
                status = 429
            else:
                form.add_error("code", _("That code is not right; try the current one from your app."))
                status = 400
    has_passkey = passkeys.passkeys_of(user=user) != []
    return render(request, "registration/login_verify.html", {"form": form, "has_passkey": has_passkey}, status=status)


# --- The second step with a passkey (sign-in), or confirming a signed-in session ----------------

PASSKEY_AUTHENTICATION = "accounts:passkey_authentication"


def _sign_in_expired() -> str:
    return gettext("Your sign-in expired or was not started; sign in again.")


def _passkey_person(request: HttpRequest) -> tuple[User | None, dict[str, Any] | None]:
    """Who the passkey is for: the person half-way through sign-in, else the signed-in one."""
    pending = request.session.get(PENDING_SIGN_IN)
    if pending and time.time() - float(pending.get("at", 0)) <= PENDING_SECONDS:
        return User.objects.filter(pk=pending["user"], is_active=True).first(), pending
    if request.user.is_authenticated:
        return request.user, None  # type: ignore[return-value]
    return None, None


def _passkey_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@require_POST
@ratelimit(key="ip", rate=lambda group, request: _credentials_rate(), method="POST", block=False)
def passkey_options(request: HttpRequest) -> HttpResponse:
    """Options for the browser to sign with one of the person's passkeys."""
    user, _pending = _passkey_person(request)
    if user is None:
        return _passkey_error("sign_in_expired", _sign_in_expired(), 400)
    try:
        ceremony = passkeys.passkey_authentication_options(user=user, site=passkeys.site_for_request(request))
    except AppError as error:
        return _passkey_error(error.code, str(error.message), error.status_code)
    request.session[PASSKEY_AUTHENTICATION] = ceremony.challenge
    return HttpResponse(ceremony.options_json, content_type="application/json")


@require_POST
@ratelimit(key="ip", rate=lambda group, request: _credentials_rate(), method="POST", block=False)
def passkey_verify(request: HttpRequest) -> HttpResponse:
    """Checks the browser's signature: finishes a sign-in (as a right code does), or marks
    the signed-in session verified. A wrong answer counts as a failed sign-in. The
    challenge is used once."""
    user, pending = _passkey_person(request)
    challenge = request.session.pop(PASSKEY_AUTHENTICATION, "")
    if user is None:
        return _passkey_error("sign_in_expired", _sign_in_expired(), 400)
    if getattr(request, "limited", False) or signin.signin_locked(username=user.username):
        return _passkey_error("account_locked", str(signin.locked_message()), 429)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    try:
        device = passkeys.passkey_verify(
            user=user,
            credential=body.get("credential") if isinstance(body, dict) else None,
            challenge=challenge,
            site=passkeys.site_for_request(request),
        )
    except AppError as error:
        if pending is not None and signin.signin_failed(username=user.username):
            return _passkey_error("account_locked", str(signin.locked_message()), 429)
        return _passkey_error(error.code, str(error.message), error.status_code)
    if pending is not None:
        signin.signin_succeeded(username=user.username)
        del request.session[PENDING_SIGN_IN]
        login(request, user, backend=pending["backend"])
        target = pending.get("next") or settings.LOGIN_REDIRECT_URL
    else:
        target = _safe_next(request, "/account/security/")
    otp_login(request, device)
    return JsonResponse({"redirect": target})


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def glossary(request: HttpRequest) -> HttpResponse:
    """The co-op's own words, explained once, linked from every page's footer."""
    return render(request, "frontend/public/glossary.html")
