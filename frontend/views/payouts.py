"""Payout pages: the worker's method, schedule and payouts; the treasurer's SEPA bank files."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.reauthentication import fresh_sign_in_from_session
from core.errors import AppError, NotFound
from core.money import platform_currency, typed_text
from core.security import STRIPE_ONBOARDING_ORIGIN, page_policy_with_form_target
from frontend.forms import PayoutMethodForm, PayoutScheduleForm, PaypalMethodForm, SepaFailForm, WiseMethodForm
from frontend.pages import add_app_error, app_page, flash_error, form_errors_text, user_of
from frontend.templatetags.frontend import money
from payouts import selectors as payout_selectors
from payouts import services as payout_services


def _rail_rows(worker: object, method: object, operator: bool) -> list[dict[str, object]]:
    """The rails open to the worker's country, one row per method, with what the
    worker needs to know: currency, arrival, fees, whether the server offers it and
    how far their own method on it is verified."""
    from payouts.rails import coverage_for_country, rail_get

    country = payout_selectors.worker_country(user=worker)  # type: ignore[arg-type]
    if not country:
        return []
    rows = []
    for option in coverage_for_country(country).options:
        state = ""
        if method is not None and getattr(method, "rail", "") == option.rail:
            reason = rail_get(option.rail).not_ready_reason(method=method)  # type: ignore[arg-type]
            state = reason or _("verified: ready to be paid")
        rows.append(
            {
                "option": option,
                "state": state or _("not set up"),
                "missing": ", ".join(option.missing_settings) if operator else "",
            }
        )
    return rows


@app_page
def worker_payouts(request: HttpRequest) -> HttpResponse:
    from accounts.selectors import user_is_treasurer

    worker = user_of(request)
    schedule = payout_selectors.schedule_for(user=worker)
    method_form = PayoutMethodForm(prefix="method")
    paypal_form = PaypalMethodForm(prefix="paypal")
    country = payout_selectors.worker_country(user=worker)
    wise_form = WiseMethodForm(prefix="wise", country=country)
    schedule_form = PayoutScheduleForm(
        prefix="schedule",
        initial={
            "frequency": schedule.frequency,
            "minimum_amount": typed_text(schedule.minimum_amount, platform_currency()),
        },
    )
    # One payout-method form per rail; whichever was sent goes through the one writer.
    sent: tuple[str, Any, str] | None = None
    if request.method == "POST" and "method-iban" in request.POST:
        method_form = PayoutMethodForm(request.POST, prefix="method")
        sent = ("sepa", method_form, _("Payout method saved; the earlier one is kept in your history."))
    elif request.method == "POST" and "paypal-email" in request.POST:
        paypal_form = PaypalMethodForm(request.POST, prefix="paypal")
        sent = ("paypal", paypal_form, _("PayPal saved as your payout method."))
    elif request.method == "POST" and "wise-account_holder" in request.POST:
        wise_form = WiseMethodForm(request.POST, prefix="wise", country=country)
        sent = ("wise", wise_form, _("Bank account saved with Wise; only a masked hint is kept here."))
    if sent is not None:
        rail, form, saved = sent
        if form.is_valid():
            details = form.cleaned_data if rail == "sepa" else {k: v for k, v in form.cleaned_data.items() if v}
            try:
                payout_services.payout_method_set(
                    user=worker, rail=rail, details=details, fresh_sign_in=fresh_sign_in_from_session(request)
                )
            except AppError as error:
                if error.code == "reauthentication_required":
                    return _reauthenticate(request, error)
                add_app_error(form, error)
            else:
                messages.success(request, saved)
                return redirect("worker_payouts")
    elif request.method == "POST":
        schedule_form = PayoutScheduleForm(request.POST, prefix="schedule")
        if schedule_form.is_valid():
            try:
                payout_services.payout_schedule_set(user=worker, **schedule_form.cleaned_data)
            except AppError as error:
                add_app_error(schedule_form, error)
            else:
                messages.success(request, _("Payout schedule saved."))
                return redirect("worker_payouts")
    balance = payout_selectors.payout_balance(user=worker)
    method = payout_selectors.payout_method_current(user=worker)
    operator = bool(worker.is_staff or worker.is_superuser or user_is_treasurer(worker))
    rows = _rail_rows(worker, method, operator)
    offered = {
        row["option"].rail  # type: ignore[attr-defined]
        for row in rows
        if row["option"].configured  # type: ignore[attr-defined]
    }
    response = render(
        request,
        "frontend/worker/payouts.html",
        {
            "balance": balance,
            "method": method,
            "methods": payout_selectors.payout_methods_for_worker(user=worker)[:20],
            "schedule": schedule,
            "payouts": payout_selectors.payouts_for_worker(user=worker)[:50],
            "method_form": method_form,
            "paypal_form": paypal_form,
            "wise_form": wise_form,
            "schedule_form": schedule_form,
            "rails": rows,
            "offered": offered,
            "operator": operator,
            "can_pay_out": method is not None and not balance.not_ready_reason and balance.available > 0,
            "quote": None,
            "now": timezone.now(),
        },
    )
    if offered & {"stripe_connect", "stripe_global"}:
        # The Stripe buttons lead, through our redirect, to Stripe's hosted onboarding.
        response["Content-Security-Policy"] = page_policy_with_form_target(STRIPE_ONBOARDING_ORIGIN)
    return response


@require_POST
@app_page
def stripe_onboarding(request: HttpRequest) -> HttpResponse:
    """Stripe Connect: Stripe's hosted page collects the bank details; we never see them."""
    back = request.build_absolute_uri(reverse("worker_payouts"))
    try:
        link = payout_services.stripe_onboarding_start(
            user=user_of(request),
            return_url=back,
            refresh_url=back,
            fresh_sign_in=fresh_sign_in_from_session(request),
        )
    except AppError as error:
        if error.code == "reauthentication_required":
            return _reauthenticate(request, error)
        flash_error(request, error)
        return redirect("worker_payouts")
    return redirect(link.url)


