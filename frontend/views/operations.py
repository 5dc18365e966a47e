"""The progress page of a long operation (see ``frontend.operations``): it polls itself
with htmx until the job is done, so the work never blocks a request."""

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from core.errors import NotFound
from frontend.operations import OperationState, access_operation
from frontend.pages import app_page, user_of


@app_page
def operation_page(request: HttpRequest, operation_id: str) -> HttpResponse:
    operation = access_operation(user=user_of(request), operation_id=operation_id)
    return render(request, "frontend/operation.html", {"operation": operation})


@app_page
def operation_download(request: HttpRequest, operation_id: str) -> HttpResponseBase:
    """The file a finished operation produced, for the person who started it only."""
    operation = access_operation(user=user_of(request), operation_id=operation_id)
    if operation.get("state") != OperationState.DONE or not operation.get("file"):
        raise NotFound("file")
    return FileResponse(
        default_storage.open(operation["file"], "rb"), as_attachment=True, filename=operation["filename"]
    )
