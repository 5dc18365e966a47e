"""Token authentication that also makes the person's own language the request's: a
program calling the API with a person's token gets its refusals in the words that person
chose, as their pages are (``notifications.reading``). Sessions get theirs from
``notifications.middleware``; an organisation's API key is no person, so its requests keep
the caller's ``Accept-Language`` (Django's ``LocaleMiddleware``)."""

from typing import Any

from rest_framework.request import Request

from accounts.authentication import CachedTokenAuthentication
from notifications.reading import reading_choice_activate


class PersonalTokenAuthentication(CachedTokenAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        found = super().authenticate(request)
        if found is not None:
            # The language only: the times a program reads stay in UTC (DRF writes them in
            # the active zone), as they were; a refusal naming a time reads the person's
            # zone itself (``notifications.selectors.moment_for``).
            reading_choice_activate(request=request._request, user_id=found[0].pk, with_time_zone=False)
        return found
