"""Withdrawals: never more than is available, refunded through Stripe exactly once,
even when the process dies between Stripe's answer and the ledger."""

import pytest
from django.test import TestCase
from django.utils import timezone

from core.errors import AppError
from ledger.models import Transfer
from payments import services
from payments.jobs import withdrawal_process, withdrawals_resume
from payments.models import Deposit, Withdrawal, WithdrawalRefund
from payments.selectors import organisation_balance
from tests.payments.factories import fund_by_bank, fund_by_card, treasurer

pytestmark = pytest.mark.django_db


def request(organisation, requester, **kwargs) -> Withdrawal:  # type: ignore[no-untyped-def]
    with TestCase.captureOnCommitCallbacks(execute=True):
        withdrawal = services.withdrawal_request(organisation=organisation, actor=requester, **kwargs)
    withdrawal.refresh_from_db()
    return withdrawal


def available(organisation) -> int:  # type: ignore[no-untyped-def]
    return organisation_balance(organisation=organisation).available


def refund_requests(fake):  # type: ignore[no-untyped-def]
    return [r for r in fake.requests if r.path == "/v1/refunds"]


def test_stripe_withdrawal_refunds_through_stripe(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)

    withdrawal = request(organisation, requester, amount=60_00, method="stripe_refund")

    assert (withdrawal.status, withdrawal.paid_amount) == ("completed", 6000)
    (refund,) = fake_stripe.objects["refund"].values()
    assert (refund["amount"], refund["payment_intent"], refund["status"]) == (
        6000,
        deposit.stripe_payment_intent_id,
        "succeeded",
    )
    assert refund["metadata"] == {"withdrawal_id": str(withdrawal.pk), "deposit_reference": deposit.reference}
    assert refund_requests(fake_stripe)[0].idempotency_key == f"withdrawal:{withdrawal.pk}:refund:{deposit.pk}"
    assert available(organisation) == 4000
    deposit.refresh_from_db()
    assert deposit.refunded_amount == 6000
    assert Transfer.objects.get(pk=f"withdrawal:{withdrawal.pk}:post").amount == 6000


def test_a_withdrawal_spreads_over_card_deposits_oldest_first(organisation, requester, fake_stripe) -> None:
    first = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=30_00)
    second = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=20_00)

    withdrawal = request(organisation, requester, amount=45_00, method="stripe_refund")

    parts = {(p.deposit_id, p.amount, p.status) for p in withdrawal.refunds.all()}
    assert parts == {(first.pk, 3000, "succeeded"), (second.pk, 1500, "succeeded")}
    assert sorted(r["amount"] for r in fake_stripe.objects["refund"].values()) == [1500, 3000]
    assert available(organisation) == 500


def test_crash_after_stripe_refunded_and_before_the_ledger_is_completed_by_a_retry_without_paying_twice(
    organisation, requester, fake_stripe, monkeypatch
) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    real_record = services._refund_part_record

    def crash(**kwargs):  # type: ignore[no-untyped-def]
        raise SystemExit("worker killed after Stripe answered")

    monkeypatch.setattr(services, "_refund_part_record", crash)
    with pytest.raises(SystemExit):
        request(organisation, requester, amount=70_00, method="stripe_refund")
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert len(fake_stripe.objects["refund"]) == 1  # Stripe did refund
    assert not Transfer.objects.filter(pk=f"withdrawal:{withdrawal.pk}:post").exists()
    assert available(organisation) == 3000  # reserved, not yet posted

    monkeypatch.setattr(services, "_refund_part_record", real_record)
    Withdrawal.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=5))
    assert withdrawals_resume() == 1
    assert withdrawals_resume() == 0

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.paid_amount) == ("completed", 7000)
    assert len(fake_stripe.objects["refund"]) == 1
    first, retry = refund_requests(fake_stripe)
    assert first.idempotency_key == retry.idempotency_key and retry.replayed
    assert sum(t["amount"] for t in fake_stripe.balance_transactions) == 3000
    assert available(organisation) == 3000
    assert Transfer.objects.filter(pk__startswith=f"withdrawal:{withdrawal.pk}").count() == 2  # pending + post


def test_a_lost_refund_response_is_retried_under_the_same_key(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=50_00)
    fake_stripe.lose_next_responses()

    withdrawal = request(organisation, requester, amount=50_00, method="stripe_refund")
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert WithdrawalRefund.objects.get().status == WithdrawalRefund.Status.PENDING

    assert withdrawal_process(withdrawal.pk) == "completed"
    assert withdrawal_process(withdrawal.pk) == "completed"

    assert len(fake_stripe.objects["refund"]) == 1
    assert [r.replayed for r in refund_requests(fake_stripe)] == [False, True]
    assert available(organisation) == 0


