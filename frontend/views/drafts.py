"""The requester's drafts and library (issue 24 points 3 and 7): edit a batch (a draft in
full, a published one only where workers are not relying on it), delete a draft, run a
batch again, the template library (own templates and the co-op's starters) and the
organisation's defaults for purpose, data use and location reason."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.models import Organisation
from core.errors import AppError, NotFound
from frontend.batch_forms import (
    BatchEditForm,
    CloneForm,
    OrganisationDefaultsForm,
    TaskTemplateForm,
    batch_form_initial,
)
from frontend.pages import add_app_error, app_page, flash_error, user_of
from frontend.views.requester import _batch, _file_format, _organisation
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import Batch, TaskTemplate
from tasks.starter_templates import STARTER_TEMPLATES


@app_page
def batch_edit(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    """Every field of a draft, its template and (optionally, in the same step) its input rows;
    for a published batch the same form, where only the keywords may change."""
    batch = _batch(request, slug, batch_id, "tasks.change_batch")
    form = BatchEditForm(
        request.POST or None,
        request.FILES or None,
        initial=batch_form_initial(batch),
        organisation=batch.organisation,
        batch=batch,
    )
    form.fields["reward"].required = True
    if request.method == "POST" and form.is_valid():
        # A draft takes every field as the form shows it; a published batch only what the
        # person changed, so that anything workers rely on is refused by name.
        values = form.batch_values() if batch.status == Batch.Status.DRAFT else form.changed_values()
        upload = form.cleaned_data.get("input_file")
        content = upload.read().decode("utf-8-sig", errors="replace") if upload else None
        try:
            task_services.batch_update(
                batch=batch,
                actor=user_of(request),
                changes=values,
                input_content=content,
                input_format=_file_format(upload.name or "") if upload else "csv",
            )
        except AppError as error:
            add_app_error(form, error)
            if error.code == "batch_not_draft" and error.fields:
                form.add_error(None, error.message)  # which terms, and what to do instead
        else:
            messages.success(request, _("Saved."))
            return redirect("org_batch", slug=slug, batch_id=batch.pk)
    return render(
        request,
        "frontend/requester/batch_edit.html",
        {"organisation": batch.organisation, "batch": batch, "form": form},
    )


@require_POST
@app_page
def batch_delete(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = _batch(request, slug, batch_id, "tasks.change_batch")
    title = batch.title
    try:
        task_services.batch_delete(batch=batch, actor=user_of(request))
    except AppError as error:
        flash_error(request, error)
        return redirect("org_batch", slug=slug, batch_id=batch.pk)
    messages.success(request, _("Draft “%(title)s” deleted.") % {"title": title})
    return redirect("org_dashboard", slug=slug)


@require_POST
@app_page
def batch_clone(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    """Run again: a new draft with the same fields, for new input rows."""
    batch = _batch(request, slug, batch_id, "tasks.change_batch")
    form = CloneForm(request.POST)
    copy_rows = form.is_valid() and form.cleaned_data["copy_rows"]
    try:
        clone = task_services.batch_clone(
            batch=batch, actor=user_of(request), copy_rows=copy_rows, sandbox=form.sandbox()
        )
    except AppError as error:
        flash_error(request, error)
        return redirect("org_batch", slug=slug, batch_id=batch.pk)
    messages.success(
        request,
        _("A new draft with the same settings. Upload its input rows, check it, then publish.")
        if not copy_rows
        else _("A new draft with the same settings and input rows. Check it, then publish."),
    )
    return redirect("org_batch", slug=slug, batch_id=clone.pk)


@app_page
def template_library(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisation's own templates and the co-op's starter templates; save a new one."""
    organisation = _organisation(request, slug, "publish")
    form = TaskTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            task_services.task_template_save(organisation=organisation, actor=user_of(request), **form.cleaned_data)
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Template saved to your library."))
            return redirect("org_templates", slug=slug)
    return render(
        request,
        "frontend/requester/templates.html",
        {
            "organisation": organisation,
            "form": form,
            "own": task_selectors.task_templates_for_organisation(organisation=organisation),
            "starters": STARTER_TEMPLATES,
        },
    )


def _own_template(organisation: Organisation, template_id: int) -> TaskTemplate:
    template = task_selectors.task_templates_for_organisation(organisation=organisation).filter(pk=template_id).first()
    if template is None:
        raise NotFound("template")
    return template


@app_page
def template_edit(request: HttpRequest, slug: str, template_id: int) -> HttpResponse:
    """One of the organisation's own templates, every field editable."""
    organisation = _organisation(request, slug, "publish")
    template = _own_template(organisation, template_id)
    initial = {name: getattr(template, name) for name in task_services.TEMPLATE_FIELDS}
    form = TaskTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            task_services.task_template_update(template=template, actor=user_of(request), changes=form.cleaned_data)
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("org_templates", slug=slug)
    return render(
        request,
        "frontend/requester/template_edit.html",
        {"organisation": organisation, "template": template, "form": form},
    )


@require_POST
@app_page
def template_delete(request: HttpRequest, slug: str, template_id: int) -> HttpResponse:
    organisation = _organisation(request, slug, "publish")
    template = _own_template(organisation, template_id)
    task_services.task_template_delete(template=template, actor=user_of(request))
    messages.success(request, _("Template removed from your library."))
    return redirect("org_templates", slug=slug)


@app_page
def organisation_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Defaults used where a batch states no purpose, data use or location reason."""
    organisation = _organisation(request, slug, "publish" if request.method == "POST" else None)
    initial = {name: getattr(organisation, name) for name in OrganisationDefaultsForm.base_fields}
    form = OrganisationDefaultsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.organisation_defaults_set(
                organisation=organisation, actor=user_of(request), changes=form.cleaned_data
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Defaults saved."))
            return redirect("org_settings", slug=slug)
    return render(request, "frontend/requester/settings.html", {"organisation": organisation, "form": form})
