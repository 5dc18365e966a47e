"""The staff console at ``/staff/``: the verification queue, organisations, people and
suspensions, the audit log. Every read and action goes through a selector or service that
checks the staff role it needs; the pages only show what those return. The list of role
holders and the published reasons are public (``/coop/staff/``)."""

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import verification
from accounts.reasons import SUSPENSION_REASONS, VERIFICATION_REFUSAL_REASONS
from core.errors import AppError, NotFound
from disputes import services as dispute_services
from frontend.forms import AskInformationForm, RefuseVerificationForm, StaffReasonForm, SuspendForm
from frontend.pages import app_page, flash_error, form_errors_text, user_of
from staff import selectors
from staff.downloads import document_response


@app_page
def console(request: HttpRequest) -> HttpResponse:
    roles = account_selectors.require_any_staff_role(user=user_of(request))
    return render(request, "frontend/staff/console.html", {"staff_roles": sorted(roles)})


@app_page
def verification_queue(request: HttpRequest) -> HttpResponse:
    queue = account_selectors.verification_queue(user=user_of(request)).select_related("organisation")
    return render(request, "frontend/staff/verifications.html", {"queue": queue[:200]})


@app_page
def verification_detail(request: HttpRequest, verification_id: int) -> HttpResponse:
    found = account_selectors.verification_for_verifier(user=user_of(request), verification_id=verification_id)
    return render(
        request,
        "frontend/staff/verification.html",
        {
            "verification": found,
            "documents": found.documents.all(),
            "history": account_selectors.organisation_name_history(organisation=found.organisation),
            "approve_form": StaffReasonForm(prefix="approve"),
            "refuse_form": RefuseVerificationForm(prefix="refuse", reasons=VERIFICATION_REFUSAL_REASONS),
            "ask_form": AskInformationForm(prefix="ask"),
        },
    )


@require_POST
@app_page
def verification_decide(request: HttpRequest, verification_id: int, action: str) -> HttpResponse:
    """``approve`` (with a reason), ``refuse`` (a published reason and an explanation) or
    ``ask`` (what is missing). A form without its reason goes back with the message."""
    user = user_of(request)
    found = account_selectors.verification_for_verifier(user=user, verification_id=verification_id)
    form: forms.Form
    if action == "approve":
        form = StaffReasonForm(request.POST, prefix="approve")
    elif action == "refuse":
        form = RefuseVerificationForm(request.POST, prefix="refuse", reasons=VERIFICATION_REFUSAL_REASONS)
    elif action == "ask":
        form = AskInformationForm(request.POST, prefix="ask")
    else:
        raise NotFound("action")
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("staff_verification", verification_id=found.pk)
    data = form.cleaned_data
    try:
        if action == "approve":
            verification.verification_approve(verification=found, actor=user, reason=data["reason"])
            messages.success(
                request, _("%(display_name)s is verified.") % {"display_name": found.organisation.display_name}
            )
        elif action == "refuse":
            verification.verification_refuse(verification=found, actor=user, code=data["code"], text=data["text"])
            messages.success(
                request,
                _("The request of %(display_name)s is refused.") % {"display_name": found.organisation.display_name},
            )
        else:
            verification.verification_request_information(verification=found, actor=user, text=data["text"])
            messages.success(
                request,
                _("%(display_name)s is asked for more information.")
                % {"display_name": found.organisation.display_name},
            )
    except AppError as error:
        if error.status_code in (403, 404):
            raise
        flash_error(request, error)
        return redirect("staff_verification", verification_id=found.pk)
    return redirect("staff_verifications")


@app_page
def verification_document(request: HttpRequest, verification_id: int, document_id: int) -> FileResponse:
    document = verification.verification_document_for_verifier(user=user_of(request), document_id=document_id)
    if document.verification_id != verification_id:
        raise NotFound("document")
    return document_response(document)


@app_page
def organisations(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    found = selectors.organisations_for_staff(user=user_of(request), query=query)
    rows = [{"organisation": o, "state": selectors.organisation_state(o)} for o in found]
    return render(request, "frontend/staff/organisations.html", {"rows": rows, "query": query})


@app_page
def people(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    query = request.GET.get("q", "")
    rows = selectors.people_for_staff(user=user, query=query)
    is_moderator = account_selectors.user_has_staff_role(user=user, role="moderator")
    return render(
        request,
        "frontend/staff/people.html",
        {
            "rows": rows,
            "query": query,
            "is_moderator": is_moderator,
            "suspend_form": SuspendForm(prefix="suspend", reasons=SUSPENSION_REASONS),
            "lift_form": StaffReasonForm(prefix="lift"),
        },
    )


@require_POST
@app_page
def person_action(request: HttpRequest, person_id: int, action: str) -> HttpResponse:
    """``suspend`` (a published reason and what happened) or ``lift`` (a reason); moderators."""
    user = user_of(request)
    person = selectors.person_for_staff(user=user, person_id=person_id)
    form: forms.Form
    if action == "suspend":
        form = SuspendForm(request.POST, prefix="suspend", reasons=SUSPENSION_REASONS)
    elif action == "lift":
        form = StaffReasonForm(request.POST, prefix="lift")
    else:
        raise NotFound("action")
    account_selectors.require_staff_role(user=user, role="moderator", doing=f"{action} accounts")
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("staff_people")
    try:
        if action == "suspend":
            dispute_services.user_suspend(
                user=person, actor=user, code=form.cleaned_data["code"], reason=form.cleaned_data["reason"]
            )
            messages.success(
                request,
                _("%(username)s is suspended; their appeal is open in the queue.") % {"username": person.username},
            )
        else:
            dispute_services.user_suspension_lift(user=person, actor=user, reason=form.cleaned_data["reason"])
            messages.success(request, _("%(username)s's suspension is lifted.") % {"username": person.username})
    except AppError as error:
        if error.status_code in (403, 404):
            raise
        flash_error(request, error)
    return redirect("staff_people")


@app_page
def audit(request: HttpRequest) -> HttpResponse:
    filters = {name: request.GET.get(name, "") for name in ("action", "actor", "target_type", "target_id")}
    error = None
    try:
        rows = selectors.audit_search(user=user_of(request), **filters)
    except AppError as refusal:
        if refusal.status_code in (403, 404):
            raise
        rows, error = [], refusal.message
    return render(request, "frontend/staff/audit.html", {"rows": rows, "filters": filters, "error": error})


def staff_public(request: HttpRequest) -> HttpResponse:
    """Who holds which staff role since when (and who held one), and the reasons staff may give."""
    return render(
        request,
        "frontend/staff/public.html",
        {
            "appointments": selectors.role_holders_public(),
            "refusal_reasons": VERIFICATION_REFUSAL_REASONS,
            "suspension_reasons": SUSPENSION_REASONS,
        },
    )
