"""The worker's payout page for workers outside the SEPA area: only the rails open to
their country, each with currency, arrival, fees and the worker's verification state;
"not configured on this server" without keys (and the variables, to an operator);
an estimate before any payout; and the seeded Kenya, India and Venezuela workers
walked through it in headless Chromium."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, TestCase

from accounts.models import User
from accounts.services import treasurer_grant
from ledger import accounts
from ledger.selectors import balance
from payouts.models import Payout
from payouts.rails import paypal_client
from tests.fakes.paypal_api import FakePaypal
from tests.frontend.conftest import nav
from tests.payouts.factories import destination_settled, earn, signed_in_now, worker_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def paypal(settings) -> Iterator[FakePaypal]:  # type: ignore[no-untyped-def]
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


def _rails_on_page(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-rail="([a-z_]+)">', html)


def test_a_kenyan_worker_sees_only_kenyas_rails_not_configured_and_no_pay_out(client: Client, settings) -> None:
    for name in ("PAYPAL_CLIENT_ID", "WISE_API_TOKEN", "STRIPE_SECRET_KEY"):
        setattr(settings, name, "")
    worker = worker_in("KE")
    earn(worker, 20_00)
    client.force_login(worker)
    html = client.get("/work/payouts/").content.decode()
    assert _rails_on_page(html) == ["paypal", "wise"]
    assert html.count("not configured on this server") == 2
    assert "PAYPAL_CLIENT_ID" not in html  # the variables are for the operator, not the worker
    assert "IBAN" not in html  # no SEPA form for a country SEPA does not reach
    assert "see the estimate" not in html  # no payout without a verified method
    assert "No payout method can be set up on this server for your country yet." in html


def test_the_operator_sees_the_variables_to_set(client: Client, settings) -> None:
    settings.PAYPAL_CLIENT_ID = ""
    operator = worker_in("VE")
    treasurer_grant(user=operator)
    client.force_login(operator)
    html = client.get("/work/payouts/").content.decode()
    assert "operator: set PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID" in html


def test_an_indian_worker_sets_paypal_sees_the_estimate_and_confirms(client: Client, paypal) -> None:
    worker = worker_in("IN")
    earn(worker, 30_00)
    client.force_login(worker)
    html = client.get("/work/payouts/").content.decode()
    assert _rails_on_page(html) == ["stripe_global", "paypal"]
    response = client.post("/work/payouts/", {"paypal-email": "chen@example.org"})
    assert response.status_code == 302
    html = client.get("/work/payouts/").content.decode()
    assert "verified: ready to be paid" in html
    assert "New destination: nothing is paid there before" in html  # the governed hold (issue 19)
    destination_settled(worker)  # ... and two days pass
    estimate = client.post("/work/payouts/estimate/").content.decode()
    assert 'id="quote-fee">0.60 EUR, paid by the co-op' in estimate
    assert 'id="quote-destination">30.00 EUR' in estimate
    assert not Payout.objects.exists()  # an estimate takes nothing
    quote_id = estimate.split('name="quote" value="')[1].split('"')[0]
    with TestCase.captureOnCommitCallbacks(execute=True):
        done = client.post("/work/payouts/request/", {"quote": quote_id})
    assert done.status_code == 302
    payout = Payout.objects.get(user=worker)
    assert (payout.state, payout.rail, payout.amount) == ("submitted", "paypal", 30_00)
    assert balance(accounts.worker_earnings(worker)).available == 0


@pytest.mark.browser
def test_seeded_kenya_india_venezuela_workers_in_the_browser(open_page: Any, paypal, screenshot: Any) -> None:
    call_command("seed_demo")
    for username, country, rails in (
        ("amina", "KE", ["paypal", "wise"]),
        ("chen", "IN", ["stripe_global", "paypal"]),
        ("valentina", "VE", ["paypal"]),
    ):
        worker = User.objects.get(username=username)
        assert worker.worker_profile.country == country
        earn(worker, 12_00)
        page = open_page(worker, password="demo-password-2026")
        nav(page, "Payouts")
        assert [row.get_attribute("data-rail") for row in page.locator("#payout-rails tbody tr").all()] == rails
        page.get_by_label("Email address of your PayPal account").fill(f"{username}@example.org")
        page.get_by_role("button", name="Be paid to PayPal").click()
        assert "PayPal" in page.locator("#payout-method").inner_text()
        page.get_by_role("button", name="Pay out my balance: see the estimate").click()
        assert page.locator("#quote-destination").inner_text() == "12.00 EUR"
        assert page.locator("#quote-fee").inner_text() == "0.24 EUR, paid by the co-op"
        screenshot(page, f"estimate-{country}")
        page.get_by_role("button", name="Confirm payout").click()
        assert "on its way" in page.locator(".messages").inner_text()
        payout = Payout.objects.get(user=worker)
        assert (payout.rail, payout.amount, payout.fee) == ("paypal", 12_00, 24)


def test_the_treasurer_sees_payouts_by_rail_and_state(client: Client, paypal, settings) -> None:
    from payouts import services

    settings.WISE_API_TOKEN = ""
    worker = worker_in("KE")
    services.payout_method_set(
        user=worker, rail="paypal", details={"email": "amina@example.org"}, fresh_sign_in=signed_in_now(worker)
    )
    destination_settled(worker)
    earn(worker, 30_00)
    payout = services.payout_request(user=worker)
    services.payout_pay(payout_id=payout.pk)
    treasurer = worker_in("DE")
    treasurer_grant(user=treasurer)
    client.force_login(treasurer)
    html = client.get("/treasury/payouts/").content.decode()
    row = html.split('<tr data-rail="paypal">')[1].split("</tr>")[0]
    assert "configured" in row and "not configured" not in row
    # created, submitted, paid, failed; then the fees of paid payouts.
    assert row.count('<td class="num">') == 5
    assert "1 · 30.00 EUR" in row and "0.60 EUR" in row
    wise_row = html.split('<tr data-rail="wise">')[1].split("</tr>")[0]
    assert "not configured: set WISE_API_TOKEN" in wise_row

    client.force_login(worker)
    assert client.get("/treasury/payouts/").status_code == 403
