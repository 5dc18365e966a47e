"""The requester's pages: organisation, keys, funding, batches, review and exports."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Organisation
from core.errors import AppError, NotFound
from core.security import DEFAULT_POLICY
from frontend import jobs
from frontend.batch_forms import BatchEditForm, new_batch_initial
from frontend.forms import (
    ApiKeyForm,
    BonusForm,
    DepositForm,
    FeedbackForm,
    InputUploadForm,
    OrganisationForm,
    OrganisationLanguageForm,
    RejectForm,
    RenameForm,
)
from frontend.operations import operation_start
from frontend.pages import add_app_error, app_page, flash_error, form_errors_text, user_of
from frontend.templatetags.frontend import money
from frontend.views.quality import batch_quality_summary
from frontend.views.team import verification_state_text
from governance.selectors import rule_value
from ledger import escrow
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments import stripe_gateway
from tasks import inputs, play
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import Assignment, Batch
from tasks.states import REJECTION_REASONS

REVIEW_PAGE = 100
CARD_PAGE_POLICY = DEFAULT_POLICY.replace("script-src 'self'", "script-src 'self' https://js.stripe.com").replace(
    "connect-src 'self'", "connect-src 'self' https://api.stripe.com"
)


def _organisation(request: HttpRequest, slug: str, capability: str | None = None) -> Organisation:
    """The organisation if the user is on its team and, with ``capability``, their role
    carries it (``permission_denied`` saying which role does)."""
    organisation = account_selectors.access_organisation(user=user_of(request), slug=slug)
    if capability is not None:
        account_selectors.require_organisation_capability(
            user=user_of(request), organisation=organisation, capability=capability
        )
    return organisation


def _batch(request: HttpRequest, slug: str, batch_id: int, permission: str = "tasks.view_batch") -> Batch:
    """A batch of this organisation that the user may act on; any other is ``NotFound``.
    Changing it needs the publish capability, reviewing it the review one."""
    batch = task_selectors.access_batch(user=user_of(request), batch_id=batch_id, permission=permission)
    if batch.organisation.slug != slug:
        raise NotFound("batch")
    capability = task_selectors.BATCH_PERMISSION_CAPABILITY.get(permission)
    if capability is not None:
        account_selectors.require_organisation_capability(
            user=user_of(request), organisation=batch.organisation, capability=capability
        )
    return batch


@app_page
def organisation_new(request: HttpRequest) -> HttpResponse:
    """A requester registers its organisation; it can publish once the co-op has verified it."""
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = account_services.organisation_create(owner=user_of(request), **form.cleaned_data)
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(
                request, _("Organisation created. The co-op verifies its legal identity before it publishes.")
            )
            return redirect("org_dashboard", slug=organisation.slug)
    return render(request, "frontend/requester/new.html", {"form": form})


@app_page
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug)
    return render(
        request,
        "frontend/requester/dashboard.html",
        {
            "organisation": organisation,
            "balance": payment_selectors.organisation_balance(organisation=organisation),
            "batches": task_selectors.batches_for_organisation(organisation=organisation)[:100],
            "deposits": payment_selectors.deposits_for_organisation(organisation=organisation)[:10],
            "verification_state": verification_state_text(
                account_selectors.organisation_verification_latest(organisation=organisation), organisation
            ),
        },
    )


@app_page
def organisation_profile(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, "manage" if request.method == "POST" else None)
    choosing_language = request.method == "POST" and "language" in request.POST
    language_form = OrganisationLanguageForm(
        request.POST if choosing_language else None, initial={"language": organisation.language}
    )
    if choosing_language and language_form.is_valid():
        try:
            account_services.organisation_language_set(
                organisation=organisation, language=language_form.cleaned_data["language"], actor=user_of(request)
            )
        except AppError as error:
            add_app_error(language_form, error)
        else:
            messages.success(request, _("Saved. Your keys are answered in this language from now on."))
            return redirect("org_profile", slug=slug)
    form = RenameForm(
        request.POST if request.method == "POST" and not choosing_language else None,
        initial={"display_name": organisation.display_name},
    )
    if request.method == "POST" and not choosing_language and form.is_valid():
        try:
            account_services.organisation_rename(
                organisation=organisation, new_name=form.cleaned_data["display_name"], actor=user_of(request)
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Renamed. The earlier name stays in your public history."))
            return redirect("org_profile", slug=slug)
    return render(
        request,
        "frontend/requester/profile.html",
        {
            "organisation": organisation,
            "form": form,
            "language_form": language_form,
            "history": account_selectors.organisation_name_history(organisation=organisation),
        },
    )


@app_page
def api_keys(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, "manage")
    form = ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = account_services.api_key_create(
                organisation=organisation,
                created_by=user_of(request),
                label=form.cleaned_data["label"],
                scopes=form.cleaned_data["scopes"],
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            form = ApiKeyForm()
    return render(
        request,
        "frontend/requester/keys.html",
        {
            "organisation": organisation,
            "form": form,
            # The secret is shown on this one response and never again.
            "created": created,
            "keys": account_selectors.api_keys_for_organisation(organisation=organisation),
        },
    )


@require_POST
@app_page
def api_key_revoke(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    organisation = _organisation(request, slug, "manage")
    key = account_selectors.api_keys_for_organisation(organisation=organisation).filter(pk=key_id).first()
    if key is None:
        raise NotFound("key")
    account_services.api_key_revoke(key=key, actor=user_of(request))
    messages.success(
        request,
        _("Key %(access_key_id)s revoked; requests signed with it now fail.") % {"access_key_id": key.access_key_id},
    )
    return redirect("org_keys", slug=slug)


@app_page
def funds(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, "funds")
    card_available = stripe_gateway.configured() and bool(settings.STRIPE_PUBLISHABLE_KEY)
    form = DepositForm(request.POST or None, card_available=card_available)
    if request.method == "POST" and form.is_valid():
        actor, amount = user_of(request), form.cleaned_data["amount"]
        try:
            if form.cleaned_data["method"] == "card":
                deposit = payment_services.deposit_stripe_start(organisation=organisation, actor=actor, amount=amount)
            else:
                deposit = payment_services.deposit_bank_start(organisation=organisation, actor=actor, amount=amount)
        except AppError as error:
            add_app_error(form, error)
        else:
            return redirect("org_deposit", slug=slug, deposit_id=deposit.pk)
    return render(
        request,
        "frontend/requester/funds.html",
        {
            "organisation": organisation,
            "form": form,
            "balance": payment_selectors.organisation_balance(organisation=organisation),
            "deposits": payment_selectors.deposits_for_organisation(organisation=organisation)[:50],
        },
    )


@app_page
def deposit_page(request: HttpRequest, slug: str, deposit_id: int) -> HttpResponse:
    organisation = _organisation(request, slug, "funds")
    deposit = payment_selectors.access_deposit(organisation=organisation, deposit_id=deposit_id)
    response = render(
        request,
        "frontend/requester/deposit.html",
        {
            "organisation": organisation,
            "deposit": deposit,
            "bank": {"name": settings.COOP_BANK_NAME, "iban": settings.COOP_BANK_IBAN, "bic": settings.COOP_BANK_BIC},
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        },
    )
    if deposit.method == deposit.Method.STRIPE:
        # Stripe's card form runs Stripe's own script from js.stripe.com (card data never
        # touches our servers); this one page allows it, every other keeps the strict policy.
        response["Content-Security-Policy"] = CARD_PAGE_POLICY
    return response


def _preview(template_html: str, content: str, file_format: str) -> dict[str, Any]:
    """The template filled with the first input row, for the sandboxed preview frame."""
    placeholders = inputs.template_placeholders(template_html)
    row: dict[str, str] = {}
    problem = ""
    if content.strip():
        try:
            row = inputs.parse_input_rows(content=content, file_format=file_format, placeholders=placeholders)[0]
        except AppError as error:
            problem = error.message
    elif placeholders:
        problem = _("Upload input rows to fill %(placeholders)s.") % {
            "placeholders": ", ".join("${" + p + "}" for p in placeholders)
        }
    return {
        "html": inputs.template_render(template_html, row),
        "placeholders": placeholders,
        "fields": inputs.template_answer_fields(template_html),
        "row": row,
        "problem": problem,
    }


def _file_format(name: str) -> str:
    return "json" if name.lower().endswith(".json") else "csv"


@require_POST
@app_page
def batch_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """htmx: re-renders the live preview whenever the template or the input file changes."""
    _organisation(request, slug, "publish")
    upload = request.FILES.get("input_file")
    content = upload.read().decode("utf-8-sig", errors="replace") if upload else ""
    preview = _preview(
        request.POST.get("template_html", ""), content, _file_format((upload.name or "") if upload else "")
    )
    return render(request, "frontend/requester/_preview.html", {"preview": preview})


@app_page
def batch_new(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, "publish")
    # A template task or an external survey; prefilled from the organisation's defaults
    # and, with ?template=, from its library (issue 24).
    form = BatchEditForm(
        request.POST or None,
        request.FILES or None,
        initial=new_batch_initial(request, organisation),
        organisation=organisation,
    )
    preview = None
    # A sandbox batch (issue 24.6): play money, tested by the organisation's own people.
    sandbox = (request.POST if request.method == "POST" else request.GET).get("sandbox") == "1"
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("input_file")
        content = upload.read().decode("utf-8-sig", errors="replace") if upload else ""
        preview = _preview(form.cleaned_data["template_html"], content, _file_format(upload.name if upload else ""))
        try:
            batch = task_services.batch_create(
                organisation=organisation, actor=user_of(request), sandbox=sandbox, **form.batch_values()
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            if not content:
                messages.success(request, _("Draft saved. Upload its input rows, then publish."))
                return redirect("org_batch", slug=slug, batch_id=batch.pk)
            operation_id = operation_start(
                owner=user_of(request),
                label=_("Input rows for %(title)s") % {"title": batch.title},
                job=jobs.batch_input_upload,
                result_url=reverse("org_batch", args=[slug, batch.pk]),
                user_id=user_of(request).pk,
                batch_id=batch.pk,
                content=content,
                file_format=_file_format(upload.name if upload else ""),
            )
            return redirect("operation", operation_id=operation_id)
    return render(
        request,
        "frontend/requester/batch_new.html",
        {
            "organisation": organisation,
            "form": form,
            "preview": preview,
            "minimum_wage": rule_value("minimum_hourly_wage"),
            "sandbox": sandbox,
        },
    )


def _escrow_figures(batch: Batch) -> dict[str, int]:
    """What publishing will reserve: reward plus the fee in force, per slot (ledger's fee rule)."""
    tasks = batch.tasks.count() or (0 if batch.placeholders else 1)
    slots = tasks * batch.assignments_per_task
    fee = batch.fee_per_assignment if batch.status != Batch.Status.DRAFT else escrow.platform_fee(batch.reward)
    return {"tasks": tasks, "slots": slots, "fee": fee, "rewards": slots * batch.reward, "fees": slots * fee,
            "total": slots * (batch.reward + fee)}  # fmt: skip


@app_page
def batch_page(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = _batch(request, slug, batch_id)
    counts = task_selectors.batch_status_counts(batch=batch)
    total = sum(counts.values())
    done = sum(counts.get(s, 0) for s in ("approved", "settled", "refunded", "withdrawn"))
    context = {
        "organisation": batch.organisation,
        "batch": batch,
        "counts": sorted(counts.items()),
        "total": total,
        "done": done,
        "awaiting_review": counts.get("submitted", 0),
        "escrow": _escrow_figures(batch),
        "balance": payment_selectors.organisation_balance(organisation=batch.organisation),
        "upload_form": InputUploadForm(),
    }
    if batch.is_sandbox:
        context["play"] = play.play_balance(organisation=batch.organisation)
    return render(request, "frontend/requester/batch.html", context)


@require_POST
@app_page
def batch_input(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = _batch(request, slug, batch_id, "tasks.change_batch")
    form = InputUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV or JSON file with the input rows."))
        return redirect("org_batch", slug=slug, batch_id=batch.pk)
    upload = form.cleaned_data["input_file"]
    operation_id = operation_start(
        owner=user_of(request),
        label=_("Input rows for %(title)s") % {"title": batch.title},
        job=jobs.batch_input_upload,
        result_url=reverse("org_batch", args=[slug, batch.pk]),
        user_id=user_of(request).pk,
        batch_id=batch.pk,
        content=upload.read().decode("utf-8-sig", errors="replace"),
        file_format=_file_format(upload.name or ""),
    )
    return redirect("operation", operation_id=operation_id)


@require_POST
@app_page
def batch_action(request: HttpRequest, slug: str, batch_id: int, action: str) -> HttpResponse:
    batch = _batch(request, slug, batch_id, "tasks.change_batch")
    actor = user_of(request)
    done = {
        "publish": (task_services.batch_publish, _("Published: every slot's pay is now held in escrow.")),
        "pause": (task_services.batch_pause, _("Paused: no new workers until you resume.")),
        "resume": (task_services.batch_resume, _("Resumed.")),
        "cancel": (task_services.batch_cancel, _("Cancelled: unclaimed slots' escrow is back in your balance.")),
    }
    if action not in done:
        raise NotFound("action")
    service, message = done[action]
    if action == "publish" and batch.is_sandbox:
        message = _("Published in the sandbox with play money: your organisation's own people can work it now.")
    try:
        service(batch=batch, actor=actor)
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(request, message)
    return redirect("org_batch", slug=slug, batch_id=batch.pk)


def _review_rows(batch: Batch, status: str | None, offset: int) -> list[dict[str, Any]]:
    return [
        {"assignment": a, "reject_form": RejectForm(prefix=f"r{a.pk}"), "bonus_form": BonusForm(prefix=f"b{a.pk}")}
        for a in task_selectors.submissions_for_requester(batch=batch, status=status, offset=offset, limit=REVIEW_PAGE)
    ]


@app_page
def review(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = _batch(request, slug, batch_id, "tasks.review_batch")
    # "awaiting" shows only work still to decide (the default); "all" every reviewable one.
    show = request.GET.get("show", "awaiting")
    status = None if show == "all" else Assignment.Status.SUBMITTED
    page = max(1, int(request.GET["page"])) if request.GET.get("page", "").isdigit() else 1
    total = task_selectors.submissions_count(batch=batch, status=status)
    return render(
        request,
        "frontend/requester/review.html",
        {
            "organisation": batch.organisation,
            "batch": batch,
            "rows": _review_rows(batch, status, (page - 1) * REVIEW_PAGE),
            "show": show,
            "page": page,
            "pages": max(1, -(-total // REVIEW_PAGE)),
            "feedback_form": FeedbackForm(),
            "reasons": REJECTION_REASONS,
            "awaiting": task_selectors.submissions_count(batch=batch, status=Assignment.Status.SUBMITTED),
            "quality": batch_quality_summary(batch),
        },
    )


def _review_row(
    request: HttpRequest, batch: Batch, assignment_id: int, error: str = "", notice: str = "", **forms_: Any
) -> HttpResponse:
    assignment = task_selectors.submission_for_requester(batch=batch, assignment_id=assignment_id)
    row = {
        "assignment": assignment,
        "reject_form": forms_.get("reject_form") or RejectForm(prefix=f"r{assignment.pk}"),
        "bonus_form": forms_.get("bonus_form") or BonusForm(prefix=f"b{assignment.pk}"),
    }
    return render(
        request, "frontend/requester/_review_row.html", {"row": row, "batch": batch, "error": error, "notice": notice}
    )


def _after_review(request: HttpRequest, batch: Batch, assignment_id: int, **forms_: Any) -> HttpResponse:
    """htmx gets the one row back; a plain form post goes back to the queue."""
    if request.htmx:  # type: ignore[attr-defined]
        return _review_row(request, batch, assignment_id, **forms_)
    if forms_.get("notice"):
        messages.success(request, forms_["notice"])
    return redirect("org_review", slug=batch.organisation.slug, batch_id=batch.pk)


@require_POST
@app_page
def review_decide(request: HttpRequest, slug: str, batch_id: int, assignment_id: int, decision: str) -> HttpResponse:
    batch = _batch(request, slug, batch_id, "tasks.review_batch")
    assignment = task_selectors.submission_for_requester(batch=batch, assignment_id=assignment_id)
    actor = user_of(request)
    extra: dict[str, Any] = {}
    try:
        if decision == "approve":
            task_services.assignment_approve(
                actor=actor, assignment=assignment, feedback=request.POST.get("feedback", "")
            )
        elif decision == "reject":
            form = RejectForm(request.POST, prefix=f"r{assignment.pk}")
            extra["reject_form"] = form
            if form.is_valid():
                task_services.assignment_reject(actor=actor, assignment=assignment, **form.cleaned_data)
                extra.pop("reject_form")
        elif decision == "withdraw-rejection":
            task_services.assignment_rejection_withdraw(actor=actor, assignment=assignment)
            extra["notice"] = _("Rejection withdrawn; the work is paid in full.")
        elif decision == "bonus":
            bonus_form = BonusForm(request.POST, prefix=f"b{assignment.pk}")
            extra["bonus_form"] = bonus_form
            if bonus_form.is_valid():
                task_services.assignment_bonus(
                    actor=actor,
                    assignment=assignment,
                    amount=bonus_form.cleaned_data["amount"],
                    reason=bonus_form.cleaned_data["reason"],
                    token=request.POST.get("token", ""),
                )
                extra.pop("bonus_form")
                extra["notice"] = _("Bonus of %(amount)s paid.") % {
                    "amount": money(bonus_form.cleaned_data["amount"], batch.currency)
                }
        else:
            raise NotFound("decision")
    except AppError as error:
        target = extra.get("reject_form") or extra.get("bonus_form")
        if target is not None:
            add_app_error(target, error)
        elif request.htmx:  # type: ignore[attr-defined]
            extra["error"] = error.message
        else:
            flash_error(request, error)
    if extra and not request.htmx:  # type: ignore[attr-defined]
        # Without htmx the errors are shown on the full queue page.
        for form_ in (extra.get("reject_form"), extra.get("bonus_form")):
            if form_ is not None and form_.errors:
                messages.error(request, form_errors_text(form_))
    return _after_review(request, batch, assignment_id, **extra)


@require_POST
@app_page
def review_bulk_approve(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = _batch(request, slug, batch_id, "tasks.review_batch")
    ids = [int(value) for value in request.POST.getlist("assignment_ids") if value.isdigit()]
    if not ids:
        messages.error(request, _("Tick at least one submission to approve."))
        return redirect("org_review", slug=slug, batch_id=batch.pk)
    operation_id = operation_start(
        owner=user_of(request),
        label=ngettext(
            "Approving %(count)d submission of %(title)s", "Approving %(count)d submissions of %(title)s", len(ids)
        )
        % {"count": len(ids), "title": batch.title},
        job=jobs.bulk_approve,
        result_url=reverse("org_review", args=[slug, batch.pk]) + "?show=all",
        user_id=user_of(request).pk,
        batch_id=batch.pk,
        assignment_ids=ids,
        feedback=request.POST.get("feedback", ""),
    )
    return redirect("operation", operation_id=operation_id)


@require_POST
@app_page
def export(request: HttpRequest, slug: str, batch_id: int, file_format: str) -> HttpResponse:
    """Paid work only, prepared by a job (a large batch never holds the page up)."""
    batch = _batch(request, slug, batch_id, "tasks.review_batch")
    if file_format not in ("csv", "json"):
        raise NotFound("export format")
    operation_id = operation_start(
        owner=user_of(request),
        label=_("Export of %(title)s (%(upper)s)") % {"title": batch.title, "upper": file_format.upper()},
        job=jobs.batch_export,
        result_url=reverse("org_batch", args=[slug, batch.pk]),
        user_id=user_of(request).pk,
        batch_id=batch.pk,
        file_format=file_format,
    )
    return redirect("operation", operation_id=operation_id)
