"""The person's own language and time zone for every request they make.

Django's ``LocaleMiddleware`` has already picked a language from the switch's cookie or the
browser; a signed-in person's saved choice (their ``NotificationSettings``, the same one
their notifications and e-mails are written in) comes first. Their time zone is activated
the same way, so every time on every page is shown in it.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from notifications.reading import reading_choice_activate


class PersonalLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reading_choice_activate(request=request, user_id=user.pk)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
