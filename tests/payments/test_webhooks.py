"""The Stripe webhook endpoint: verified, stored once, processed with a recorded status,
and the same final state whatever the order or number of deliveries."""

import json

import pytest
from django.test import TestCase

from ledger.models import Transfer
from payments import services, webhooks
from payments.jobs import webhook_events_retry
from payments.models import Deposit, WebhookEvent
from payments.selectors import organisation_balance
from tests.fakes.stripe_api import sign
from tests.payments.factories import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_deposit(organisation, requester, fake_stripe) -> Deposit:
    return services.deposit_stripe_start(organisation=organisation, actor=requester, amount=30_00)


def test_bad_signature_is_refused_and_nothing_is_stored(api, fake_stripe, pending_deposit) -> None:
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    payload = json.dumps(fake_stripe.event("payment_intent.succeeded", intent)).encode()
    for header in (sign(payload, "whsec_someone_else"), "", "t=1,v1=deadbeef"):
        response = api.generic(
            "POST", "/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "webhook_signature_invalid"
    assert not WebhookEvent.objects.exists()
    pending_deposit.refresh_from_db()
    assert pending_deposit.status == Deposit.Status.PENDING
    assert not Transfer.objects.exists()


def test_the_endpoint_needs_no_session_or_csrf_token(fake_stripe, pending_deposit) -> None:
    from django.test import Client

    from tests.fakes.fixtures import WEBHOOK_SECRET
    from tests.fakes.stripe_api import signed_event

    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    payload, header = signed_event(fake_stripe.event("payment_intent.succeeded", intent), WEBHOOK_SECRET)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client(enforce_csrf_checks=True).post(
            "/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False, "status": "received"}
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED


def test_a_replayed_webhook_is_stored_once_and_credits_once(organisation, fake_stripe, pending_deposit) -> None:
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    event = fake_stripe.event("payment_intent.succeeded", intent)

    first = deliver(event)
    second = deliver(event)
    third = deliver(event)

    assert [json.loads(r.content)["duplicate"] for r in (first, second, third)] == [False, True, True]
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_event_id, stored.status, stored.deliveries, stored.attempts) == (
        event["id"],
        "processed",
        3,
        1,
    )
    assert organisation_balance(organisation=organisation).available == 3000
    assert Transfer.objects.filter(code="deposit_stripe").count() == 1


def test_the_same_payment_reported_by_two_events_credits_once(organisation, fake_stripe, pending_deposit) -> None:
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    deliver(fake_stripe.event("payment_intent.succeeded", intent))
    deliver(fake_stripe.event("payment_intent.succeeded", intent))  # Stripe resent under a new id
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 2
    assert organisation_balance(organisation=organisation).available == 3000


def test_out_of_order_failure_after_success_leaves_the_deposit_succeeded(
    organisation, fake_stripe, pending_deposit
) -> None:
    intent_id = pending_deposit.stripe_payment_intent_id
    failed_first = fake_stripe.event("payment_intent.payment_failed", fake_stripe.payment_intent_fail(intent_id))
    succeeded = fake_stripe.event("payment_intent.succeeded", fake_stripe.payment_intent_succeed(intent_id))

    deliver(succeeded)
    deliver(failed_first)  # the older event arrives last

    pending_deposit.refresh_from_db()
    assert (pending_deposit.status, pending_deposit.credited_amount) == ("succeeded", 3000)
    assert organisation_balance(organisation=organisation).available == 3000
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_in_order_failure_then_success_ends_in_the_same_state(organisation, fake_stripe, pending_deposit) -> None:
    intent_id = pending_deposit.stripe_payment_intent_id
    deliver(fake_stripe.event("payment_intent.payment_failed", fake_stripe.payment_intent_fail(intent_id)))
    pending_deposit.refresh_from_db()
    assert (pending_deposit.status, pending_deposit.failure_message) == ("failed", "Your card was declined.")

    deliver(fake_stripe.event("payment_intent.succeeded", fake_stripe.payment_intent_succeed(intent_id)))

    pending_deposit.refresh_from_db()
    assert (pending_deposit.status, pending_deposit.credited_amount, pending_deposit.failure_message) == (
        "succeeded",
        3000,
        "",
    )
    assert organisation_balance(organisation=organisation).available == 3000


def test_an_event_type_nobody_handles_is_recorded_as_processed(fake_stripe) -> None:
    deliver(fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"}))
    stored = WebhookEvent.objects.get()
    assert (stored.type, stored.status, stored.error) == ("customer.created", "processed", "")


def test_a_failing_handler_is_recorded_and_a_later_retry_processes_it(
    organisation, fake_stripe, pending_deposit, monkeypatch
) -> None:
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)

    def broken(event):  # type: ignore[no-untyped-def]
        Deposit.objects.filter(pk=pending_deposit.pk).update(failure_message="half-done")
        raise RuntimeError("database went away")

    monkeypatch.setitem(webhooks._loaded or webhooks.handlers(), "payment_intent.succeeded", broken)
    deliver(fake_stripe.event("payment_intent.succeeded", intent))

    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts, stored.error) == ("failed", 1, "RuntimeError: database went away")
    pending_deposit.refresh_from_db()
    assert (pending_deposit.status, pending_deposit.failure_message) == ("pending", "")  # rolled back

    monkeypatch.undo()
    WebhookEvent.objects.update(received_at=stored.received_at.replace(year=2020))
    assert webhook_events_retry() == 1

    stored.refresh_from_db()
    assert (stored.status, stored.attempts, stored.error) == ("processed", 2, "")
    assert organisation_balance(organisation=organisation).available == 3000


