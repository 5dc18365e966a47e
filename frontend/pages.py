"""Small helpers every page uses: turning an ``AppError`` into form errors, showing a
refusal as a page, and the role checks that pick a user's navigation."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import User
from core.errors import AppError

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def add_app_error(form: forms.Form, error: AppError) -> None:
    """Puts a service's refusal next to the fields it names, the rest at the top of the form.

    Field names the form does not have (``requirements[0]``) go to the top, prefixed, so
    nothing the service said is lost."""
    for field, field_messages in error.fields.items():
        for message in field_messages:
            if field in form.fields:
                form.add_error(field, message)
            else:
                form.add_error(None, f"{field}: {message}")
    if not error.fields or not any(field in form.fields for field in error.fields):
        form.add_error(None, error.message)
    for row_error in error.details.get("errors", [])[:20]:
        form.add_error(
            None,
            _("Row %(row)s, column '%(column)s': %(message)s")
            % {"row": row_error["row"], "column": row_error["column"], "message": row_error["message"]},
        )


def form_errors_text(form: forms.Form) -> str:
    """All of a form's errors as one sentence, for a message after a redirect."""
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def refusal(request: HttpRequest, error: AppError) -> HttpResponse:
    """The page shown when a service refuses outright (not found, not allowed, wrong state)."""
    return render(
        request,
        "frontend/refusal.html",
        {"error": error},
        status=error.status_code if error.status_code >= 400 else 400,
    )


def app_page(view: View) -> View:
    """Signed-in only; an ``AppError`` escaping the view becomes a plain-words refusal page
    (the service rolled its transaction back, so nothing was half-done)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except AppError as error:
            return refusal(request, error)

    return cast(View, wrapper)


def user_of(request: HttpRequest) -> User:
    """The signed-in user (pages using this are wrapped in ``app_page``)."""
    return cast(User, request.user)


def flash_error(request: HttpRequest, error: AppError) -> None:
    messages.error(request, error.message)


def roles_for(user: Any) -> dict[str, Any]:
    """Which parts of the navigation a user sees. Selectors decide; the templates only show."""
    if not getattr(user, "is_authenticated", False):
        return {"authenticated": False}
    roles = account_selectors.user_roles(user=user)
    return {
        "authenticated": True,
        "organisations": roles.organisations,
        "is_member": roles.is_member,
        "is_treasurer": roles.is_treasurer,
        # Jurors are drawn from members who opted in; the case queue lives in disputes/.
        "is_juror": roles.is_juror,
        "is_coop_staff": roles.is_coop_staff,
    }
