"""A worker in India, from registration to rupees in their own bank account, in a real
browser: the registration form shows which payout services reach India, Stripe Global
Payouts' hosted onboarding is reached (the payout page's Content-Security-Policy lets its
form lead there, and nowhere else), Stripe reports the account ready, the worker sees the
estimate, confirms, and the payout is paid when Stripe's signed webhook says so."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from ledger import accounts
from ledger.selectors import balance
from payments import stripe_gateway
from payouts.models import GlobalRecipient, Payout
from tests.factories import PASSWORD
from tests.fakes.stripe_v2 import FakeStripeV2
from tests.frontend.conftest import nav
from tests.payouts.factories import destination_settled, earn

EVENT_SECRET = "whsec_v2_journey"


@pytest.fixture
def stripe_v2(settings: Any) -> Iterator[FakeStripeV2]:
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_GLOBAL_PAYOUTS_FINANCIAL_ACCOUNT = "fa_test_coop_us"
    settings.STRIPE_GLOBAL_PAYOUTS_SOURCE_CURRENCY = "usd"
    settings.STRIPE_EVENT_DESTINATION_SECRET = EVENT_SECRET
    fake = FakeStripeV2()
    stripe_gateway.use_http_client(fake)
    try:
        yield fake
    finally:
        stripe_gateway.use_http_client(None)


def _stripe_says(fake: FakeStripeV2, event_type: str, related_id: str, related_type: str) -> None:
    payload, signature, _ = fake.thin_event(event_type, related_id, related_type, secret=EVENT_SECRET)
    response = APIClient().generic(
        "POST", "/webhooks/stripe/v2/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200, response.content


@pytest.mark.browser
def test_worker_in_india_registers_and_is_paid_in_rupees(
    open_page: Any, stripe_v2: FakeStripeV2, screenshot: Any
) -> None:
    page = open_page()
    # What Stripe's hosted onboarding would show; the browser never leaves this machine.
    onboarding_hits: list[str] = []

    def stripe_onboarding(route: Any) -> None:
        onboarding_hits.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Stripe: your bank account</h1>")

    page.context.route("https://connect.stripe.com/**", stripe_onboarding)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    page.goto("/accounts/register/")
    page.get_by_label("User name").fill("priya")
    page.get_by_label("E-mail address").fill("priya@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Country").select_option("IN")
    page.locator("#register-coverage").get_by_text("Stripe Global Payouts").first.wait_for()
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))
    worker = User.objects.get(username="priya")
    assert worker.worker_profile.country == "IN"

    nav(page, "Payouts")
    earn(worker, 40_00)  # approved work (the worker journey walks the task pages)
    page.reload()
    assert [row.get_attribute("data-rail") for row in page.locator("#payout-rails tbody tr").all()] == [
        "stripe_global",
        "paypal",
    ]
    page.get_by_role("button", name="Set up a local bank account with Stripe").click()
    page.get_by_role("heading", name="Stripe: your bank account").wait_for()
    assert violations == []
    assert len(onboarding_hits) == 1 and onboarding_hits[0].startswith("https://connect.stripe.com/")
    recipient = GlobalRecipient.objects.get(user=worker)
    assert not recipient.ready

    # The worker enters their bank details at Stripe; Stripe says so by a signed webhook.
    stripe_v2.recipient_activate(recipient.stripe_account_id)
    _stripe_says(
        stripe_v2,
        "v2.core.account[configuration.recipient].capability_status_updated",
        recipient.stripe_account_id,
        "v2.core.account",
    )
    destination_settled(worker)  # the governed hold on a new destination is over
    page.goto("/work/payouts/")  # Stripe's "return_url"
    assert (
        page.locator('#payout-rails tr[data-rail="stripe_global"]').inner_text().endswith("verified: ready to be paid")
    )

    page.get_by_role("button", name="Pay out my balance: see the estimate").click()
    # 40.00 EUR at the fake's rate of 90.25 INR per euro; the fee is the co-op's.
    assert page.locator("#quote-destination").inner_text() == "3610.00 INR"
    screenshot(page, "estimate")
    page.get_by_role("button", name="Confirm payout").click()
    assert "on its way" in page.locator(".messages").inner_text()
    payout = Payout.objects.get(user=worker)
    assert (payout.state, payout.rail, payout.amount) == (Payout.State.SUBMITTED, "stripe_global", 40_00)
    [payment] = stripe_v2.outbound_payments()

    stripe_v2.outbound_payment_set(payment["id"], "posted")
    _stripe_says(
        stripe_v2, "v2.money_management.outbound_payment.posted", payment["id"], "v2.money_management.outbound_payment"
    )
    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID and payout.arrived_amount == 3610_00
    page.reload()
    history = page.locator("#payout-history tbody tr").first.inner_text()
    assert "3610.00 INR arrived" in history and "Paid" in history
    assert balance(accounts.worker_earnings(worker)).available == 0
    screenshot(page, "paid")


@pytest.mark.django_db
def test_only_the_payout_page_with_a_stripe_rail_lets_forms_lead_to_stripe(
    client: Client, stripe_v2: Any, settings: Any
) -> None:
    from tests.payouts.factories import worker_in

    client.force_login(worker_in("IN"))
    policy = client.get("/work/payouts/")["Content-Security-Policy"]
    assert "form-action 'self' https://connect.stripe.com;" in policy
    assert client.get("/work/profile/")["Content-Security-Policy"].count("form-action 'self';") == 1

    settings.STRIPE_SECRET_KEY = ""  # no Stripe rail on this server: nothing leads there
    assert "form-action 'self';" in client.get("/work/payouts/")["Content-Security-Policy"]


@pytest.mark.browser
def test_a_worker_in_germany_reaches_stripe_connect_onboarding(open_page: Any, fake_stripe: Any) -> None:
    from payouts.models import ConnectedAccount
    from tests.payouts.factories import worker_in

    worker = worker_in("DE")
    page = open_page(worker)
    hits: list[str] = []

    def stripe_onboarding(route: Any) -> None:
        hits.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Stripe Connect onboarding</h1>")

    page.context.route("https://connect.stripe.com/**", stripe_onboarding)
    nav(page, "Payouts")
    page.get_by_role("button", name="Set up payouts with Stripe Connect").click()
    page.get_by_role("heading", name="Stripe Connect onboarding").wait_for()
    account = ConnectedAccount.objects.get(user=worker)
    assert len(hits) == 1 and account.stripe_account_id in hits[0]
