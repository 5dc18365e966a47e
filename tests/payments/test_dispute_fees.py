"""Issue 19 point 14: Stripe's dispute fee (the ``fee`` of the dispute's adjustment balance
transaction, 15.00 with the money taken back) reaches the ledger: the requester pays it,
what the balance cannot cover comes from the governed reserve, never from workers'
earnings; booked once per balance transaction; a fee given back returns the reserve's part
first. A card fee whose booking failed is booked by the periodic job, once."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from core.models import JobItemFailure
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from ledger.services import transfer
from payments import jobs, reconciliation, services
from payments.models import CardDispute, Deposit
from payments.selectors import organisation_balance
from tests.payments.factories import deliver, fund_by_card
from tests.tasks.factories import earnings, published_batch

pytestmark = pytest.mark.django_db


def _available(organisation: Any) -> int:
    return organisation_balance(organisation=organisation).available


def _fund_reserve(amount: int) -> None:
    transfer(
        transfer_id=f"test:reserve:{amount}",
        debit=accounts.external_bank(),
        credit=accounts.coop_reserve(),
        amount=amount,
        code="test",
    )


def _today_differences() -> list[tuple[str, str]]:
    run = reconciliation.reconciliation_run(day=datetime.now(UTC).date())
    return list(run.differences.values_list("kind", "note"))


def test_the_dispute_fee_is_booked_to_the_requester_once(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    transfer(
        transfer_id="test:more-money",
        debit=accounts.external_bank(),
        credit=accounts.org_available(organisation),
        amount=50_00,
        code="test",
    )
    opened = fake_stripe.dispute_create(deposit.stripe_charge_id)  # 15.00 dispute fee
    (taken,) = opened["balance_transactions"]
    assert (taken["type"], taken["amount"], taken["fee"]) == ("adjustment", -100_00, 15_00)

    event = fake_stripe.event("charge.dispute.created", opened)
    deliver(event)
    deliver(event)  # delivered again
    deliver(fake_stripe.event("charge.dispute.funds_withdrawn", opened))  # the same transaction again

    dispute = CardDispute.objects.get()
    assert (dispute.organisation_debited, dispute.fee_organisation_debited, dispute.fee_reserve_debited) == (
        100_00,
        15_00,
        0,
    )
    fee = Transfer.objects.get(pk=f"card-dispute:{dispute.pk}:fee:{taken['id']}")
    assert (fee.amount, fee.code) == (15_00, "card_dispute_fee")
    assert _available(organisation) == 150_00 - 100_00 - 15_00
    assert ledger_check() == []
    assert _today_differences() == []


def test_a_fee_the_requester_cannot_pay_comes_from_the_reserve_never_from_workers(
    organisation, requester, fake_stripe
) -> None:
    from tasks import services as task_services
    from tests.factories import UserFactory

    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    worker = UserFactory()
    batch = published_batch(organisation)
    work = task_services.assignment_submit(
        worker=worker, assignment=task_services.assignment_accept(worker=worker, batch=batch), answers={"answer": "y"}
    )
    task_services.assignment_approve(actor=requester, assignment=work)
    paid = earnings(worker)
    _fund_reserve(1_000_00)
    reserve_before = balance(accounts.coop_reserve()).available
    left = _available(organisation)

    opened = fake_stripe.dispute_create(deposit.stripe_charge_id)
    deliver(fake_stripe.event("charge.dispute.created", opened))

    dispute = CardDispute.objects.get()
    assert dispute.organisation_debited == left and dispute.fee_organisation_debited == 0
    assert dispute.reserve_debited == 100_00 - left and dispute.fee_reserve_debited == 15_00
    assert dispute.fee_uncovered == 0
    assert balance(accounts.coop_reserve()).available == reserve_before - (100_00 - left) - 15_00
    assert earnings(worker) == paid
    assert _available(organisation) == 0
    assert ledger_check() == []


def test_without_reserve_the_fee_is_uncovered_and_reconciliation_says_so(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    opened = fake_stripe.dispute_create(deposit.stripe_charge_id)
    deliver(fake_stripe.event("charge.dispute.created", opened))

    dispute = CardDispute.objects.get()
    assert (dispute.fee_organisation_debited, dispute.fee_reserve_debited, dispute.fee_uncovered) == (0, 0, 15_00)
    assert ledger_check() == []
    assert _today_differences() == [
        (
            "amount_mismatch",
            f"Card dispute {dispute.stripe_dispute_id}: Stripe's dispute fee is 1500, the ledger booked 0 "
            "(1500 uncovered).",
        )
    ]


def test_a_fee_given_back_returns_the_reserves_part_first(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    transfer(
        transfer_id="test:some-more",
        debit=accounts.external_bank(),
        credit=accounts.org_available(organisation),
        amount=10_00,
        code="test",
    )
    _fund_reserve(100_00)
    opened = fake_stripe.dispute_create(deposit.stripe_charge_id)
    deliver(fake_stripe.event("charge.dispute.created", opened))
    dispute = CardDispute.objects.get()
    assert (dispute.fee_organisation_debited, dispute.fee_reserve_debited) == (10_00, 5_00)

    won = fake_stripe.dispute_close(opened["id"], won=True, fee_returned=8_00)
    deliver(fake_stripe.event("charge.dispute.closed", won))
    deliver(fake_stripe.event("charge.dispute.closed", won))

    dispute.refresh_from_db()
    assert dispute.status == CardDispute.Status.WON
    assert (dispute.fee_organisation_debited, dispute.fee_reserve_debited) == (10_00 - 3_00, 0)
    assert balance(accounts.coop_reserve()).available == 100_00
    assert _available(organisation) == 100_00 + 10_00 - 7_00
    assert ledger_check() == []
    assert _today_differences() == []


def test_an_inquiry_books_no_fee(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=30_00)
    inquiry = fake_stripe.dispute_create(deposit.stripe_charge_id, status="warning_needs_response")
    deliver(fake_stripe.event("charge.dispute.created", inquiry))
    dispute = CardDispute.objects.get()
    assert dispute.fee_bookings == {} and _available(organisation) == 30_00
    assert not Transfer.objects.filter(code__startswith="card_dispute").exists()


def _card_deposit_with_fee(organisation: Any, requester: Any, fake_stripe: Any, *, fee: int) -> Deposit:
    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=50_00)
    intent = fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id or "", fee=fee)
    with TestCase.captureOnCommitCallbacks(execute=True):
        deliver(fake_stripe.event("payment_intent.succeeded", intent))
    deposit.refresh_from_db()
    return deposit


def test_a_card_fee_whose_booking_failed_is_booked_by_the_periodic_job_once(
    organisation, requester, fake_stripe, monkeypatch
) -> None:
    from payments import stripe_gateway

    # Stripe is unreachable when the fee job runs after the payment.
    real = stripe_gateway.charge_fee

    def unreachable(**kwargs: Any) -> int | None:
        raise stripe_gateway.StripeUnavailable("timeout")

    monkeypatch.setattr(stripe_gateway, "charge_fee", unreachable)
    deposit = _card_deposit_with_fee(organisation, requester, fake_stripe, fee=1_45)
    assert deposit.stripe_fee is None and not Transfer.objects.filter(code="stripe_fee").exists()
    assert _available(organisation) == 50_00

    later = timezone.now() + timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    # Still unreachable: an answer (nothing was changed), so the next run asks again.
    assert jobs.stripe_fees_book_due() == 1
    assert Deposit.objects.get(pk=deposit.pk).stripe_fee is None
    assert not Transfer.objects.filter(code="stripe_fee").exists()

    monkeypatch.setattr(stripe_gateway, "charge_fee", real)
    monkeypatch.setattr(timezone, "now", lambda: later + timedelta(hours=1))
    assert jobs.stripe_fees_book_due() == 1
    deposit.refresh_from_db()
    assert deposit.stripe_fee == 1_45
    assert Transfer.objects.get(pk=f"deposit:{deposit.pk}:stripe-fee").amount == 1_45
    assert not JobItemFailure.objects.filter(job="payments.jobs.stripe_fees_book_due").exists()
    # Nothing more is due, and a run books nothing twice.
    assert jobs.stripe_fees_book_due() == 0
    assert services.deposit_stripe_fee_book(deposit=deposit) == 1_45
    assert Transfer.objects.filter(code="stripe_fee").count() == 1
    assert _available(organisation) == 50_00 - 1_45
    assert ledger_check() == []


def test_a_fee_not_known_yet_is_asked_again_later(organisation, requester, fake_stripe, monkeypatch) -> None:
    from payments import stripe_gateway

    monkeypatch.setattr(stripe_gateway, "charge_fee", lambda **kwargs: None)  # no balance transaction yet
    deposit = _card_deposit_with_fee(organisation, requester, fake_stripe, fee=70)
    assert deposit.stripe_fee is None
    monkeypatch.setattr(timezone, "now", lambda: deposit.credited_at + timedelta(minutes=5))
    assert jobs.stripe_fees_book_due() == 1
    assert Deposit.objects.get(pk=deposit.pk).stripe_fee is None  # still unknown: due again


def test_a_fee_booked_before_this_field_existed_is_recorded_without_asking_stripe(
    organisation, requester, fake_stripe, monkeypatch
) -> None:
    from payments import stripe_gateway

    deposit = _card_deposit_with_fee(organisation, requester, fake_stripe, fee=90)
    Deposit.objects.filter(pk=deposit.pk).update(stripe_fee=None)  # as after the migration
    monkeypatch.setattr(stripe_gateway, "charge_fee", lambda **kwargs: pytest.fail("Stripe asked again"))
    monkeypatch.setattr(timezone, "now", lambda: deposit.credited_at + timedelta(minutes=5))
    assert jobs.stripe_fees_book_due() == 1
    assert Deposit.objects.get(pk=deposit.pk).stripe_fee == 90
    assert Transfer.objects.filter(code="stripe_fee").count() == 1


def test_a_failing_fee_booking_is_recorded_with_backoff_and_others_go_on(
    organisation, requester, fake_stripe, monkeypatch
) -> None:
    first = _card_deposit_with_fee(organisation, requester, fake_stripe, fee=30)
    Deposit.objects.filter(pk=first.pk).update(stripe_fee=None)
    second = _card_deposit_with_fee(organisation, requester, fake_stripe, fee=40)
    Deposit.objects.filter(pk=second.pk).update(stripe_fee=None)
    real = services._stripe_fee_booked

    def broken(deposit: Deposit) -> int | None:
        if deposit.pk == first.pk:
            raise RuntimeError("database hiccup")
        return real(deposit)

    monkeypatch.setattr(services, "_stripe_fee_booked", broken)
    monkeypatch.setattr(timezone, "now", lambda: second.credited_at + timedelta(minutes=5))
    assert jobs.stripe_fees_book_due() == 2
    failure = JobItemFailure.objects.get(job="payments.jobs.stripe_fees_book_due", item_key=str(first.pk))
    assert failure.attempts == 1 and "database hiccup" in failure.last_error
    assert Deposit.objects.get(pk=second.pk).stripe_fee == 40
    assert Deposit.objects.get(pk=first.pk).stripe_fee is None
