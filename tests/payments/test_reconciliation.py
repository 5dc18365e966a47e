"""Daily reconciliation of the ledger's external accounts with Stripe and the bank."""

from datetime import UTC, datetime

import pytest

from payments.jobs import reconcile_daily
from payments.models import Deposit, ReconciliationDifference, ReconciliationRun
from payments.reconciliation import reconciliation_run
from tests.payments.factories import fund_by_bank, fund_by_card, request_withdrawal

pytestmark = pytest.mark.django_db


def test_a_day_where_everything_agrees_records_no_difference(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    fund_by_bank(organisation=organisation, actor=requester, amount=40_00)
    request_withdrawal(organisation=organisation, actor=requester, amount=25_00, method="stripe_refund")

    today = datetime.now(UTC).date()
    assert reconcile_daily(today.isoformat()) == 0

    run = ReconciliationRun.objects.get(day=today)
    assert (run.stripe_transactions, run.stripe_net_reported, run.stripe_net_booked) == (2, 7500, 7500)
    assert (run.bank_net_confirmed, run.bank_net_booked) == (4000, 4000)


def test_a_payment_at_stripe_that_nobody_here_started_is_reported(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=10_00)
    stray = fake_stripe._balance_transaction(kind="charge", amount=999, currency="eur", source="ch_stray")

    run = reconciliation_run(day=datetime.now(UTC).date())

    (difference,) = run.differences.all()
    assert (difference.rail, difference.kind, difference.reference) == ("stripe", "unknown_transaction", stray)
    assert (difference.rail_amount, difference.ledger_amount) == (999, None)


def test_a_credit_stripe_does_not_list_is_reported_and_a_rerun_keeps_one_row(
    organisation, requester, fake_stripe
) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=10_00)
    fake_stripe.balance_transactions.clear()  # as if Stripe never settled the charge

    day = datetime.now(UTC).date()
    reconciliation_run(day=day)
    run = reconciliation_run(day=day)

    (difference,) = ReconciliationDifference.objects.all()
    assert difference.run == run
    assert (difference.kind, difference.reference, difference.ledger_amount) == (
        "missing_at_rail",
        deposit.reference,
        1000,
    )


def test_a_paid_charge_never_credited_is_missing_in_the_ledger(organisation, requester, fake_stripe) -> None:
    from payments import services

    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=10_00)
    intent = fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id)
    # The webhook has not arrived; record the charge id as a partial sync would.
    Deposit.objects.filter(pk=deposit.pk).update(stripe_charge_id=intent["latest_charge"])

    run = reconciliation_run(day=datetime.now(UTC).date())

    (difference,) = run.differences.all()
    assert (difference.kind, difference.rail_amount) == ("missing_in_ledger", 1000)
