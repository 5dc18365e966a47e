"""Issue 19 point 9, in the ledger: each organisation's card-funded balance is the ledger
sub-account ``org_card_funds`` (``payments.card_funds``); the withdrawal rules read it.
Card money spent on work and returned from escrow stays bound; a refund to the card takes
it out and a failed refund puts it back; the holding period releases it once; the
migration binds the card money of existing deposits; ``ledger_check`` stays clean."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from core.errors import AppError
from core.rules import rule_value
from ledger import accounts
from ledger.models import Account, Transfer
from ledger.selectors import balance, ledger_check
from payments import card_funds, jobs, selectors
from payments.models import Deposit, Withdrawal
from tasks import services as task_services
from tests.payments.factories import fund_by_bank, fund_by_card, request_withdrawal
from tests.tasks.factories import make_batch

pytestmark = pytest.mark.django_db


def _card_funds(organisation) -> int:
    return balance(accounts.org_card_funds(organisation)).available


def test_card_top_ups_credit_the_card_funds_sub_account_bank_ones_do_not(organisation, requester, fake_stripe):
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=70_00)
    fund_by_bank(organisation=organisation, actor=requester, amount=30_00)
    assert _card_funds(organisation) == 70_00
    bound = Transfer.objects.get(pk=f"deposit:{deposit.pk}:card-funds")
    assert (bound.amount, bound.code, bound.debit_account.kind) == (70_00, "card_funds_bound", "card_funds_contra")
    assert selectors.card_bound_amount(organisation=organisation) == 70_00
    assert selectors.bank_withdrawable_amount(organisation=organisation) == 30_00
    assert ledger_check() == []


def test_card_money_back_from_escrow_is_still_bound(organisation, requester, fake_stripe):
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    fund_by_bank(organisation=organisation, actor=requester, amount=40_00)
    batch = make_batch(organisation)
    task_services.batch_publish(batch=batch, actor=requester)
    available = selectors.organisation_balance(organisation=organisation).available
    assert available < 140_00
    # Spending counts against bank money first: what is left is card money.
    assert selectors.card_bound_amount(organisation=organisation) == min(available, 100_00)
    task_services.batch_cancel(batch=batch, actor=requester)
    # The escrow came back: a bank transfer still cannot take the card's money.
    assert selectors.organisation_balance(organisation=organisation).available == 140_00
    assert selectors.bank_withdrawable_amount(organisation=organisation) == 40_00
    with pytest.raises(AppError) as refused:
        request_withdrawal(
            organisation=organisation,
            actor=requester,
            amount=40_01,
            method="bank",
            iban="DE89370400440532013000",
            account_holder="Acme",
        )
    assert refused.value.code == "withdrawal_card_funds"
    assert ledger_check() == []


def test_a_refund_takes_card_funds_out_and_a_failed_one_puts_them_back(organisation, requester, fake_stripe):
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=50_00)
    done = request_withdrawal(organisation=organisation, actor=requester, amount=20_00, method="stripe_refund")
    assert done.status == Withdrawal.Status.COMPLETED
    assert _card_funds(organisation) == 30_00
    assert Transfer.objects.get(pk=f"deposit:{deposit.pk}:card-funds:refund:{done.pk}").amount == 20_00

    fake_stripe.refuse_next("/v1/refunds", message="The card was closed.")
    failed = request_withdrawal(organisation=organisation, actor=requester, amount=10_00, method="stripe_refund")
    assert failed.status != Withdrawal.Status.COMPLETED
    assert _card_funds(organisation) == 30_00  # taken out, then back when the refund failed
    assert Transfer.objects.get(pk=f"deposit:{deposit.pk}:card-funds:refund:{failed.pk}:failed").amount == 10_00
    assert card_funds.deposit_card_bound(deposit=deposit) == 30_00
    assert ledger_check() == []


def test_the_holding_period_releases_card_funds_once(organisation, requester, fake_stripe):
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=25_00)
    assert jobs.card_funds_release() == 0  # not due yet
    days = rule_value("card_funds_holding_days")
    Deposit.objects.filter(pk=deposit.pk).update(credited_at=timezone.now() - timedelta(days=days, seconds=1))
    assert jobs.card_funds_release() == 25_00
    assert jobs.card_funds_release() == 0
    assert _card_funds(organisation) == 0
    assert selectors.bank_withdrawable_amount(organisation=organisation) == 25_00
    assert Transfer.objects.filter(code="card_funds_released").count() == 1
    assert ledger_check() == []


def test_the_migration_binds_the_card_money_of_existing_deposits(organisation):
    from importlib import import_module

    migration = import_module("payments.migrations.0005_card_funds_in_the_ledger")
    # A card top-up as the tally knew it: credited, partly refunded, no card-funds rows yet.
    old = Deposit.objects.create(
        organisation=organisation,
        method=Deposit.Method.STRIPE,
        status=Deposit.Status.SUCCEEDED,
        amount=80_00,
        currency="EUR",
        credited_amount=80_00,
        refunded_amount=15_00,
        reference="CARD-OLD-1",
        credited_at=timezone.now(),
    )
    Deposit.objects.create(
        organisation=organisation,
        method=Deposit.Method.BANK,
        status=Deposit.Status.SUCCEEDED,
        amount=10_00,
        currency="EUR",
        credited_amount=10_00,
        reference="BANK-OLD-1",
        credited_at=timezone.now(),
    )
    migration.bind_existing_card_money(apps, None)
    migration.bind_existing_card_money(apps, None)  # run twice: once

    assert Transfer.objects.get(pk=f"deposit:{old.pk}:card-funds").amount == 65_00
    assert Transfer.objects.filter(code="card_funds_bound").count() == 1
    card = Account.objects.get(kind=Account.Kind.ORG_CARD_FUNDS, organisation=organisation)
    assert card.credits_posted == 65_00 and card.debits_must_not_exceed_credits
    assert ledger_check() == []


def test_a_dispute_takes_the_card_money_out_of_the_card_funds_and_a_won_one_binds_it_again(
    organisation, requester, fake_stripe
):
    from tests.payments.factories import deliver

    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    fund_by_bank(organisation=organisation, actor=requester, amount=40_00)
    opened = fake_stripe.dispute_create(deposit.stripe_charge_id, fee=0)
    deliver(fake_stripe.event("charge.dispute.created", opened))
    # The bank took the card's 100.00 back: the 40.00 left came by bank and is not card-bound.
    assert _card_funds(organisation) == 0
    assert selectors.card_bound_amount(organisation=organisation) == 0
    deliver(fake_stripe.event("charge.dispute.closed", fake_stripe.dispute_close(opened["id"], won=True)))
    assert _card_funds(organisation) == 100_00
    assert selectors.bank_withdrawable_amount(organisation=organisation) == 40_00
    assert ledger_check() == []
