"""The organisation's sandbox area (issue 24.6): its sandbox batches, published with play
money, and the live ones its own people can work to test them. Nothing here touches the
ledger (``tasks.books``)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from frontend.pages import app_page
from frontend.views.requester import _organisation
from tasks import selectors as task_selectors
from tasks.models import Batch


@app_page
def sandbox_page(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug)
    batches = task_selectors.batches_for_organisation(organisation=organisation).filter(is_sandbox=True)[:100]
    return render(
        request,
        "frontend/requester/sandbox.html",
        {
            "organisation": organisation,
            "sandbox": True,
            "batches": batches,
            "live": [batch for batch in batches if batch.status == Batch.Status.PUBLISHED],
        },
    )
