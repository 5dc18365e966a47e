"""The co-op's data promises on the pages (issue 28): the requester files the end-of-batch
data report; the worker opts out of reuse of their answers. Reads go through
``tasks.selectors``, writes through ``tasks.services``, which check who may."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.errors import AppError
from frontend.forms import PageForm
from frontend.pages import add_app_error, app_page, flash_error, user_of
from frontend.views.requester import _batch
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import BatchDataReport


class DataReportForm(PageForm):
    used_for = forms.CharField(label=_("What was the data used for?"), widget=forms.Textarea, max_length=4000)
    matched = forms.ChoiceField(
        label=_("Did that match the purpose and data use the workers were told?"),
        choices=[
            (BatchDataReport.Matched.YES, _("Yes")),
            (BatchDataReport.Matched.PARTLY, _("Partly")),
            (BatchDataReport.Matched.NO, _("No")),
        ],
        widget=forms.RadioSelect,
    )
    matched_explanation = forms.CharField(
        label=_("If not fully, how did it differ?"), widget=forms.Textarea, required=False, max_length=4000
    )
    published_where = forms.CharField(
        label=_("Where was it published (if anywhere)?"), widget=forms.Textarea, required=False, max_length=4000
    )


@app_page
def data_report(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = _batch(request, slug, batch_id)
    form = DataReportForm(request.POST or None)
    if request.method == "POST":
        batch = _batch(request, slug, batch_id, "tasks.change_batch")
        if form.is_valid():
            try:
                task_services.batch_data_report_file(batch=batch, actor=user_of(request), **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error)
            else:
                messages.success(request, gettext("Report filed: the workers who worked on the batch can read it."))
                return redirect("org_data_report", slug=slug, batch_id=batch.pk)
    return render(
        request,
        "frontend/requester/data_report.html",
        {
            "organisation": batch.organisation,
            "batch": batch,
            "form": form,
            "report": BatchDataReport.objects.filter(batch=batch).first(),
            "due_at": task_selectors.data_report_due_at(batch),
        },
    )


@require_POST
@app_page
def reuse_opt_out(request: HttpRequest, assignment_id: int) -> HttpResponse:
    worker = user_of(request)
    assignment = task_selectors.access_assignment_for_worker(worker=worker, assignment_id=assignment_id)
    try:
        task_services.assignment_reuse_opt_out(worker=worker, assignment=assignment)
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(request, gettext("Done: your answers on this task may not be reused beyond its purpose."))
    return redirect("worker_assignments")
