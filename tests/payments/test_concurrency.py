"""Races on real PostgreSQL row locks: money is never promised twice."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from core.errors import AppError
from ledger.models import Transfer
from payments import services, webhooks
from payments.models import Deposit, WebhookEvent, Withdrawal
from payments.selectors import organisation_balance
from payments.stripe_gateway import StripeEvent
from tests.payments.factories import fund_by_bank

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_withdrawals_of_more_than_half_cannot_both_pass(organisation, requester) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=100_00)

    def withdraw() -> Withdrawal:
        return services.withdrawal_request(
            organisation=organisation,
            actor=requester,
            amount=60_00,
            method="bank",
            iban="DE89370400440532013000",
            account_holder="Lab",
        )

    results = race(withdraw, withdraw, withdraw)

    refused = [r for r in results if isinstance(r, AppError)]
    assert len(refused) == 2 and {r.code for r in refused} == {"insufficient_funds"}
    assert Withdrawal.objects.count() == 1
    assert organisation_balance(organisation=organisation).available == 40_00


def test_the_same_event_processed_by_two_workers_at_once_credits_once(organisation, requester, fake_stripe) -> None:
    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=80_00)
    intent = fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id)
    event = fake_stripe.event("payment_intent.succeeded", intent)
    stored = WebhookEvent.objects.create(
        stripe_event_id=event["id"], type=event["type"], event_created=event["created"], payload=event
    )

    results = race(*[lambda: webhooks.webhook_event_process(webhook_event_id=stored.pk)] * 4)

    assert {r.status for r in results} == {"processed"}
    stored.refresh_from_db()
    assert stored.attempts == 1
    assert Deposit.objects.get().status == Deposit.Status.SUCCEEDED
    assert Transfer.objects.filter(code="deposit_stripe").count() == 1
    assert organisation_balance(organisation=organisation).available == 80_00


def test_two_deliveries_of_one_event_at_once_store_it_once(organisation, requester, fake_stripe) -> None:
    event = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})
    verified = StripeEvent(id=event["id"], type=event["type"], created=event["created"], account="", payload=event)

    results = race(*[lambda: webhooks.webhook_event_receive(event=verified)] * 4)

    assert sorted(created for _, created in results) == [False, False, False, True]
    stored = WebhookEvent.objects.get()
    assert (stored.deliveries, stored.status) == (4, "processed")


def test_concurrent_retries_of_one_withdrawal_token_reserve_once(organisation, requester) -> None:
    """Issue 19 point 7: retries of a withdrawal with one token answer the first one."""
    fund_by_bank(organisation=organisation, actor=requester, amount=100_00)

    def withdraw() -> Withdrawal:
        return services.withdrawal_request(
            organisation=organisation,
            actor=requester,
            amount=60_00,
            method="bank",
            iban="DE89370400440532013000",
            account_holder="Lab",
            token="retry-7",
        )

    results = race(withdraw, withdraw, withdraw, withdraw)

    assert all(isinstance(r, Withdrawal) for r in results), results
    assert {r.pk for r in results} == {Withdrawal.objects.get().pk}
    assert organisation_balance(organisation=organisation).available == 40_00


def test_concurrent_confirmations_of_one_bank_deposit_credit_once(organisation, requester) -> None:
    """Issue 19 point 7: a retried confirmation is a clean 409, never a second credit or a 500."""
    from tests.payments.factories import treasurer

    deposit = services.deposit_bank_start(organisation=organisation, actor=requester, amount=50_00)
    confirmer = treasurer()

    def confirm() -> Deposit:
        return services.deposit_bank_confirm(deposit=deposit, amount=50_00, actor=confirmer)

    results = race(confirm, confirm, confirm)

    confirmed = [r for r in results if isinstance(r, Deposit)]
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(confirmed) == 1 and len(refused) == 2
    assert {(r.code, r.status_code) for r in refused} == {("invalid_state", 409)}
    assert Transfer.objects.filter(code="deposit_bank").count() == 1
    assert organisation_balance(organisation=organisation).available == 50_00