def test_a_refund_stripe_refuses_returns_the_money_to_available(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    fake_stripe.refuse_next("/v1/refunds", code="charge_disputed", message="The charge is disputed.")

    withdrawal = request(organisation, requester, amount=40_00, method="stripe_refund")

    assert (withdrawal.status, withdrawal.paid_amount) == ("failed", 0)
    assert "The charge is disputed." in withdrawal.failure_message
    assert fake_stripe.objects["refund"] == {}
    assert available(organisation) == 10000
    deposit.refresh_from_db()
    assert deposit.refunded_amount == 0
    assert Transfer.objects.get(pk=f"withdrawal:{withdrawal.pk}:void").kind == "void_pending"


def test_withdrawal_above_available_is_refused_and_nothing_changes(organisation, requester, fake_stripe) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=50_00)
    transfers_before = Transfer.objects.count()

    with pytest.raises(AppError) as refused:
        request(
            organisation, requester, amount=50_01, method="bank", iban="DE89370400440532013000", account_holder="Lab"
        )

    assert (refused.value.code, refused.value.status_code) == ("insufficient_funds", 409)
    assert not Withdrawal.objects.exists()
    assert Transfer.objects.count() == transfers_before
    assert available(organisation) == 5000


def test_card_withdrawal_above_what_cards_can_refund_is_refused(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=30_00)
    fund_by_bank(organisation=organisation, actor=requester, amount=50_00)
    transfers_before = Transfer.objects.count()

    with pytest.raises(AppError) as refused:
        request(organisation, requester, amount=40_00, method="stripe_refund")

    assert (refused.value.code, refused.value.details) == ("withdrawal_exceeds_refundable", {"refundable": 3000})
    assert not Withdrawal.objects.exists() and not WithdrawalRefund.objects.exists()
    assert Transfer.objects.count() == transfers_before
    assert Deposit.objects.get(method="stripe").refunded_amount == 0
    assert available(organisation) == 8000
    assert fake_stripe.objects["refund"] == {}


def test_bank_withdrawal_waits_for_the_treasurer(organisation, requester) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=80_00)
    withdrawal = request(
        organisation, requester, amount=30_00, method="bank", iban="de89 3704 0044 0532 0130 00", account_holder="Lab"
    )
    assert (withdrawal.status, withdrawal.iban) == ("requested", "DE89370400440532013000")
    assert available(organisation) == 5000

    with pytest.raises(AppError) as refused:
        services.withdrawal_bank_confirm(withdrawal=withdrawal, actor=requester)
    assert refused.value.code == "permission_denied"
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REQUESTED

    done = services.withdrawal_bank_confirm(withdrawal=withdrawal, actor=treasurer())
    assert (done.status, done.paid_amount) == ("completed", 3000)
    assert available(organisation) == 5000
    with pytest.raises(AppError) as again:
        services.withdrawal_bank_confirm(withdrawal=withdrawal, actor=treasurer())
    assert again.value.code == "invalid_state"


def test_bank_withdrawal_needs_an_account(organisation, requester) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=10_00)
    with pytest.raises(AppError) as refused:
        request(organisation, requester, amount=5_00, method="bank")
    assert refused.value.code == "invalid"
    assert not Withdrawal.objects.exists()


def test_a_refund_that_fails_days_later_gives_the_money_back_once(organisation, requester, fake_stripe) -> None:
    from tests.payments.factories import deliver

    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    withdrawal = request(organisation, requester, amount=60_00, method="stripe_refund")
    assert available(organisation) == 4000
    (refund_id,) = fake_stripe.objects["refund"]

    failed = fake_stripe.refund_fail(refund_id)
    deliver(fake_stripe.event("refund.failed", failed))
    deliver(fake_stripe.event("refund.updated", failed))  # Stripe reports it twice

    assert available(organisation) == 10000
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.paid_amount) == ("completed", 0)
    assert "expired_or_canceled_card" in withdrawal.failure_message
    deposit.refresh_from_db()
    assert deposit.refunded_amount == 0
    assert WithdrawalRefund.objects.get().status == WithdrawalRefund.Status.FAILED
    assert Transfer.objects.filter(code="withdrawal_refund_failed").count() == 1


def test_a_harmless_refund_update_changes_nothing(organisation, requester, fake_stripe) -> None:
    from tests.payments.factories import deliver

    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=10_00)
    request(organisation, requester, amount=10_00, method="stripe_refund")
    (refund,) = fake_stripe.objects["refund"].values()

    deliver(fake_stripe.event("refund.updated", refund))

    assert WithdrawalRefund.objects.get().status == WithdrawalRefund.Status.SUCCEEDED
    assert available(organisation) == 0


def test_a_withdrawal_retried_with_its_token_answers_the_first_and_reserves_once(api, organisation, requester) -> None:
    from ledger.selectors import ledger_check
    from payments.selectors import organisation_balance
    from tests.payments.factories import fund_by_bank

    fund_by_bank(organisation=organisation, actor=requester, amount=100_00)
    api.force_authenticate(requester)
    url = f"/api/organisations/{organisation.slug}/withdrawals/"
    body = {"method": "bank", "amount": "30.00", "iban": "DE89370400440532013000", "account_holder": "Lab"}

    first = api.post(url, {**body, "token": "w-1"}, format="json")
    again = api.post(url, {**body, "token": "w-1"}, format="json")
    other = api.post(url, {**body, "amount": "31.00", "token": "w-1"}, format="json")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert (other.status_code, other.json()["error"]["code"]) == (409, "token_reused")
    assert Withdrawal.objects.count() == 1
    assert organisation_balance(organisation=organisation).available == 70_00
    assert ledger_check() == []
