"""The fake Stripe behaves like Stripe where the platform's safety depends on it,
seen through the real ``stripe`` library."""

import pytest
import stripe

from tests.fakes.stripe_api import FakeStripe, decode_form


def client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_fake", http_client=fake, max_network_retries=0)


def test_same_idempotency_key_and_parameters_replay_the_first_response() -> None:
    fake = FakeStripe()
    params = {"amount": 5000, "currency": "eur", "metadata": {"deposit_id": "7"}}
    first = client(fake).v1.payment_intents.create(params=params, options={"idempotency_key": "k-1"})
    again = client(fake).v1.payment_intents.create(params=params, options={"idempotency_key": "k-1"})
    assert again.id == first.id
    assert len(fake.objects["payment_intent"]) == 1
    assert [r.replayed for r in fake.requests] == [False, True]


def test_same_key_with_other_parameters_is_stripes_idempotency_error() -> None:
    fake = FakeStripe()
    client(fake).v1.payment_intents.create(params={"amount": 100, "currency": "eur"}, options={"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError):
        client(fake).v1.payment_intents.create(
            params={"amount": 200, "currency": "eur"}, options={"idempotency_key": "k"}
        )
    assert [i["amount"] for i in fake.objects["payment_intent"].values()] == [100]


def test_a_lost_response_still_writes_and_the_retry_gets_the_same_object() -> None:
    fake = FakeStripe()
    params = {"amount": 100, "currency": "eur"}
    fake.lose_next_responses()
    with pytest.raises(stripe.APIConnectionError):
        client(fake).v1.payment_intents.create(params=params, options={"idempotency_key": "lost"})
    assert len(fake.objects["payment_intent"]) == 1
    retried = client(fake).v1.payment_intents.create(params=params, options={"idempotency_key": "lost"})
    assert retried.id == next(iter(fake.objects["payment_intent"]))
    assert len(fake.objects["payment_intent"]) == 1


def test_answers_have_stripes_published_shape_with_the_requested_values() -> None:
    fake = FakeStripe()
    intent = client(fake).v1.payment_intents.create(params={"amount": 1234, "currency": "eur"})
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.amount, intent.currency, intent.status) == (1234, "eur", "requires_payment_method")
    assert intent.client_secret.startswith(intent.id + "_secret_")
    assert intent.automatic_payment_methods.enabled is True  # from the fixture


def test_refund_more_than_the_charge_is_refused_without_writing() -> None:
    fake = FakeStripe()
    intent = client(fake).v1.payment_intents.create(params={"amount": 1000, "currency": "eur"})
    fake.payment_intent_succeed(intent.id)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(fake).v1.refunds.create(params={"payment_intent": intent.id, "amount": 1001})
    assert refused.value.code == "amount_too_large"
    assert fake.objects["refund"] == {}
    assert [t["type"] for t in fake.balance_transactions] == ["charge"]


def test_connect_transfer_and_payout_for_the_payouts_app() -> None:
    fake = FakeStripe()
    account = client(fake).v1.accounts.create(params={"type": "express", "country": "DE"})
    link = client(fake).v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://x",
            "return_url": "https://y",
        }
    )
    transfer = client(fake).v1.transfers.create(
        params={"amount": 700, "currency": "eur", "destination": account.id}, options={"idempotency_key": "t1"}
    )
    payout = client(fake).v1.payouts.create(
        params={"amount": 700, "currency": "eur"}, options={"stripe_account": account.id, "idempotency_key": "p1"}
    )
    assert link.url.startswith("https://")
    assert (transfer.destination, transfer.amount) == (account.id, 700)
    assert fake.objects["payout"][payout.id]["stripe_account"] == account.id
    assert fake.payout_settle(payout.id, status="failed")["failure_code"] == "account_closed"
    assert [t["type"] for t in fake.balance_transactions] == ["transfer"]


def test_unauthenticated_requests_are_refused() -> None:
    fake = FakeStripe()
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("rk_wrong", http_client=fake).v1.balance.retrieve()


def test_form_decoding_restores_nested_data() -> None:
    assert decode_form("a=1&metadata[x]=y&expand[0]=p&expand[1]=q&created[gte]=5") == {
        "a": "1",
        "metadata": {"x": "y"},
        "expand": ["p", "q"],
        "created": {"gte": "5"},
    }
