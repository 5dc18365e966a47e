"""The requester's offline review (issue 24 point 4): the submissions awaiting review as a
CSV to mark in a spreadsheet, the edited file applied all or nothing with every bad row
listed, bonuses from a CSV, and a sortable table of the submissions with their work time.
Every change goes through ``tasks.services`` (``review_file_apply``, ``bonus_file_apply``)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import AppError
from core.money import format_amount
from frontend.forms import PageForm
from frontend.pages import app_page, user_of
from frontend.views.requester import _batch
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.api.review_files import MAX_FILE_BYTES, review_file_response
from tasks.models import Assignment
from tasks.states import REJECTION_REASONS, REVIEWABLE_ASSIGNMENT

TABLE_PAGE = 100


class ReviewFileForm(PageForm):
    review_file = forms.FileField(
        label=gettext_lazy("Edited review file (CSV)"),
        help_text=gettext_lazy("The file you downloaded, with Approve or Reject filled in."),
    )


class BonusFileForm(PageForm):
    bonus_file = forms.FileField(
        label=gettext_lazy("Bonus file (CSV)"),
        help_text=gettext_lazy(
            "Columns AssignmentId, BonusAmount and Reason; WorkerId and UniqueRequestToken optional."
        ),
    )


def _text(upload: Any) -> str:
    if upload.size > MAX_FILE_BYTES:
        raise AppError("invalid_file", _("The file is larger than 10 MB; split it into smaller files."))
    try:
        return str(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise AppError("invalid_file", _("The file is not UTF-8 text; save it as UTF-8 CSV.")) from None


@app_page
def review_file_download(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = _batch(request, slug, batch_id, "tasks.review_batch")
    columns, rows = task_selectors.batch_review_file(batch=batch)
    return review_file_response(batch.pk, columns, rows)


@app_page
def review_file_page(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    """GET: how the loop works and the two upload forms; POST: one of the files applied.
    A refused file lists its bad rows here and nothing is applied."""
    batch = _batch(request, slug, batch_id, "tasks.review_batch")
    review_form = ReviewFileForm()
    bonus_form = BonusFileForm()
    problems: list[dict[str, Any]] = []
    problem_count = 0
    if request.method == "POST":
        kind = request.POST.get("kind")
        form: forms.Form = (ReviewFileForm if kind == "review" else BonusFileForm)(request.POST, request.FILES)
        if kind == "review":
            review_form = form  # type: ignore[assignment]
        else:
            bonus_form = form  # type: ignore[assignment]
        if form.is_valid():
            try:
                if kind == "review":
                    result = task_services.review_file_apply(
                        actor=user_of(request),
                        organisation=batch.organisation,
                        batch=batch,
                        content=_text(form.cleaned_data["review_file"]),
                    )
                    messages.success(
                        request,
                        _("File applied: %(approved)d approved and paid, %(rejected)d rejected, %(undecided)d left "
                          "undecided.")
                        % {"approved": result.approved, "rejected": result.rejected, "undecided": result.undecided},
                    )  # fmt: skip
                else:
                    bonuses = task_services.bonus_file_apply(
                        actor=user_of(request),
                        organisation=batch.organisation,
                        batch=batch,
                        content=_text(form.cleaned_data["bonus_file"]),
                    )
                    messages.success(
                        request,
                        _("Bonuses paid: %(paid)d (%(amount)s); %(already)d already paid before, not paid again.")
                        % {
                            "paid": bonuses.paid,
                            "amount": format_amount(bonuses.amount, batch.currency),
                            "already": bonuses.already_paid,
                        },
                    )
                return redirect("org_review_file", slug=slug, batch_id=batch.pk)
            except AppError as error:
                form.add_error(None, error.message)
                problems = list(error.details.get("errors", []))
                problem_count = int(error.details.get("error_count", len(problems)))
    return render(
        request,
        "frontend/requester/review_file.html",
        {
            "organisation": batch.organisation,
            "batch": batch,
            "review_form": review_form,
            "bonus_form": bonus_form,
            "problems": problems,
            "problem_count": problem_count,
            "awaiting": task_selectors.submissions_count(batch=batch, status=Assignment.Status.SUBMITTED),
            "reasons": REJECTION_REASONS,
        },
    )


def _seconds(value: str) -> int | None:
    """A minutes filter typed on the page, in seconds; anything not a number is no filter."""
    try:
        minutes = float(value.replace(",", "."))
    except ValueError:
        return None
    return max(0, int(minutes * 60))


def _work_time(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return _("%(minutes)d min %(seconds)02d s") % {"minutes": seconds // 60, "seconds": seconds % 60}


@app_page
def submissions_table(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    """Every escrow-backed submission of the batch as a table: worker, submitted, work time,
    status; filtered by status, worker and work time, sorted by any of those columns."""
    batch = _batch(request, slug, batch_id, "tasks.review_batch")
    status = request.GET.get("status", "")
    if status not in REVIEWABLE_ASSIGNMENT:
        status = ""
    ordering = request.GET.get("sort", "id")
    if ordering not in task_selectors.SUBMISSION_TABLE_ORDERINGS:
        ordering = "id"
    worker = request.GET.get("worker", "").strip()[:64]
    min_minutes, max_minutes = request.GET.get("min_minutes", ""), request.GET.get("max_minutes", "")
    page = max(1, int(request.GET["page"])) if request.GET.get("page", "").isdigit() else 1
    rows, total = task_selectors.submissions_table(
        batch=batch,
        status=status or None,
        worker=worker,
        min_work_seconds=_seconds(min_minutes) if min_minutes else None,
        max_work_seconds=_seconds(max_minutes) if max_minutes else None,
        ordering=ordering,
        offset=(page - 1) * TABLE_PAGE,
        limit=TABLE_PAGE,
    )
    query = request.GET.copy()
    query.pop("sort", None)
    query.pop("page", None)
    columns = [
        ("id", _("Submission")),
        ("worker", _("Worker")),
        ("submitted", _("Submitted")),
        ("work_time", _("Work time")),
        ("status", _("Status")),
    ]
    headers = [
        {
            "label": label,
            "sort": f"-{key}" if ordering == key else key,
            "current": "ascending" if ordering == key else "descending" if ordering == f"-{key}" else "",
        }
        for key, label in columns
    ]
    return render(
        request,
        "frontend/requester/review_table.html",
        {
            "organisation": batch.organisation,
            "batch": batch,
            "rows": [
                {"assignment": a, "work_time": _work_time(task_selectors.submission_work_seconds(a))} for a in rows
            ],
            "total": total,
            "headers": headers,
            "query": query.urlencode(),
            "ordering": ordering,
            "filters": {"status": status, "worker": worker, "min_minutes": min_minutes, "max_minutes": max_minutes},
            "statuses": [(value, Assignment.Status(value).label) for value in sorted(REVIEWABLE_ASSIGNMENT)],
            "page": page,
            "pages": max(1, -(-total // TABLE_PAGE)),
        },
    )
