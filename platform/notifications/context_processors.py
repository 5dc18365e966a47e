"""The menu's unread count and mail warning, computed only when a page shows them."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.selectors import inbox_status


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": SimpleLazyObject(lambda: inbox_status(user=user))}