def _reauthenticate(request: HttpRequest, error: AppError) -> HttpResponse:
    """Sends the person to re-enter their password, then back to the payouts page."""
    messages.warning(request, error.message)
    return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': reverse('worker_payouts')})}")


@require_POST
@app_page
def payout_cancel(request: HttpRequest, payout_id: int) -> HttpResponse:
    """Cancels a payout waiting out a new destination's hold."""
    try:
        payout_services.payout_cancel_held(user=user_of(request), payout_id=payout_id)
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(request, _("Payout cancelled; the money is back in your balance."))
    return redirect("worker_payouts")


@require_POST
@app_page
def stripe_global_onboarding(request: HttpRequest) -> HttpResponse:
    """Stripe Global Payouts: Stripe's hosted form collects the bank account or card."""
    back = request.build_absolute_uri(reverse("worker_payouts"))
    try:
        link = payout_services.stripe_global_onboarding_start(
            user=user_of(request),
            return_url=back,
            refresh_url=back,
            fresh_sign_in=fresh_sign_in_from_session(request),
        )
    except AppError as error:
        if error.code == "reauthentication_required":
            return _reauthenticate(request, error)
        flash_error(request, error)
        return redirect("worker_payouts")
    return redirect(link.url)


@require_POST
@app_page
def payout_estimate(request: HttpRequest) -> HttpResponse:
    """Step one of a payout: the rail's estimate (fee, rate, amount in the worker's
    currency, until when) shown for the worker to confirm."""
    worker = user_of(request)
    try:
        quote = payout_services.payout_quote_create(user=worker)
    except AppError as error:
        flash_error(request, error)
        return redirect("worker_payouts")
    return render(
        request,
        "frontend/worker/payout_confirm.html",
        {"quote": quote, "worker_fee": quote.fee if quote.fee_bearer == "worker" else 0},
    )


