"""Global payouts end to end: Stripe Global Payouts through the real ``stripe`` library's
v2 API against the in-process fake (tests/fakes/stripe_v2.py), PayPal Payouts through
``requests`` against an in-process fake of PayPal's JSON (tests/fakes/paypal_api.py).

Workers in India, Kenya, Brazil, Venezuela and the Philippines are paid from request to
settled; lost answers are retried without paying twice; webhooks arrive twice and out of
order; a returned payout is credited back once; an expired quote pays nothing; bad input
changes nothing."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from core.errors import AppError
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from payments import stripe_gateway
from payments.models import WebhookEvent
from payouts import services
from payouts.jobs import payouts_resume
from payouts.models import GlobalRecipient, Payout, PayoutQuote, ProviderWebhookEvent
from payouts.rails import paypal_client, wise_client
from tests.factories import PASSWORD
from tests.fakes.paypal_api import FakePaypal
from tests.fakes.stripe_v2 import FakeStripeV2
from tests.fakes.wise_api import FakeWise
from tests.payouts.factories import current_method, destination_settled, earn, signed_in_now, worker_in

pytestmark = pytest.mark.django_db

EVENT_SECRET = "whsec_v2_destination_fake"


@pytest.fixture
def stripe_v2(settings) -> Iterator[FakeStripeV2]:  # type: ignore[no-untyped-def]
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


def _available(user: User) -> int:
    return balance(accounts.worker_earnings(user)).available


def _global_worker(fake: FakeStripeV2, country: str, *, verified: bool = True) -> User:
    user = worker_in(country)
    services.stripe_global_onboarding_start(
        user=user,
        return_url="https://coop.test/work/payouts/",
        refresh_url="https://coop.test/work/payouts/",
        fresh_sign_in=signed_in_now(user),
    )
    destination_settled(user)  # the governed hold on a new destination is over
    if verified:
        recipient = GlobalRecipient.objects.get(user=user)
        fake.recipient_activate(recipient.stripe_account_id)
        _deliver_v2(
            fake,
            "v2.core.account[configuration.recipient].capability_status_updated",
            recipient.stripe_account_id,
            "v2.core.account",
        )
    return user


def _deliver_v2(fake: FakeStripeV2, event_type: str, related_id: str, related_type: str, **kwargs: Any) -> Any:
    payload, signature, _ = fake.thin_event(event_type, related_id, related_type, secret=EVENT_SECRET, **kwargs)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = APIClient().generic(
            "POST", "/webhooks/stripe/v2/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
    assert response.status_code == 200, response.content
    return response.json()


def _deliver_paypal(headers: dict[str, str], body: bytes) -> Any:
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return APIClient().generic("POST", "/webhooks/paypal/", body, content_type="application/json", **extra)


def _confirm(user: User, quote: PayoutQuote) -> Payout:
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user, quote_id=quote.pk)
    payout.refresh_from_db()
    return payout


def _paypal_worker(country: str, email: str = "worker@example.org") -> User:
    user = worker_in(country)
    services.payout_method_set(user=user, rail="paypal", details={"email": email}, fresh_sign_in=signed_in_now(user))
    destination_settled(user)
    return user


# -- Stripe Global Payouts: India, Brazil, the Philippines ---------------------------------------


@pytest.mark.parametrize(
    ("country", "currency", "credited"),
    # 40.00 EUR at the fake's rates: 90.25 INR, 5.42 BRL, 60.75 PHP per euro.
    [("IN", "INR", 3610_00), ("BR", "BRL", 216_80), ("PH", "PHP", 2430_00)],
)
def test_stripe_global_payout_from_request_to_settled(stripe_v2, country: str, currency: str, credited: int) -> None:
    user = _global_worker(stripe_v2, country)
    earn(user, 40_00)
    assert GlobalRecipient.objects.get(user=user).ready

    quote = services.payout_quote_create(user=user)
    # Stripe's PayoutIntent: 1% + 0.25 fee, its FX rate, the amount credited in local money.
    assert (quote.amount, quote.fee, quote.fee_bearer) == (40_00, 65, "coop")
    assert (quote.destination_amount, quote.destination_currency) == (credited, currency)
    assert quote.expires_at is not None and quote.expires_at > timezone.now()
    intent = stripe_v2.v2_objects[quote.reference]
    assert intent["confirmation_method"] == "manual"
    assert intent["to"]["currency"] == currency.lower()
    assert _available(user) == 40_00  # an estimate reserves nothing

    payout = _confirm(user, quote)
    assert payout.state == Payout.State.SUBMITTED
    assert (payout.fee, payout.rate, payout.destination_currency) == (65, quote.rate, currency)
    assert payout.destination_amount == quote.destination_amount
    assert _available(user) == 0
    [payment] = stripe_v2.outbound_payments()
    assert payout.rail_reference == payment["id"]
    assert payment["payout_intent"] == quote.reference

    stripe_v2.outbound_payment_set(payment["id"], "posted")
    _deliver_v2(
        stripe_v2, "v2.money_management.outbound_payment.posted", payment["id"], "v2.money_management.outbound_payment"
    )
    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID
    assert payout.arrived_amount == quote.destination_amount
    # The rail fee is its own ledger line, borne by the co-op (the founding rule).
    fee_line = Transfer.objects.get(pk=f"payout:{payout.pk}:fee")
    assert (fee_line.amount, fee_line.code) == (65, "payout_rail_fee")
    assert fee_line.debit_account == accounts.coop_payout_fees()
    assert _available(user) == 0
    assert ledger_check() == []


def test_the_worker_bears_the_fee_when_the_rule_says_so(stripe_v2) -> None:
    from governance.models import Rule, RuleVersion

    rule = Rule.objects.get(key="payout_fee_workers_bear")
    RuleVersion.objects.create(rule=rule, value=1, effective_at=timezone.now() - timedelta(seconds=1))
    cache.clear()  # the rule reader caches versions; a vote would append through governance
    user = _global_worker(stripe_v2, "IN")
    earn(user, 40_00)
    quote = services.payout_quote_create(user=user)
    assert quote.fee_bearer == "worker"
    assert quote.amount + quote.fee <= 40_00
    payout = _confirm(user, quote)
    assert _available(user) == 40_00 - quote.amount - quote.fee
    assert Transfer.objects.get(pk=f"payout:{payout.pk}:fee").amount == quote.fee


def test_lost_stripe_answer_is_retried_without_paying_twice(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "IN")
    earn(user, 30_00)
    quote = services.payout_quote_create(user=user)
    stripe_v2.lose_next_responses(1)
    payout = _confirm(user, quote)
    assert payout.state == Payout.State.CREATED  # the confirmation happened, its answer was lost
    assert len(stripe_v2.outbound_payments()) == 1
    Payout.objects.filter(pk=payout.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    payouts_resume()
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    assert len(stripe_v2.outbound_payments()) == 1  # the same key replayed Stripe's first answer
    assert payout.rail_reference == stripe_v2.outbound_payments()[0]["id"]
    # Confirming the same estimate again (a double click, a retried request) is the same payout.
    assert _confirm(user, quote).pk == payout.pk
    assert Payout.objects.filter(user=user).count() == 1


def test_v2_events_duplicated_and_out_of_order_settle_once(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "BR")
    earn(user, 25_00)
    payout = _confirm(user, services.payout_quote_create(user=user))
    [payment] = stripe_v2.outbound_payments()
    kind = "v2.money_management.outbound_payment"
    stripe_v2.outbound_payment_set(payment["id"], "posted")
    # "posted" arrives first, twice under one id; the older "created" event arrives last.
    first = _deliver_v2(stripe_v2, f"{kind}.posted", payment["id"], kind, event_id="evt_posted_1")
    again = _deliver_v2(stripe_v2, f"{kind}.posted", payment["id"], kind, event_id="evt_posted_1")
    _deliver_v2(stripe_v2, f"{kind}.created", payment["id"], kind)
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert WebhookEvent.objects.get(stripe_event_id="evt_posted_1").deliveries == 2
    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID
    assert Transfer.objects.filter(pk__startswith=f"payout:{payout.pk}:post").count() == 1
    assert Transfer.objects.filter(pk=f"payout:{payout.pk}:fee").count() == 1
    assert ledger_check() == []


def test_a_returned_stripe_payout_is_credited_back_once(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "PH")
    earn(user, 20_00)
    payout = _confirm(user, services.payout_quote_create(user=user))
    [payment] = stripe_v2.outbound_payments()
    kind = "v2.money_management.outbound_payment"
    stripe_v2.outbound_payment_set(payment["id"], "posted")
    _deliver_v2(stripe_v2, f"{kind}.posted", payment["id"], kind)
    assert _available(user) == 0
    stripe_v2.outbound_payment_set(payment["id"], "returned", reason="payout_method_closed")
    _deliver_v2(stripe_v2, f"{kind}.returned", payment["id"], kind)
    _deliver_v2(stripe_v2, f"{kind}.returned", payment["id"], kind)
    _deliver_v2(stripe_v2, f"{kind}.posted", payment["id"], kind)  # a stale event changes nothing
    payout.refresh_from_db()
    assert (payout.state, payout.failure_code) == ("failed", "payout_method_closed")
    assert "returned" in payout.failure_message
    assert _available(user) == 20_00
    assert Transfer.objects.filter(pk=f"payout:{payout.pk}:returned").count() == 1
    assert ledger_check() == []


def test_an_expired_quote_pays_nothing(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "IN")
    earn(user, 30_00)
    quote = services.payout_quote_create(user=user)
    PayoutQuote.objects.filter(pk=quote.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(AppError) as error:
        services.payout_request(user=user, quote_id=quote.pk)
    assert error.value.code == "quote_expired"
    assert not Payout.objects.exists()
    assert _available(user) == 30_00
    assert stripe_v2.outbound_payments() == []


def test_a_quote_that_expires_at_stripe_before_sending_returns_the_money(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "IN")
    earn(user, 30_00)
    quote = services.payout_quote_create(user=user)
    stripe_v2.expire_quotes()
    payout = _confirm(user, quote)
    assert (payout.state, payout.failure_code) == ("failed", "quote_expired")
    assert "ask for a new estimate" in payout.failure_message
    assert _available(user) == 30_00
    assert stripe_v2.outbound_payments() == []
    assert ledger_check() == []


def test_unverified_recipient_and_bounds_are_refused_with_nothing_written(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "IN", verified=False)
    earn(user, 30_00)
    with pytest.raises(AppError) as error:
        services.payout_quote_create(user=user)
    assert error.value.code == "payout_method_not_ready"
    assert "Finish Stripe's form" in error.value.message

    verified = _global_worker(stripe_v2, "IN")
    earn(verified, 20_000_00)
    with pytest.raises(AppError) as error:
        services.payout_quote_create(user=verified, amount=15_000_00)
    assert error.value.code == "amount_above_rail_maximum"
    with pytest.raises(AppError) as error:
        services.payout_request(user=verified, amount=10_00)
    assert error.value.code == "quote_required"
    assert not PayoutQuote.objects.exists()
    assert not Payout.objects.exists()


def test_unsupported_country_is_refused(stripe_v2) -> None:
    user = worker_in("VE")
    with pytest.raises(AppError) as error:
        services.stripe_global_onboarding_start(
            user=user, return_url="https://a.test/", refresh_url="https://a.test/", fresh_sign_in=signed_in_now(user)
        )
    assert error.value.code == "rail_not_available"
    assert "PayPal" in error.value.message
    assert not GlobalRecipient.objects.exists()


def test_provider_timeout_leaves_the_balance_whole(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "IN")
    earn(user, 30_00)
    stripe_v2.refuse_next_v2("/v2/money_management/payout_intents", error_type="api_error", message="down", status=503)
    with pytest.raises(AppError) as error:
        services.payout_quote_create(user=user)
    assert error.value.code == "stripe_unavailable"
    assert not PayoutQuote.objects.exists()
    assert _available(user) == 30_00


def test_onboarding_twice_keeps_one_recipient_and_the_method_goes_through_one_service(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "IN", verified=False)
    services.stripe_global_onboarding_start(
        user=user, return_url="https://a.test/", refresh_url="https://a.test/", fresh_sign_in=signed_in_now(user)
    )
    accounts_made = [o for o in stripe_v2.v2_objects.values() if o["object"] == "v2.core.account"]
    assert len(accounts_made) == 1
    method = current_method(user)
    assert method.rail == "stripe_global"
    assert method.destination == {"account": accounts_made[0]["id"], "currency": "INR"}
    created = [r for r in stripe_v2.requests if r.path == "/v2/core/accounts" and r.method == "post"]
    assert created[0].idempotency_key == f"global:user:{user.pk}:account"
    assert created[0].params["configuration"]["recipient"]["capabilities"]["bank_accounts"] == {
        "local": {"requested": True}
    }


def test_forged_v2_event_is_refused_and_stores_nothing(stripe_v2) -> None:
    payload, _, _ = stripe_v2.thin_event(
        "v2.money_management.outbound_payment.posted",
        "obp_x",
        "v2.money_management.outbound_payment",
        secret="whsec_wrong",
    )
    response = APIClient().generic(
        "POST", "/webhooks/stripe/v2/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=bad"
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_v2_event_for_an_unknown_payout_changes_nothing(stripe_v2) -> None:
    user = _global_worker(stripe_v2, "IN")
    earn(user, 30_00)
    payout = _confirm(user, services.payout_quote_create(user=user))
    [payment] = stripe_v2.outbound_payments()
    # Stripe moves the payment to someone else's recipient: the event must not settle ours.
    stripe_v2.v2_objects[payment["id"]]["to"]["recipient"] = "acct_someone_else"
    stripe_v2.v2_objects[payment["id"]]["payout_intent"] = "poi_unknown"
    stripe_v2.outbound_payment_set(payment["id"], "posted")
    kind = "v2.money_management.outbound_payment"
    _deliver_v2(stripe_v2, f"{kind}.posted", payment["id"], kind)
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    assert _available(user) == 0


# -- PayPal: Kenya and Venezuela ---------------------------------------------------------------


@pytest.mark.parametrize("country", ["KE", "VE"])
def test_paypal_payout_from_request_to_settled(paypal, country: str) -> None:
    user = _paypal_worker(country)
    earn(user, 30_00)
    quote = services.payout_quote_create(user=user)
    assert (quote.fee, quote.rate, quote.expires_at) == (60, "1", None)  # 2% of 30.00
    payout = _confirm(user, quote)
    assert payout.state == Payout.State.SUBMITTED
    batch = paypal.batches[payout.rail_reference]
    assert batch["batch_header"]["sender_batch_header"]["sender_batch_id"] == f"coop-payout-{payout.pk}"
    item = paypal.item_for_batch(payout.rail_reference)
    assert item["payout_item"]["receiver"] == "worker@example.org"
    assert item["payout_item"]["amount"] == {"value": "30.00", "currency": "EUR"}

    paypal.item_set(item["payout_item_id"], "SUCCESS")
    response = _deliver_paypal(*paypal.webhook("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", item["payout_item_id"]))
    assert response.status_code == 200, response.content
    payout.refresh_from_db()
    assert (payout.state, payout.arrived_amount) == ("paid", 30_00)
    assert Transfer.objects.get(pk=f"payout:{payout.pk}:fee").amount == 60
    assert Transfer.objects.get(pk=f"payout:{payout.pk}").credit_account == accounts.external_paypal()
    assert ledger_check() == []


def test_paypal_lost_answer_is_retried_without_paying_twice(paypal) -> None:
    user = _paypal_worker("KE")
    earn(user, 30_00)
    paypal.lose_next_responses(1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    assert payout.state == Payout.State.CREATED
    assert len(paypal.batches) == 1
    Payout.objects.filter(pk=payout.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    payouts_resume()
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    assert len(paypal.batches) == 1
    assert payout.rail_reference == next(iter(paypal.batches))


def test_paypal_timeout_keeps_the_payout_for_a_retry(paypal) -> None:
    user = _paypal_worker("KE")
    earn(user, 30_00)
    paypal.time_out_next(1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    assert payout.state == Payout.State.CREATED
    assert paypal.batches == {}
    assert _available(user) == 0  # reserved, on its way; the resume job sends it


def test_paypal_webhooks_duplicated_out_of_order_and_returned_credit_back_once(paypal) -> None:
    user = _paypal_worker("VE")
    earn(user, 30_00)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    item_id = paypal.item_for_batch(payout.rail_reference)["payout_item_id"]
    paypal.item_set(item_id, "SUCCESS")
    succeeded = paypal.webhook("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", item_id, event_id="WH-1")
    assert _deliver_paypal(*succeeded).json()["duplicate"] is False
    assert _deliver_paypal(*succeeded).json()["duplicate"] is True
    assert ProviderWebhookEvent.objects.get(event_id="WH-1").deliveries == 2
    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID
    assert _available(user) == 0

    paypal.item_set(item_id, "RETURNED")
    returned = paypal.webhook("PAYMENT.PAYOUTS-ITEM.RETURNED", item_id, event_id="WH-2")
    late_success = paypal.webhook("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", item_id, event_id="WH-0")
    _deliver_paypal(*returned)
    _deliver_paypal(*returned)
    _deliver_paypal(*late_success)  # the current status is RETURNED: nothing more happens
    payout.refresh_from_db()
    assert (payout.state, payout.failure_code) == ("failed", "returned")
    assert _available(user) == 30_00
    assert Transfer.objects.filter(pk=f"payout:{payout.pk}:returned").count() == 1
    assert ledger_check() == []


def test_paypal_failed_item_returns_the_money_before_it_was_paid(paypal) -> None:
    user = _paypal_worker("KE")
    earn(user, 30_00)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    item_id = paypal.item_for_batch(payout.rail_reference)["payout_item_id"]
    paypal.item_set(item_id, "FAILED", error="RECEIVER_UNREGISTERED")
    _deliver_paypal(*paypal.webhook("PAYMENT.PAYOUTS-ITEM.FAILED", item_id))
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert "receiver unregistered" in payout.failure_message
    assert _available(user) == 30_00
    assert not Transfer.objects.filter(pk=f"payout:{payout.pk}:fee").exists()


def test_paypal_forged_webhook_and_unknown_payout(paypal) -> None:
    user = _paypal_worker("KE")
    earn(user, 30_00)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    item_id = paypal.item_for_batch(payout.rail_reference)["payout_item_id"]
    paypal.item_set(item_id, "SUCCESS")
    response = _deliver_paypal(*paypal.webhook("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", item_id, forged=True))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_signature_invalid"
    assert not ProviderWebhookEvent.objects.exists()

    # An item that names no payout of ours: recorded, nothing changed.
    paypal.items[item_id]["payout_item"]["sender_item_id"] = "payout:999999"
    response = _deliver_paypal(*paypal.webhook("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", item_id))
    assert response.status_code == 200
    assert response.json()["note"] == "No payout of ours matches this PayPal item; nothing was changed."
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED


def test_paypal_not_configured_is_refused_with_the_variables(settings) -> None:
    settings.PAYPAL_CLIENT_ID = ""
    user = worker_in("KE")
    with pytest.raises(AppError) as error:
        services.payout_method_set(
            user=user, rail="paypal", details={"email": "a@example.org"}, fresh_sign_in=signed_in_now(user)
        )
    assert error.value.code == "rail_not_configured"
    assert "not configured on this server" in error.value.message
    assert error.value.details["settings"] == ["PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"]


# -- Wise: Pakistan and Bangladesh ---------------------------------------------------------------


@pytest.fixture
def wise(settings) -> Iterator[FakeWise]:  # type: ignore[no-untyped-def]
    fake = FakeWise()
    settings.WISE_API_TOKEN = fake.token
    settings.WISE_PROFILE_ID = fake.profile_id
    settings.WISE_WEBHOOK_PUBLIC_KEY = fake.public_key_pem
    settings.WISE_API_BASE = "https://api.wise.test"
    wise_client.use_transport(fake)
    try:
        yield fake
    finally:
        wise_client.use_transport(None)


def _wise_worker(country: str) -> User:
    user = worker_in(country)
    details = (
        {"account_holder": "Ayesha Khan", "iban": "PK36SCBL0000001123456702"}
        if country == "PK"
        else {"account_holder": "Rahim Uddin", "bank_code": "BRAC", "branch_code": "0601", "account_number": "1501202"}
    )
    services.payout_method_set(user=user, rail="wise", details=details, fresh_sign_in=signed_in_now(user))
    destination_settled(user)
    return user


def _deliver_wise(headers: dict[str, str], body: bytes) -> Any:
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return APIClient().generic("POST", "/webhooks/wise/", body, content_type="application/json", **extra)


@pytest.mark.parametrize(("country", "currency"), [("PK", "PKR"), ("BD", "BDT")])
def test_wise_payout_from_request_to_settled(wise, country: str, currency: str) -> None:
    user = _wise_worker(country)
    method = current_method(user)
    # Only Wise's recipient id and a masked hint are kept, never the account number.
    assert set(method.destination) == {"recipient", "currency", "country"}
    assert method.destination["currency"] == currency
    recipient = wise.recipients[method.destination["recipient"]]
    assert recipient["type"] == {"PK": "pakistan", "BD": "bangladesh"}[country]
    earn(user, 50_00)
    quote = services.payout_quote_create(user=user)
    assert (quote.fee, quote.destination_currency) == (78, currency)  # 0.65% + 0.45
    payout = _confirm(user, quote)
    assert payout.state == Payout.State.SUBMITTED
    assert payout.rail_reference in wise.funded
    transfer = wise.transfers[payout.rail_reference]
    assert transfer["reference"] == f"COOP PAYOUT {payout.pk}"
    wise.transfer_set(payout.rail_reference, "outgoing_payment_sent")
    response = _deliver_wise(*wise.webhook(payout.rail_reference, "outgoing_payment_sent"))
    assert response.status_code == 200, response.content
    payout.refresh_from_db()
    assert (payout.state, payout.arrived_amount) == ("paid", quote.destination_amount)
    assert Transfer.objects.get(pk=f"payout:{payout.pk}").credit_account == accounts.external_wise()
    assert ledger_check() == []


def test_wise_lost_answer_makes_one_transfer_and_forged_webhooks_are_refused(wise) -> None:
    user = _wise_worker("PK")
    earn(user, 50_00)
    quote = services.payout_quote_create(user=user)
    wise.lose_next_responses(1)
    payout = _confirm(user, quote)
    assert payout.state == Payout.State.CREATED
    Payout.objects.filter(pk=payout.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    payouts_resume()
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    assert len(wise.transfers) == 1
    response = _deliver_wise(*wise.webhook(payout.rail_reference, "outgoing_payment_sent", forged=True))
    assert response.status_code == 400
    assert not ProviderWebhookEvent.objects.exists()


def test_wise_expired_quote_and_bounced_transfer(wise) -> None:
    user = _wise_worker("BD")
    earn(user, 50_00)
    quote = services.payout_quote_create(user=user)
    wise.expire_quotes()
    payout = _confirm(user, quote)
    assert (payout.state, payout.failure_code) == ("failed", "quote_expired")
    assert _available(user) == 50_00

    payout = _confirm(user, services.payout_quote_create(user=user))
    wise.transfer_set(payout.rail_reference, "outgoing_payment_sent")
    _deliver_wise(*wise.webhook(payout.rail_reference, "outgoing_payment_sent"))
    wise.transfer_set(payout.rail_reference, "bounced_back")
    bounced = wise.webhook(payout.rail_reference, "bounced_back")
    _deliver_wise(*bounced)
    assert _deliver_wise(*bounced).json()["duplicate"] is True
    payout.refresh_from_db()
    assert (payout.state, payout.failure_code) == ("failed", "bounced_back")
    assert _available(user) == 50_00
    assert Transfer.objects.filter(pk=f"payout:{payout.pk}:returned").count() == 1
    assert ledger_check() == []


def test_wise_bad_bank_details_write_nothing(wise) -> None:
    user = worker_in("PK")
    with pytest.raises(AppError) as error:
        services.payout_method_set(
            user=user,
            rail="wise",
            details={"account_holder": "A", "iban": "PK00BAD"},
            fresh_sign_in=signed_in_now(user),
        )
    assert error.value.code == "invalid_destination"
    assert wise.recipients == {}
    assert not current_method_exists(user)


def current_method_exists(user: User) -> bool:
    from payouts.models import PayoutMethod

    return PayoutMethod.objects.filter(user=user).exists()


# -- reconciliation and ledger_verify ----------------------------------------------------------


def test_lost_webhooks_are_made_good_by_asking_each_provider(stripe_v2, paypal, wise) -> None:
    from payouts.reconciliation import provider_payouts_reconcile

    global_worker = _global_worker(stripe_v2, "IN")
    paypal_worker = _paypal_worker("VE")
    wise_worker = _wise_worker("PK")
    payouts = []
    for user in (global_worker, paypal_worker, wise_worker):
        earn(user, 40_00)
        payouts.append(_confirm(user, services.payout_quote_create(user=user)))
    [payment] = stripe_v2.outbound_payments()
    stripe_v2.outbound_payment_set(payment["id"], "posted")
    paypal.item_set(paypal.item_for_batch(payouts[1].rail_reference)["payout_item_id"], "SUCCESS")
    wise.transfer_set(payouts[2].rail_reference, "outgoing_payment_sent")
    # No webhook arrives. Too recent for the hourly run: nothing is asked.
    assert provider_payouts_reconcile() == {}
    Payout.objects.update(submitted_at=timezone.now() - timedelta(hours=2))
    assert provider_payouts_reconcile() == {"stripe_global": 1, "paypal": 1, "wise": 1}
    assert [Payout.objects.get(pk=p.pk).state for p in payouts] == ["paid", "paid", "paid"]
    assert provider_payouts_reconcile() == {}  # settled payouts are not asked again
    assert ledger_check() == []


def test_ledger_verify_checks_every_payout_against_its_ledger_rows(paypal) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from payouts.reconciliation import payouts_ledger_check

    user = _paypal_worker("KE")
    earn(user, 30_00)
    payout = _confirm(user, services.payout_quote_create(user=user))
    services.payout_pay(payout_id=payout.pk)
    assert payouts_ledger_check() == []
    call_command("ledger_verify")
    # A payout row that disagrees with the ledger (as a bad hand edit would leave it):
    Payout.objects.filter(pk=payout.pk).update(state=Payout.State.SUBMITTED)
    assert payouts_ledger_check() == [f"payout {payout.pk} (paypal) is submitted but its reservation is resolved"]
    with pytest.raises(CommandError):
        call_command("ledger_verify")


def test_the_statement_shows_the_estimate_and_what_arrived(stripe_v2) -> None:
    from payouts.selectors import worker_statement

    user = _global_worker(stripe_v2, "IN")
    earn(user, 40_00)
    payout = _confirm(user, services.payout_quote_create(user=user))
    [payment] = stripe_v2.outbound_payments()
    stripe_v2.outbound_payment_set(payment["id"], "posted")
    kind = "v2.money_management.outbound_payment"
    _deliver_v2(stripe_v2, f"{kind}.posted", payment["id"], kind)
    lines = [(line.kind, line.description, line.amount) for line in worker_statement(user=user).lines]
    display = payout.display
    assert lines[1:] == [
        ("payout", f"Payout #{payout.pk} to {display} (estimated 3610.00 INR at 90.2500 INR per EUR)", -40_00),
        ("payout_paid", f"Payout #{payout.pk} paid to {display}: 3610.00 INR arrived", 0),
    ]


# -- the REST API ---------------------------------------------------------------------------------


def test_api_quote_then_confirm_and_coverage(stripe_v2) -> None:
    user = worker_in("BR")
    client = APIClient()
    client.force_authenticate(user)
    started = client.post(
        "/api/payouts/methods/stripe-global/",
        # A new destination needs a fresh sign-in: the password, through the API.
        {"return_url": "https://coop.test/back", "refresh_url": "https://coop.test/back", "password": PASSWORD},
        format="json",
    )
    assert started.status_code == 201, started.content
    assert started.json()["payouts_enabled"] is False
    assert started.json()["onboarding_url"].startswith("https://connect.stripe.com/")
    refused = client.post("/api/payouts/quotes/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payout_method_not_ready"

    stripe_v2.recipient_activate(GlobalRecipient.objects.get(user=user).stripe_account_id)
    _deliver_v2(
        stripe_v2,
        "v2.core.account[configuration.recipient].capability_status_updated",
        GlobalRecipient.objects.get(user=user).stripe_account_id,
        "v2.core.account",
    )
    destination_settled(user)
    earn(user, 20_00)
    quote = client.post("/api/payouts/quotes/", {"amount": "20.00"}, format="json")
    assert quote.status_code == 201, quote.content
    body = quote.json()
    assert (body["amount"], body["fee"], body["fee_bearer"], body["total_from_balance"]) == (
        "20.00",
        "0.45",
        "coop",
        "20.00",
    )
    assert (body["destination_amount"], body["destination_currency"]) == ("108.40", "BRL")
    assert client.post("/api/payouts/payouts/", {"amount": "20.00"}, format="json").json()["error"]["code"] == (
        "quote_required"
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        created = client.post("/api/payouts/payouts/", {"quote": body["id"]}, format="json")
    assert created.status_code == 201, created.content
    payout = created.json()
    assert (payout["fee"], payout["rate"], payout["destination_amount"], payout["destination_currency"]) == (
        "0.45",
        "5.4200",
        "108.40",
        "BRL",
    )
    assert payout["arrived_amount"] is None

    other = APIClient()
    other.force_authenticate(worker_in("BR"))
    stolen = other.post("/api/payouts/payouts/", {"quote": body["id"]}, format="json")
    assert stolen.status_code == 404
    assert stolen.json()["error"]["code"] == "quote_not_found"


def test_amount_below_the_rails_minimum_and_an_unfunded_currency_are_refused(paypal, settings) -> None:
    from governance.models import Rule, RuleVersion

    RuleVersion.objects.create(
        rule=Rule.objects.get(key="payout_minimum_floor"), value=0, effective_at=timezone.now() - timedelta(seconds=1)
    )
    cache.clear()
    user = _paypal_worker("KE")
    earn(user, 30_00)
    with pytest.raises(AppError) as error:
        services.payout_quote_create(user=user, amount=50)
    assert error.value.code == "amount_below_rail_minimum"
    assert "at least 1.00 EUR" in error.value.message

    settings.PLATFORM_CURRENCY = "CHF"  # a co-op whose books are in a currency PayPal is not funded in here
    with pytest.raises(AppError) as error:
        services.payout_quote_create(user=user)
    assert error.value.code == "currency_not_supported"
    assert not PayoutQuote.objects.exists()
    assert not Payout.objects.exists()
