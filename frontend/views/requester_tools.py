"""Pages for what requesters could only do through the API (issue 24 point 5): their own
worker block list, more assignments or more time for a live batch, withdrawals from the
balance, and the organisation's notices. Each calls the same service as the API."""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.errors import AppError, NotFound
from core.money import MAX_WITHDRAWAL, format_amount
from frontend.forms import MoneyField, PageForm
from frontend.pages import add_app_error, app_page, user_of
from frontend.views.requester import _batch, _organisation
from notifications.render import words
from notifications.selectors import inbox_for_user
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.models import Withdrawal
from tasks import services as task_services
from tasks.services import MAX_ASSIGNMENTS_PER_TASK, MAX_LIFETIME_HOURS


class BlockForm(PageForm):
    worker = forms.CharField(
        label=gettext_lazy("Worker"),
        max_length=64,
        help_text=gettext_lazy("The worker's pseudonym, as in your results."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        max_length=500,
        help_text=gettext_lazy("The worker can see it. The block affects only your batches."),
    )


class AddAssignmentsForm(PageForm):
    per_task = forms.IntegerField(
        label=gettext_lazy("More workers per task"), min_value=1, max_value=MAX_ASSIGNMENTS_PER_TASK
    )


class ExtendForm(PageForm):
    hours = forms.IntegerField(label=gettext_lazy("More hours open"), min_value=1, max_value=MAX_LIFETIME_HOURS)


class WithdrawalForm(PageForm):
    method = forms.ChoiceField(
        label=gettext_lazy("Where the money goes"),
        choices=[
            (Withdrawal.Method.STRIPE_REFUND, gettext_lazy("Back to the cards that paid")),
            (Withdrawal.Method.BANK, gettext_lazy("To a bank account")),
        ],
        widget=forms.RadioSelect,
        initial=Withdrawal.Method.BANK,
    )
    amount = MoneyField(label=gettext_lazy("Amount"), maximum=MAX_WITHDRAWAL, minimum=1)
    iban = forms.CharField(label=gettext_lazy("IBAN"), max_length=42, required=False)
    account_holder = forms.CharField(label=gettext_lazy("Account holder"), max_length=140, required=False)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


def _worker(pseudonym: str) -> User:
    worker = User.objects.filter(pseudonym=pseudonym.strip()).first()
    if worker is None:
        raise AppError("not_found", _("No worker is called %(name)s.") % {"name": pseudonym.strip()[:64]}, status=404)
    return worker


@app_page
def blocks(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisation's own block list: who, why, since when; add and remove."""
    organisation = _organisation(request, slug, "review" if request.method == "POST" else None)
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            block = task_services.worker_block(
                organisation=organisation,
                actor=user_of(request),
                worker=_worker(form.cleaned_data["worker"]),
                reason=form.cleaned_data["reason"],
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(
                request, _("%(worker)s is blocked from your batches.") % {"worker": block.worker.pseudonym}
            )
            return redirect("org_blocks", slug=slug)
    rows = organisation.blocked_workers.select_related("worker").order_by("-id")
    return render(
        request, "frontend/requester/blocks.html", {"organisation": organisation, "form": form, "blocks": rows}
    )


@app_page
def block_remove(request: HttpRequest, slug: str, pseudonym: str) -> HttpResponse:
    if request.method != "POST":
        raise NotFound("page")
    organisation = _organisation(request, slug, "review")
    # As the API's DELETE: unblocking someone not on the list changes nothing and is no error.
    task_services.worker_unblock(organisation=organisation, actor=user_of(request), worker=_worker(pseudonym))
    messages.success(request, _("%(worker)s can work on your batches again.") % {"worker": pseudonym})
    return redirect("org_blocks", slug=slug)


@app_page
def batch_grow(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    """A live batch gets more workers per task (their pay reserved in escrow at once) or
    stays open longer."""
    batch = _batch(request, slug, batch_id, "tasks.change_batch" if request.method == "POST" else "tasks.view_batch")
    add_form = AddAssignmentsForm(request.POST if request.POST.get("action") == "add" else None, prefix="add")
    extend_form = ExtendForm(request.POST if request.POST.get("action") == "extend" else None, prefix="extend")
    if request.method == "POST":
        form: forms.Form = add_form if request.POST.get("action") == "add" else extend_form
        if form.is_valid():
            try:
                if form is add_form:
                    task_services.batch_add_assignments(
                        batch=batch, actor=user_of(request), per_task=form.cleaned_data["per_task"]
                    )
                    messages.success(
                        request,
                        _("Added %(count)d more workers per task; their pay is reserved in escrow.")
                        % {"count": form.cleaned_data["per_task"]},
                    )
                else:
                    task_services.batch_extend_lifetime(
                        batch=batch, actor=user_of(request), hours=form.cleaned_data["hours"]
                    )
                    messages.success(
                        request,
                        _("The batch stays open %(hours)d hours longer.") % {"hours": form.cleaned_data["hours"]},
                    )
                return redirect("org_batch_grow", slug=slug, batch_id=batch.pk)
            except AppError as error:
                add_app_error(form, error)
    return render(
        request,
        "frontend/requester/batch_grow.html",
        {
            "organisation": batch.organisation,
            "batch": batch,
            "add_form": add_form,
            "extend_form": extend_form,
            "balance": payment_selectors.organisation_balance(organisation=batch.organisation),
            "slot_cost": batch.reward + batch.fee_per_assignment,
            "tasks": batch.tasks.count(),
        },
    )


@app_page
def withdrawals(request: HttpRequest, slug: str) -> HttpResponse:
    """Money back out of the balance: to the cards that paid, or by bank transfer; the list
    of earlier withdrawals with their state."""
    organisation = _organisation(request, slug, "funds")
    form = WithdrawalForm(request.POST or None, initial={"token": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            withdrawal = payment_services.withdrawal_request(
                organisation=organisation,
                actor=user_of(request),
                amount=data["amount"],
                method=data["method"],
                iban=data["iban"],
                account_holder=data["account_holder"],
                token=data["token"],
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(
                request,
                _("Withdrawal of %(amount)s requested; it is reserved from your balance until it is paid.")
                % {"amount": format_amount(withdrawal.amount, withdrawal.currency)},
            )
            return redirect("org_withdrawals", slug=slug)
    return render(
        request,
        "frontend/requester/withdrawals.html",
        {
            "organisation": organisation,
            "form": form,
            "balance": payment_selectors.organisation_balance(organisation=organisation),
            "withdrawals": payment_selectors.withdrawals_for_organisation(organisation=organisation)[:100],
        },
    )


@app_page
def notices(request: HttpRequest, slug: str) -> HttpResponse:
    """The signed-in person's inbox entries about this organisation (fair-pay top-ups owed
    or paid, mass-rejection reviews, ...), newest first."""
    organisation = _organisation(request, slug)
    user = user_of(request)
    rows: list[dict[str, Any]] = []
    for row in inbox_for_user(user=user).filter(organisation=organisation)[:100]:
        shown = words(
            category=row.category,
            params=row.params,
            language=translation.get_language(),
            time_zone=timezone.get_current_timezone_name(),
        )
        rows.append({"notification": row, "title": shown.title, "body": shown.body})
    return render(request, "frontend/requester/notices.html", {"organisation": organisation, "rows": rows})
