"""The patronage dividend's pages: each member sees the computation of their own share
(``/coop/dividends/``); the treasurer sees every member's share (``/treasury/dividends/``).
Both read through ``governance.selectors``, which refuses anyone else."""

from datetime import date, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import AppError
from frontend.forms import PageForm
from frontend.pages import add_app_error, app_page, user_of
from governance import selectors as governance_selectors
from governance.models import DividendAllocation


class SurplusForm(PageForm):
    period_start = forms.DateField(label=_("First day"), widget=forms.DateInput({"type": "date"}))
    period_end = forms.DateField(label=_("Last day"), widget=forms.DateInput({"type": "date"}))


def _last_month() -> tuple[date, date]:
    first_of_this_month = timezone.now().date().replace(day=1)
    last = first_of_this_month - timedelta(days=1)
    return last.replace(day=1), last


@app_page
def dividends(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    governance_selectors.require_dividend_reader(user)
    computations = governance_selectors.dividend_computations_own(user=user)
    start, end = _last_month()
    form = SurplusForm(request.GET or None, initial={"period_start": start, "period_end": end})
    surplus = None
    if form.is_bound and form.is_valid():
        try:
            surplus = governance_selectors.surplus_preview(
                user=user, period_start=form.cleaned_data["period_start"], period_end=form.cleaned_data["period_end"]
            )
        except AppError as error:
            add_app_error(form, error)
    return render(
        request,
        "frontend/member/dividends.html",
        {"computations": computations, "surplus_form": form, "surplus": surplus},
    )


@app_page
def treasury_dividends(request: HttpRequest) -> HttpResponse:
    rows = []
    for dividend in governance_selectors.dividends_for_treasurer(user=user_of(request))[:50]:
        allocations = list(dividend.allocations.all())
        owed = sum(a.amount for a in allocations if a.status == DividendAllocation.Status.OWED)
        rows.append({"dividend": dividend, "allocations": allocations, "owed": owed})
    return render(request, "frontend/treasurer/dividends.html", {"rows": rows})