@require_POST
@app_page
def payout_request(request: HttpRequest) -> HttpResponse:
    quote_id = request.POST.get("quote", "")
    try:
        payout = payout_services.payout_request(
            user=user_of(request), quote_id=int(quote_id) if quote_id.isdigit() else None
        )
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(
            request,
            _("Payout of %(amount)s to %(display)s is on its way.")
            % {"amount": money(payout.amount, payout.currency), "display": payout.display},
        )
    return redirect("worker_payouts")


@app_page
def treasury_payouts(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    runs = list(payout_selectors.payout_runs_for_treasurer(user=user)[:20])
    return render(
        request,
        "frontend/treasurer/payouts.html",
        {
            "batches": payout_selectors.sepa_batches_for_treasurer(user=user)[:100],
            "by_rail": payout_selectors.payouts_by_rail_for_treasurer(user=user),
            "runs": runs,
            "runs_in_progress": any(run.finished_at is None for run in runs),
        },
    )


@require_POST
@app_page
def sepa_batch_create(request: HttpRequest) -> HttpResponse:
    try:
        batch = payout_services.sepa_batch_create(actor=user_of(request))
    except AppError as error:
        flash_error(request, error)
        return redirect("treasury_payouts")
    return redirect("treasury_sepa_batch", batch_id=batch.pk)


@app_page
def sepa_batch_page(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = payout_selectors.treasury_access_sepa_batch(user=user_of(request), batch_id=batch_id)
    payments = [
        {"payout": payout, "fail_form": SepaFailForm(prefix=f"p{payout.pk}")} for payout in batch.payouts.order_by("id")
    ]
    return render(request, "frontend/treasurer/sepa_batch.html", {"batch": batch, "payments": payments})


@app_page
def sepa_batch_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = payout_selectors.treasury_access_sepa_batch(user=user_of(request), batch_id=batch_id)
    response = HttpResponse(payout_services.sepa_batch_file(batch=batch), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{batch.message_id}.xml"'
    return response


@require_POST
@app_page
def sepa_batch_action(request: HttpRequest, batch_id: int, action: str) -> HttpResponse:
    user = user_of(request)
    batch = payout_selectors.treasury_access_sepa_batch(user=user, batch_id=batch_id)
    try:
        if action == "sent":
            payout_services.sepa_batch_mark_sent(batch_id=batch.pk, actor=user)
            messages.success(request, _("Marked sent to the bank."))
        else:
            raise NotFound("action")
    except AppError as error:
        flash_error(request, error)
    return redirect("treasury_sepa_batch", batch_id=batch.pk)


@require_POST
@app_page
def sepa_payment_action(request: HttpRequest, batch_id: int, payout_id: int, action: str) -> HttpResponse:
    user = user_of(request)
    batch = payout_selectors.treasury_access_sepa_batch(user=user, batch_id=batch_id)
    payout = payout_selectors.treasury_access_sepa_payment(user=user, batch=batch, payout_id=payout_id)
    try:
        if action == "paid":
            payout_services.sepa_payment_mark_paid(payout_id=payout.pk, actor=user)
            messages.success(request, _("Payment %(number)s marked paid.") % {"number": payout.pk})
        elif action == "failed":
            form = SepaFailForm(request.POST, prefix=f"p{payout.pk}")
            if not form.is_valid():
                messages.error(request, form_errors_text(form))
            else:
                payout_services.sepa_payment_mark_failed(
                    payout_id=payout.pk, actor=user, reason=form.cleaned_data["reason"]
                )
                messages.success(
                    request,
                    _("Payment %(number)s marked returned; the money is back in the balance.") % {"number": payout.pk},
                )
        else:
            raise NotFound("action")
    except AppError as error:
        flash_error(request, error)
    return redirect("treasury_sepa_batch", batch_id=batch.pk)
