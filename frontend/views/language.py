"""The language switch on every page: Django's ``set_language`` (a cookie for everyone),
and for a signed-in person their saved choice too, so it follows them to other devices and
into their notifications and e-mails."""

from contextlib import suppress

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts.models import User
from core.errors import AppError
from notifications import selectors, services


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    response = set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        current = selectors.settings_for(user=user)
        # An unknown language: set_language kept the old one, and so does the saved choice.
        with suppress(AppError):
            services.notification_settings_set(user=user, language=language, time_zone=current.time_zone)
    return response
