"""Django's last-resort error views, in the API's one error shape under /api/.

A path the URL resolver cannot match (``/api/batches/-1/``, a slug with characters a
slug cannot hold) and an error no view handled never reach DRF's exception handler;
without these, an API client would get Django's HTML page instead of the JSON its
schema declares. Pages keep Django's own views."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from core.audit import change_committed


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": {"code": "not_found", "message": "No such object."}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        if change_committed():
            message = "Your change was saved, but a step after it failed; reload to see the current state."
            return JsonResponse({"error": {"code": "saved_with_errors", "message": message}}, status=500)
        body = {"error": {"code": "server_error", "message": "Something went wrong on our side; nothing was changed."}}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
