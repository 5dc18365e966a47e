"""The requester's webhooks page: register an https endpoint, see the delivery log."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Organisation
from core.errors import AppError
from frontend.forms import PageForm
from frontend.pages import add_app_error, app_page, user_of
from webhooks import selectors, services


class WebhookForm(PageForm):
    url = forms.CharField(
        label=gettext_lazy("URL"), max_length=500, help_text=gettext_lazy("A public https:// address.")
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=[(event, event) for event in services.EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )


def _organisation_for_webhooks(request: HttpRequest, slug: str) -> Organisation:
    """Anyone on the team sees the endpoints and the log; registering or removing one
    needs the ``review`` capability, as on the API (``webhooks.api``): the events carry
    the organisation's work and disputes, so a finance member may not redirect them."""
    organisation = account_selectors.access_organisation(user=user_of(request), slug=slug)
    if request.method == "POST":
        account_selectors.require_organisation_capability(
            user=user_of(request), organisation=organisation, capability=account_selectors.CAPABILITY_REVIEW
        )
    return organisation


@app_page
def webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation_for_webhooks(request, slug)
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(
                organisation=organisation, actor=user_of(request), **form.cleaned_data
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            created = {"endpoint": endpoint, "secret": secret}
            form = WebhookForm()
    return render(
        request,
        "frontend/requester/webhooks.html",
        {
            "organisation": organisation,
            "form": form,
            # The secret is shown on this one response and never again.
            "created": created,
            "endpoints": selectors.webhook_endpoints(organisation=organisation),
            "deliveries": selectors.webhook_delivery_log(organisation=organisation)[: selectors.LOG_LENGTH],
        },
    )


@require_POST
@app_page
def webhook_remove(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organisation = _organisation_for_webhooks(request, slug)
    endpoint = selectors.access_webhook_endpoint(organisation=organisation, endpoint_id=endpoint_id)
    services.webhook_endpoint_deactivate(endpoint=endpoint, actor=user_of(request))
    messages.success(request, _("Deliveries to %(url)s stopped.") % {"url": endpoint.url})
    return redirect("org_webhooks", slug=slug)
