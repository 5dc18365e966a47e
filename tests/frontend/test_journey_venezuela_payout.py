"""A worker in Venezuela, from registration to money in their own PayPal wallet, in a real
browser: the registration form shows the one payout service that reaches Venezuela, the
worker saves their PayPal address, sees the estimate, confirms, and the payout is paid when
PayPal's verified webhook says so; the payout page then says how much arrived."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from ledger import accounts
from ledger.selectors import balance
from payouts.models import Payout
from payouts.rails import paypal_client
from tests.factories import PASSWORD
from tests.fakes.paypal_api import FakePaypal
from tests.frontend.conftest import nav
from tests.payouts.factories import destination_settled, earn

pytestmark = pytest.mark.browser


@pytest.fixture
def paypal(settings: Any) -> Iterator[FakePaypal]:
    fake = FakePaypal()
    settings.PAYPAL_CLIENT_ID = fake.client_id
    settings.PAYPAL_CLIENT_SECRET = fake.client_secret
    settings.PAYPAL_WEBHOOK_ID = fake.webhook_id
    settings.PAYPAL_API_BASE = "https://api-m.sandbox.paypal.test"
    paypal_client.use_transport(fake)
    try:
        yield fake
    finally:
        paypal_client.use_transport(None)


def test_worker_in_venezuela_registers_and_is_paid_to_paypal(
    open_page: Any, paypal: FakePaypal, screenshot: Any
) -> None:
    page = open_page()
    page.goto("/")
    page.get_by_role("link", name="where can I be paid?").click()
    assert "Venezuela" in page.locator("main").inner_text()
    nav(page, "Register")
    page.get_by_label("User name").fill("valeria")
    page.get_by_label("E-mail address").fill("valeria@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Country").select_option("VE")
    page.locator("#register-coverage").get_by_text("PayPal Payouts").first.wait_for()
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))
    worker = User.objects.get(username="valeria")
    assert worker.worker_profile.country == "VE"

    earn(worker, 25_00)  # approved work (the worker journey walks the task pages)
    nav(page, "Payouts")
    assert [row.get_attribute("data-rail") for row in page.locator("#payout-rails tbody tr").all()] == ["paypal"]
    page.get_by_label("Email address of your PayPal account").fill("valeria@example.org")
    page.get_by_role("button", name="Be paid to PayPal").click()
    assert "PayPal" in page.locator("#payout-method").inner_text()
    assert "New destination: nothing is paid there before" in page.content()  # the governed hold
    destination_settled(worker)  # ... and the hold is over
    page.reload()

    page.get_by_role("button", name="Pay out my balance: see the estimate").click()
    assert page.locator("#quote-destination").inner_text() == "25.00 EUR"
    page.get_by_role("button", name="Confirm payout").click()
    assert "on its way" in page.locator(".messages").inner_text()
    payout = Payout.objects.get(user=worker)
    assert (payout.state, payout.rail, payout.amount) == (Payout.State.SUBMITTED, "paypal", 25_00)

    item_id = paypal.item_for_batch(payout.rail_reference)["payout_item_id"]
    paypal.item_set(item_id, "SUCCESS")
    headers, body = paypal.webhook("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", item_id)
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    delivered = APIClient().generic("POST", "/webhooks/paypal/", body, content_type="application/json", **extra)
    assert delivered.status_code == 200, delivered.content
    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID
    page.reload()
    history = page.locator("#payout-history tbody tr").first.inner_text()
    assert "Paid" in history and "25.00 EUR" in history
    assert balance(accounts.worker_earnings(worker)).available == 0
    screenshot(page, "paid")