def test_other_apps_register_handlers_by_type_or_prefix(fake_stripe, monkeypatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(webhooks, "_loaded", None)
    monkeypatch.setattr(webhooks, "HANDLER_MODULES", ("tests.payments.handlers_for_test",))
    import sys
    import types

    module = types.ModuleType("tests.payments.handlers_for_test")
    module.STRIPE_EVENT_HANDLERS = {"transfer.*": lambda event: seen.append(event.type)}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests.payments.handlers_for_test", module)

    deliver(fake_stripe.event("transfer.created", {"id": "tr_1", "object": "transfer"}))
    deliver(fake_stripe.event("transfer.reversed", {"id": "tr_1", "object": "transfer"}))

    assert seen == ["transfer.created", "transfer.reversed"]
    monkeypatch.setattr(webhooks, "_loaded", None)


def test_a_cancelled_intent_marks_the_deposit_failed(fake_stripe, pending_deposit) -> None:
    intent = dict(fake_stripe.get("payment_intent", pending_deposit.stripe_payment_intent_id))
    intent.update(status="canceled", cancellation_reason="abandoned")
    deliver(fake_stripe.event("payment_intent.canceled", intent))
    pending_deposit.refresh_from_db()
    assert (pending_deposit.status, pending_deposit.failure_message) == (
        "failed",
        "The payment was cancelled (abandoned).",
    )
    assert not Transfer.objects.exists()


def test_connect_events_signed_with_the_connect_endpoint_secret_are_accepted(api, fake_stripe, settings) -> None:
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_connect_endpoint"
    account = fake_stripe.event(
        "account.updated", {"id": "acct_unknown_to_us", "object": "account"}, account="acct_unknown_to_us"
    )
    payload = json.dumps(account).encode()
    accepted = api.generic(
        "POST",
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, "whsec_connect_endpoint"),
    )
    assert accepted.status_code == 200
    assert WebhookEvent.objects.filter(stripe_event_id=account["id"]).count() == 1
    refused = api.generic(
        "POST",
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, "whsec_neither_endpoint"),
    )
    assert refused.status_code == 400
    assert WebhookEvent.objects.count() == 1
