"""The organisation's sandbox area (issue 24.6): its sandbox batches, published with play
money, the live ones its own people can work to test them, and the play money itself (what
is available, held, paid to testers), topped up for free. Nothing here touches the ledger
(``tasks.books``, ``tasks.play``)."""

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import AppError
from frontend.forms import MoneyField, PageForm
from frontend.pages import add_app_error, app_page, user_of
from frontend.templatetags.frontend import money
from frontend.views.requester import _organisation
from tasks import play
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import Batch


class TopUpForm(PageForm):
    amount = MoneyField(
        label=gettext_lazy("Play money to add"),
        maximum=play.MAX_TOP_UP,
        minimum=1,
        help_text=gettext_lazy("Free, and only for the sandbox: for example 500.00"),
    )
    # One top-up per form shown: sending it twice (a double click, a reload) adds it once.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


@app_page
def sandbox_page(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, "publish" if request.method == "POST" else None)
    form = TopUpForm(request.POST or None, initial={"token": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            top_up = task_services.sandbox_top_up(
                organisation=organisation,
                actor=user_of(request),
                amount=form.cleaned_data["amount"],
                token=form.cleaned_data["token"],
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("%(amount)s of play money added.") % {"amount": money(top_up.amount)})
            return redirect("org_sandbox", slug=slug)
    batches = task_selectors.batches_for_organisation(organisation=organisation, sandbox=True)[:100]
    return render(
        request,
        "frontend/requester/sandbox.html",
        {
            "organisation": organisation,
            "sandbox": True,
            "batches": batches,
            "live": [batch for batch in batches if batch.status == Batch.Status.PUBLISHED],
            "play": play.play_balance(organisation=organisation),
            "testers": play.play_paid_by_tester(organisation=organisation),
            "form": form,
        },
    )
