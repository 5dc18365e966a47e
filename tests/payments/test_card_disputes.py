"""Issue 19 point 14: card disputes reach the ledger. The requester's balance pays what it
can, the co-op reserve the rest (never workers' earnings); an open dispute blocks
withdrawals; a won dispute gives the money back once. Shapes from Stripe's fixtures."""

import pytest

from core.errors import AppError
from ledger import accounts
from ledger.selectors import balance, ledger_check
from ledger.services import transfer
from payments import services
from payments.models import CardDispute, Withdrawal
from payments.selectors import organisation_balance
from tests.fakes.stripe_api import fixture
from tests.payments.factories import deliver, fund_by_card
from tests.tasks.factories import earnings, published_batch

pytestmark = pytest.mark.django_db


def _dispute(charge_id: str, amount: int, status: str, dispute_id: str = "dp_test_1") -> dict:
    dispute = fixture("dispute")
    dispute.update(id=dispute_id, charge=charge_id, amount=amount, currency="eur", status=status)
    return dispute


def _available(organisation) -> int:
    return organisation_balance(organisation=organisation).available


def test_a_dispute_debits_the_requester_and_blocks_withdrawals(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    created = fake_stripe.event("charge.dispute.created", _dispute(deposit.stripe_charge_id, 100_00, "needs_response"))

    assert deliver(created).status_code == 200
    deliver(created)  # Stripe delivers again: booked once

    dispute = CardDispute.objects.get()
    assert (dispute.status, dispute.organisation_debited, dispute.reserve_debited, dispute.uncovered) == (
        "open",
        100_00,
        0,
        0,
    )
    assert _available(organisation) == 0
    assert ledger_check() == []
    with pytest.raises(AppError) as refused:
        services.withdrawal_request(organisation=organisation, actor=requester, amount=1, method="stripe_refund")
    assert (refused.value.code, refused.value.status_code) == ("card_dispute_open", 409)
    assert Withdrawal.objects.count() == 0

    # Won: the money comes back once, and withdrawals are possible again.
    won = fake_stripe.event("charge.dispute.closed", _dispute(deposit.stripe_charge_id, 100_00, "won"))
    deliver(won)
    deliver(won)
    dispute.refresh_from_db()
    assert dispute.status == CardDispute.Status.WON and _available(organisation) == 100_00
    assert ledger_check() == []


def test_an_inquiry_takes_nothing_until_stripe_withdraws_the_funds(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=50_00)
    inquiry = _dispute(deposit.stripe_charge_id, 50_00, "warning_needs_response")
    deliver(fake_stripe.event("charge.dispute.created", inquiry))
    assert _available(organisation) == 50_00 and CardDispute.objects.get().funds_withdrawn is False
    lost = _dispute(deposit.stripe_charge_id, 50_00, "lost")
    deliver(fake_stripe.event("charge.dispute.funds_withdrawn", lost))
    deliver(fake_stripe.event("charge.dispute.closed", lost))
    dispute = CardDispute.objects.get()
    assert (dispute.status, dispute.organisation_debited) == ("lost", 50_00)
    assert _available(organisation) == 0
    assert ledger_check() == []


def test_what_the_requester_cannot_cover_comes_from_the_reserve_never_from_workers(
    organisation, requester, fake_stripe
) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    # The requester spends most of it on work a worker is paid for.
    batch = published_batch(organisation)
    from tasks import services as task_services
    from tests.factories import UserFactory

    worker = UserFactory()
    work = task_services.assignment_submit(
        worker=worker, assignment=task_services.assignment_accept(worker=worker, batch=batch), answers={"answer": "y"}
    )
    task_services.assignment_approve(actor=requester, assignment=work)
    paid = earnings(worker)
    left = _available(organisation)
    transfer(
        transfer_id="test:reserve-funding",
        debit=accounts.external_bank(),
        credit=accounts.coop_reserve(),
        amount=30_00,
        code="test",
    )

    deliver(fake_stripe.event("charge.dispute.created", _dispute(deposit.stripe_charge_id, 100_00, "needs_response")))

    dispute = CardDispute.objects.get()
    short = 100_00 - left
    assert dispute.organisation_debited == left
    assert dispute.reserve_debited == min(short, 30_00)
    assert dispute.uncovered == short - dispute.reserve_debited
    assert _available(organisation) == 0
    assert earnings(worker) == paid  # workers keep what they earned
    assert balance(accounts.coop_reserve()).available == 30_00 - dispute.reserve_debited
    assert ledger_check() == []


def test_a_dispute_of_a_charge_we_never_made_changes_nothing(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=10_00)
    deliver(fake_stripe.event("charge.dispute.created", _dispute("ch_not_ours", 10_00, "needs_response")))
    assert not CardDispute.objects.exists()
    assert _available(organisation) == 10_00


def test_stripes_card_fee_is_booked_once_and_reconciled(organisation, requester, fake_stripe) -> None:
    from datetime import UTC, datetime

    from django.test import TestCase

    from ledger.models import Transfer
    from payments import reconciliation

    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=100_00)
    intent = fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id or "", fee=1_75)
    with TestCase.captureOnCommitCallbacks(execute=True):
        deliver(fake_stripe.event("payment_intent.succeeded", intent))

    assert _available(organisation) == 100_00 - 1_75
    fee = Transfer.objects.get(pk=f"deposit:{deposit.pk}:stripe-fee")
    assert (fee.amount, fee.code) == (1_75, "stripe_fee")
    deposit.refresh_from_db()
    assert services.deposit_stripe_fee_book(deposit=deposit) == 1_75  # a repeat books nothing more
    assert Transfer.objects.filter(code="stripe_fee").count() == 1
    assert ledger_check() == []

    run = reconciliation.reconciliation_run(day=datetime.now(UTC).date())
    assert list(run.differences.values_list("kind", "note")) == []


