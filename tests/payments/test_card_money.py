"""Issue 19 point 9: card money goes back to cards. Balance funded by card leaves only as a
refund to that card until the governed holding period ends; bank withdrawals take only the
rest, so a card top-up can never be turned into a bank transfer to any IBAN."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import AppError
from governance.selectors import rule_value
from ledger.models import Transfer
from ledger.selectors import ledger_check
from payments import selectors, services
from payments.models import Deposit, Withdrawal
from tests.payments.factories import fund_by_bank, fund_by_card, request_withdrawal

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"


def _bank(organisation, requester, amount: int) -> Withdrawal:
    return services.withdrawal_request(
        organisation=organisation, actor=requester, amount=amount, method="bank", iban=IBAN, account_holder="Lab"
    )


def test_card_funded_balance_cannot_leave_by_bank_transfer(api, organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    before = (
        Withdrawal.objects.count(),
        Transfer.objects.count(),
        selectors.organisation_balance(organisation=organisation).available,
    )

    with pytest.raises(AppError) as refused:
        _bank(organisation, requester, 100_00)

    assert (refused.value.code, refused.value.status_code) == ("withdrawal_card_funds", 409)
    assert refused.value.details == {"bank_withdrawable": 0, "card_bound": 100_00}
    assert refused.value.message.startswith("Only 0.00 EUR can go out by bank transfer: 100.00 EUR came by card")
    after = (
        Withdrawal.objects.count(),
        Transfer.objects.count(),
        selectors.organisation_balance(organisation=organisation).available,
    )
    assert after == before
    assert Deposit.objects.get().refunded_amount == 0
    assert ledger_check() == []

    # Through the API: the same 409 and nothing written.
    api.force_authenticate(requester)
    response = api.post(
        f"/api/organisations/{organisation.slug}/withdrawals/",
        {"method": "bank", "amount": "50.00", "iban": IBAN, "account_holder": "Lab"},
        format="json",
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "withdrawal_card_funds")
    assert Withdrawal.objects.count() == 0
    balance = api.get(f"/api/organisations/{organisation.slug}/balance/").json()
    assert (balance["card_bound"], balance["bank_withdrawable"]) == ("100.00", "0.00")


def test_the_card_money_goes_back_to_the_card(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    withdrawal = request_withdrawal(organisation=organisation, actor=requester, amount=100_00, method="stripe_refund")
    assert (withdrawal.status, withdrawal.paid_amount) == ("completed", 100_00)
    refund = next(iter(fake_stripe.objects["refund"].values()))
    assert (refund["payment_intent"], refund["amount"]) == (deposit.stripe_payment_intent_id, 100_00)
    assert ledger_check() == []


def test_bank_withdrawals_take_only_bank_funded_balance(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=60_00)
    fund_by_bank(organisation=organisation, actor=requester, amount=40_00)
    assert selectors.bank_withdrawable_amount(organisation=organisation) == 40_00

    with pytest.raises(AppError) as refused:
        _bank(organisation, requester, 40_01)
    assert refused.value.code == "withdrawal_card_funds"
    withdrawal = _bank(organisation, requester, 40_00)
    assert withdrawal.amount == 40_00
    assert selectors.card_bound_amount(organisation=organisation) == 60_00
    # More than everything is still the ledger's insufficient_funds.
    with pytest.raises(AppError) as too_much:
        _bank(organisation, requester, 60_01)
    assert too_much.value.code == "insufficient_funds"


def test_after_the_holding_period_card_money_may_go_by_bank(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=30_00)
    days = rule_value("card_funds_holding_days")
    assert days == 120
    Deposit.objects.filter(pk=deposit.pk).update(credited_at=timezone.now() - timedelta(days=days, minutes=1))
    # The ledger still says bound until the release is written (the hourly job, or the
    # bank withdrawal itself, which releases what is due first).
    assert selectors.card_bound_amount(organisation=organisation) == 30_00
    assert _bank(organisation, requester, 30_00).amount == 30_00
    assert selectors.card_bound_amount(organisation=organisation) == 0
    assert Transfer.objects.get(pk=f"deposit:{deposit.pk}:card-funds:released:1").amount == 30_00
    assert ledger_check() == []
