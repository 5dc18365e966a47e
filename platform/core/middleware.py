"""Turns an oversize request body into a clear 413 instead of a generic 400; resets the
per-request record of committed changes."""

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _


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
            return body_too_big(request, limit)
        try:
            return self.get_response(request)
        except RequestDataTooBig:
            return body_too_big(request, limit)


def body_too_big(request: HttpRequest, limit: int) -> JsonResponse:
    """The 413 answer, in the language of the sender's browser (this runs before the request's
    language is chosen: the body is refused before a session or a person is read)."""
    with translation.override(translation.get_language_from_request(request)):
        message = _("The request is too large: at most %(size)s can be sent at once.") % {"size": filesizeformat(limit)}
    return JsonResponse({"error": {"code": "body_too_large", "message": message}}, status=413)


class CommittedChangesMiddleware:
    """Starts each request with no committed change recorded, so the error answer can tell
    whether "nothing was changed" is true (``core.audit.change_committed``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from core.audit import change_committed_reset

        change_committed_reset()
        return self.get_response(request)
