"""A worker's saved searches with alerts, and messages about a task between worker and requester."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import AppError
from core.money import platform_currency, typed_text
from frontend.forms import MessageForm, SavedSearchForm
from frontend.pages import add_app_error, app_page, user_of
from tasks import messages, searches
from tasks.models import SavedSearch


@app_page
def saved_searches(request: HttpRequest) -> HttpResponse:
    worker = user_of(request)
    status = 200
    if request.method == "POST":
        form = SavedSearchForm(request.POST)
        if form.is_valid():
            try:
                searches.saved_search_create(worker=worker, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error)
            else:
                flash.success(request, _("Search saved. New matching work will reach you as chosen."))
                return redirect("saved_searches")
        status = 400
    else:
        # "Save this search" on the feed carries its filters here.
        form = SavedSearchForm(initial={k: v for k, v in request.GET.items() if k in SavedSearchForm.base_fields})
    return render(
        request,
        "frontend/worker/searches.html",
        {
            "form": form,
            "searches": _with_feed_query(list(searches.saved_searches_for_worker(worker=worker))),
            "vapid_public_key": settings.VAPID_PUBLIC_KEY,
        },
        status=status,
    )


def _with_feed_query(rows: list[SavedSearch]) -> list[SavedSearch]:
    """Sets ``feed_query`` on each search: the feed's query string with its filters, so a
    saved search opens the feed filtered the way it alerts (``searches.saved_search_filters``)."""
    for search in rows:
        filters = searches.saved_search_filters(search)
        query = {
            "keywords": filters["search"],
            "requester": filters["requester"] or "",
            "max_minutes": filters["max_minutes"] or "",
            "min_hourly_pay": typed_text(filters["min_hourly_pay"], platform_currency())
            if filters["min_hourly_pay"]
            else "",
        }
        search.feed_query = urlencode({k: v for k, v in query.items() if v})  # type: ignore[attr-defined]
    return rows


@require_POST
@app_page
def saved_search_delete(request: HttpRequest, search_id: int) -> HttpResponse:
    searches.saved_search_delete(worker=user_of(request), search_id=search_id)
    flash.success(request, _("Search deleted."))
    return redirect("saved_searches")


@app_page
def threads(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    rows = [
        {"thread": t, "side": messages.thread_side(thread=t, user=user)}
        for t in messages.threads_for_user(user=user)[:200]
    ]
    return render(request, "frontend/messages/threads.html", {"rows": rows})


def _render_thread(
    request: HttpRequest, thread_id: int, form: MessageForm | None = None, status: int = 200
) -> HttpResponse:
    thread, side = messages.access_thread(thread_id=thread_id, user=user_of(request))
    shown = [messages.message_view(m, thread=thread) for m in thread.messages.all()]
    context = {
        "thread": thread,
        "side": side,
        "messages_shown": shown,
        "form": form or MessageForm(),
        "sandbox": thread.assignment.batch.is_sandbox,  # the banner (issue 24.6)
    }
    return render(request, "frontend/messages/thread.html", context, status=status)


@app_page
def thread_page(request: HttpRequest, thread_id: int) -> HttpResponse:
    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.is_valid():
            try:
                messages.message_reply(thread_id=thread_id, author=user_of(request), body=form.cleaned_data["body"])
            except AppError as error:
                add_app_error(form, error)
            else:
                return redirect("task_thread", thread_id=thread_id)
        return _render_thread(request, thread_id, form, status=400)
    return _render_thread(request, thread_id)


@require_POST
@app_page
def thread_share(request: HttpRequest, thread_id: int) -> HttpResponse:
    share = request.POST.get("share") == "1"
    messages.thread_share_with_case(thread_id=thread_id, user=user_of(request), share=share)
    return redirect("task_thread", thread_id=thread_id)


@require_POST
@app_page
def assignment_message(request: HttpRequest, assignment_id: int) -> HttpResponse:
    form = MessageForm(request.POST)
    if form.is_valid():
        message = messages.message_to_requester(
            worker=user_of(request), assignment_id=assignment_id, body=form.cleaned_data["body"]
        )
        return redirect("task_thread", thread_id=message.thread_id)
    flash.error(request, _("Write a message first."))
    return redirect("worker_assignment", assignment_id=assignment_id)
