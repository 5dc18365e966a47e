"""The progress page of a long operation (see ``frontend.operations``): it polls itself
with htmx until the job is done, so the work never blocks a request."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from frontend.operations import access_operation
from frontend.pages import app_page, user_of


@app_page
def operation_page(request: HttpRequest, operation_id: str) -> HttpResponse:
    operation = access_operation(user=user_of(request), operation_id=operation_id)
    return render(request, "frontend/operation.html", {"operation": operation})
