"""Issue 19 point 8: each webhook endpoint secret delivers only its own event types and
accounts; a payment on a connected account never credits a platform deposit."""

import json

import pytest

from ledger.models import Transfer
from ledger.selectors import ledger_check
from payments import services, webhooks
from payments.models import Deposit, WebhookEvent
from payments.selectors import organisation_balance
from tests.fakes.fixtures import CONNECT_WEBHOOK_SECRET, WEBHOOK_SECRET
from tests.payments.factories import deliver

pytestmark = pytest.mark.django_db


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(response.content)["error"]


@pytest.fixture
def pending_deposit(organisation, requester, fake_stripe) -> Deposit:
    return services.deposit_stripe_start(organisation=organisation, actor=requester, amount=30_00)


def _nothing_happened(deposit: Deposit) -> None:
    deposit.refresh_from_db()
    assert (deposit.status, deposit.credited_amount) == ("pending", 0)
    assert not WebhookEvent.objects.exists()
    assert not Transfer.objects.exists()
    assert organisation_balance(organisation=deposit.organisation).available == 0
    assert ledger_check() == []


@pytest.mark.parametrize("secret", [WEBHOOK_SECRET, CONNECT_WEBHOOK_SECRET])
def test_a_connected_accounts_payment_never_credits_a_platform_deposit(fake_stripe, pending_deposit, secret) -> None:
    # A connected account made its own PaymentIntent carrying our deposit's metadata.
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    event = fake_stripe.event("payment_intent.succeeded", intent, account="acct_1AttackerConnected")

    response = deliver(event, secret=secret)

    assert response.status_code == 400
    body = _error(response)
    assert body["code"] == "webhook_event_out_of_scope"
    assert body["message"] == (
        f"Event {event['id']} refused: "
        + (
            "an event of a connected account came signed with the platform endpoint's secret."
            if secret == WEBHOOK_SECRET
            else "the connect endpoint does not deliver payment_intent.succeeded events."
        )
    )
    _nothing_happened(pending_deposit)


def test_the_connect_secret_cannot_deliver_platform_events(fake_stripe, pending_deposit) -> None:
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    response = deliver(fake_stripe.event("payment_intent.succeeded", intent), secret=CONNECT_WEBHOOK_SECRET)
    assert response.status_code == 400
    assert _error(response)["code"] == "webhook_event_out_of_scope"
    _nothing_happened(pending_deposit)


def test_the_platform_secret_cannot_deliver_connect_account_events(fake_stripe, pending_deposit) -> None:
    event = fake_stripe.event("account.updated", {"id": "acct_1X", "object": "account"}, account="acct_1X")
    response = deliver(event, secret=WEBHOOK_SECRET)
    assert response.status_code == 400
    assert _error(response)["message"].endswith("the platform endpoint does not deliver account.updated events.")
    unnamed = fake_stripe.event("account.updated", {"id": "acct_1X", "object": "account"})
    assert deliver(unnamed, secret=WEBHOOK_SECRET).status_code == 400
    _nothing_happened(pending_deposit)


def test_each_secret_still_delivers_its_own_events(fake_stripe, pending_deposit) -> None:
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    assert deliver(fake_stripe.event("payment_intent.succeeded", intent), secret=WEBHOOK_SECRET).status_code == 200
    connect = fake_stripe.event("account.updated", {"id": "acct_1X", "object": "account"}, account="acct_1X")
    assert deliver(connect, secret=CONNECT_WEBHOOK_SECRET).status_code == 200
    pending_deposit.refresh_from_db()
    assert pending_deposit.status == Deposit.Status.SUCCEEDED
    assert WebhookEvent.objects.count() == 2


def test_a_stored_connected_account_payment_is_not_credited_when_processed(fake_stripe, pending_deposit) -> None:
    """Defence in depth for events stored before the endpoint check: the handler itself
    ignores payment events that name a connected account."""
    intent = fake_stripe.payment_intent_succeed(pending_deposit.stripe_payment_intent_id)
    event = fake_stripe.event("payment_intent.succeeded", intent, account="acct_1AttackerConnected")
    stored = WebhookEvent.objects.create(
        stripe_event_id=event["id"],
        type=event["type"],
        account="acct_1AttackerConnected",
        event_created=event["created"],
        payload=event,
    )
    assert webhooks.webhook_event_process(webhook_event_id=stored.pk).status == WebhookEvent.Status.PROCESSED
    pending_deposit.refresh_from_db()
    assert (pending_deposit.status, pending_deposit.credited_amount) == ("pending", 0)
    assert not Transfer.objects.exists()
