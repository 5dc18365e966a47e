"""The person's own language and time zone for every request they make.

Django's ``LocaleMiddleware`` has already picked a language from the switch's cookie or the
browser; a signed-in person's saved choice (their ``NotificationSettings``, the same one
their notifications and e-mails are written in) comes first. Their time zone is activated
the same way, so every time on every page is shown in it.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from core.moments import zone
from notifications.models import NotificationSettings


class PersonalLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            saved = NotificationSettings.objects.filter(user=user).values_list("language", "time_zone").first()
            if saved is not None:
                language, time_zone = saved
                if language and translation.check_for_language(language):
                    translation.activate(language)
                    request.LANGUAGE_CODE = translation.get_language()
                timezone.activate(zone(time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
