"""Turns an oversize request body into a clear 413 instead of a generic 400; resets the
per-request record of committed changes."""

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_big = limit is not None and int(length) > limit
        except ValueError:
            too_big = False
        if too_big:
            return body_too_big(limit)
        try:
            return self.get_response(request)
        except RequestDataTooBig:
            return body_too_big(limit)


def body_too_big(limit: int) -> JsonResponse:
    return JsonResponse(
        {
            "error": {
                "code": "body_too_large",
                "message": f"The request body is larger than the limit of {limit} bytes.",
            }
        },
        status=413,
    )


class CommittedChangesMiddleware:
    """Starts each request with no committed change recorded, so the error answer can tell
    whether "nothing was changed" is true (``core.audit.change_committed``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from core.audit import change_committed_reset

        change_committed_reset()
        return self.get_response(request)
