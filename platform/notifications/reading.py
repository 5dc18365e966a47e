"""The language and time zone a person reads in, made active for every request they make:
pages (``notifications.middleware``) and, for the language, the API called with their token
(``notifications.authentication``), so a refusal, a form error and a time all come in their
own words and on their own clock. No choice saved: the browser's language (Django's
``LocaleMiddleware``, from ``Accept-Language``) and UTC.

Every API request reads the choice, so it is kept in the cache for ``CACHE_SECONDS`` (a
token's first request costs one query more, later ones none); ``notification_settings_set``
and erasure forget it at once.
"""

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone, translation

from core.moments import zone
from notifications.models import NotificationSettings

CACHE_SECONDS = 3600


def _cache_key(user_id: int) -> str:
    return f"reading:{user_id}"


def reading_choice(*, user_id: int) -> tuple[str, str]:
    """``(language, time zone)`` the person saved; ``("", "UTC")`` when they saved none
    (an empty language: the browser's is used)."""
    key = _cache_key(user_id)
    found = cache.get(key)
    if found is None:
        row = NotificationSettings.objects.filter(user_id=user_id).values_list("language", "time_zone").first()
        found = (row[0], row[1]) if row else ("", "UTC")
        cache.set(key, found, CACHE_SECONDS)
    return found[0], found[1]


def forget_reading_choice(*, user_id: int) -> None:
    cache.delete(_cache_key(user_id))


def reading_choice_activate(*, request: HttpRequest, user_id: int, with_time_zone: bool = True) -> None:
    """Makes the person's saved language (if any) and, ``with_time_zone``, their time zone
    the request's. The time zone stays active until ``notifications.middleware`` ends the
    request."""
    language, time_zone = reading_choice(user_id=user_id)
    if language and translation.check_for_language(language):
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
    if with_time_zone:
        timezone.activate(zone(time_zone))
