"""The treasurer's pages: bank deposits to confirm and reconciliation differences.
Every read goes through the payments selectors, which refuse anyone but the treasurer."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import AppError
from core.money import platform_currency, typed_text
from frontend.forms import ConfirmDepositForm
from frontend.pages import app_page, flash_error, form_errors_text, user_of
from payments import selectors as payment_selectors
from payments import services as payment_services


@app_page
def treasury(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    deposits = list(payment_selectors.treasury_deposits_awaiting(user=user)[:200])
    return render(
        request,
        "frontend/treasurer/treasury.html",
        {
            "rows": [
                {
                    "deposit": d,
                    "form": ConfirmDepositForm(
                        prefix=f"d{d.pk}", initial={"amount": typed_text(d.amount, platform_currency())}
                    ),
                }
                for d in deposits
            ],
            "differences": payment_selectors.treasury_open_differences(user=user)[:200],
        },
    )


@require_POST
@app_page
def deposit_confirm(request: HttpRequest, deposit_id: int) -> HttpResponse:
    user = user_of(request)
    deposit = payment_selectors.treasury_access_deposit(user=user, deposit_id=deposit_id)
    form = ConfirmDepositForm(request.POST, prefix=f"d{deposit.pk}")
    if not form.is_valid():
        messages.error(request, f"{deposit.reference}: " + form_errors_text(form))
        return redirect("treasury")
    try:
        payment_services.deposit_bank_confirm(
            deposit=deposit, amount=form.cleaned_data["amount"], actor=user, via="web"
        )
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(
            request,
            _("Deposit %(reference)s confirmed and credited to %(organisation)s.")
            % {"reference": deposit.reference, "organisation": deposit.organisation},
        )
    return redirect("treasury")