def test_an_unbooked_fee_is_a_reconciliation_difference(organisation, requester, fake_stripe, monkeypatch) -> None:
    from datetime import UTC, datetime

    from payments import reconciliation

    # The fee job never ran (Stripe unreachable, a lost job): reconciliation says so.
    monkeypatch.setattr(services, "deposit_stripe_fee_book", lambda *, deposit: 0)
    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=20_00)
    intent = fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id or "", fee=60)
    deliver(fake_stripe.event("payment_intent.succeeded", intent))

    run = reconciliation.reconciliation_run(day=datetime.now(UTC).date())

    assert [(d.kind, d.note) for d in run.differences.all()] == [
        ("amount_mismatch", f"Stripe's fee for deposit {deposit.reference} is 60; the ledger booked 0.")
    ]


def test_reconciliation_matches_dispute_adjustments_and_fees(organisation, requester, fake_stripe) -> None:
    from datetime import UTC, datetime

    from payments import reconciliation

    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=40_00)
    deliver(
        fake_stripe.event(
            "payment_intent.succeeded", fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id, fee=90)
        )
    )
    deposit.refresh_from_db()
    # The reserve covers what the fee left the balance short of.
    transfer(
        transfer_id="test:reserve",
        debit=accounts.external_bank(),
        credit=accounts.coop_reserve(),
        amount=5_00,
        code="t",
    )
    opened = fake_stripe.dispute_create(deposit.stripe_charge_id, fee=0)  # the dispute fee: tests below
    deliver(fake_stripe.event("charge.dispute.created", opened))
    deliver(fake_stripe.event("charge.dispute.closed", fake_stripe.dispute_close(opened["id"], won=True)))

    run = reconciliation.reconciliation_run(day=datetime.now(UTC).date())

    assert list(run.differences.values_list("kind", "note")) == []
    dispute = CardDispute.objects.get()
    assert (dispute.status, dispute.organisation_debited, dispute.reserve_debited) == ("won", 40_00 - 90, 90)
    assert balance(accounts.coop_reserve()).available == 5_00  # given back when the dispute was won
    assert ledger_check() == []
