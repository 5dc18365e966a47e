"""Card and bank deposits: credited exactly once, only on Stripe's word or the treasurer's."""

import pytest

from core.errors import AppError
from core.models import AuditEvent
from ledger.models import Transfer
from payments import services
from payments.models import Deposit
from payments.selectors import organisation_balance
from payments.stripe_gateway import StripeUnavailable
from tests.factories import UserFactory
from tests.payments.factories import deliver, fund_by_bank, fund_by_card, treasurer

pytestmark = pytest.mark.django_db


def test_card_deposit_is_pending_until_stripe_says_it_succeeded(organisation, requester, fake_stripe) -> None:
    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=25_00)

    intent = fake_stripe.get("payment_intent", deposit.stripe_payment_intent_id)
    assert (deposit.status, intent["amount"], intent["currency"]) == ("pending", 2500, "eur")
    assert intent["metadata"] == {
        "deposit_id": str(deposit.pk),
        "deposit_reference": deposit.reference,
        "organisation": organisation.slug,
    }
    assert deposit.stripe_client_secret == intent["client_secret"]
    assert organisation_balance(organisation=organisation).available == 0
    assert fake_stripe.requests[0].idempotency_key == f"deposit:{deposit.pk}:payment_intent"

    paid = fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id)
    deliver(fake_stripe.event("payment_intent.succeeded", paid))

    deposit.refresh_from_db()
    assert (deposit.status, deposit.credited_amount, deposit.stripe_charge_id) == (
        "succeeded",
        2500,
        paid["latest_charge"],
    )
    assert organisation_balance(organisation=organisation).available == 2500
    transfer = Transfer.objects.get(pk=f"deposit:{deposit.pk}")
    assert (transfer.amount, transfer.debit_account.kind, transfer.credit_account.kind) == (
        2500,
        "external_stripe",
        "org_available",
    )


def test_lost_response_on_payment_intent_create_is_finished_by_a_retry_with_one_intent(
    organisation, requester, fake_stripe
) -> None:
    fake_stripe.lose_next_responses()
    with pytest.raises(StripeUnavailable):
        services.deposit_stripe_start(organisation=organisation, actor=requester, amount=40_00)
    deposit = Deposit.objects.get()
    assert (deposit.status, deposit.stripe_payment_intent_id) == ("pending", None)

    deposit = services.deposit_payment_intent_ensure(deposit=deposit)

    assert list(fake_stripe.objects["payment_intent"]) == [deposit.stripe_payment_intent_id]
    assert fake_stripe.requests[-1].replayed


def test_success_webhook_before_the_intent_id_was_saved_finds_the_deposit_by_metadata(
    organisation, requester, fake_stripe
) -> None:
    fake_stripe.lose_next_responses()
    with pytest.raises(StripeUnavailable):
        services.deposit_stripe_start(organisation=organisation, actor=requester, amount=10_00)
    intent_id = next(iter(fake_stripe.objects["payment_intent"]))

    deliver(fake_stripe.event("payment_intent.succeeded", fake_stripe.payment_intent_succeed(intent_id)))

    deposit = Deposit.objects.get()
    assert (deposit.status, deposit.stripe_payment_intent_id, deposit.credited_amount) == ("succeeded", intent_id, 1000)
    assert organisation_balance(organisation=organisation).available == 1000


def test_bank_deposit_gets_a_human_reference_and_is_credited_on_confirmation(organisation, requester) -> None:
    deposit = services.deposit_bank_start(organisation=organisation, actor=requester, amount=100_00)
    assert deposit.status == Deposit.Status.AWAITING_TRANSFER
    assert len(deposit.reference) == 14 and deposit.reference.startswith("COOP-") and deposit.reference[9] == "-"
    assert organisation_balance(organisation=organisation).available == 0

    boss = treasurer()
    confirmed = services.deposit_bank_confirm(deposit=deposit, amount=99_50, actor=boss)

    assert (confirmed.status, confirmed.credited_amount, confirmed.confirmed_by) == ("confirmed", 9950, boss)
    assert organisation_balance(organisation=organisation).available == 9950
    assert AuditEvent.objects.filter(action="deposit.confirmed", actor=boss).count() == 1


def test_a_bank_deposit_is_confirmed_only_once(organisation, requester) -> None:
    deposit = fund_by_bank(organisation=organisation, actor=requester, amount=50_00)
    with pytest.raises(AppError) as refused:
        services.deposit_bank_confirm(deposit=deposit, amount=50_00, actor=treasurer())
    assert refused.value.code == "invalid_state"
    assert organisation_balance(organisation=organisation).available == 5000
    assert Transfer.objects.filter(code="deposit_bank").count() == 1


def test_only_the_treasurer_confirms_and_a_refusal_changes_nothing(organisation, requester) -> None:
    deposit = services.deposit_bank_start(organisation=organisation, actor=requester, amount=50_00)
    for someone in (requester, UserFactory()):
        with pytest.raises(AppError) as refused:
            services.deposit_bank_confirm(deposit=deposit, amount=50_00, actor=someone)
        assert refused.value.code == "permission_denied"
    deposit.refresh_from_db()
    assert (deposit.status, deposit.credited_amount) == ("awaiting_transfer", 0)
    assert not Transfer.objects.exists()


def test_a_card_deposit_cannot_be_confirmed_by_the_treasurer(organisation, requester, fake_stripe) -> None:
    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=10_00)
    with pytest.raises(AppError) as refused:
        services.deposit_bank_confirm(deposit=deposit, amount=10_00, actor=treasurer())
    assert refused.value.code == "not_a_bank_deposit"
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.PENDING
    assert not Transfer.objects.exists()


def test_outsiders_cannot_start_deposits(organisation, fake_stripe) -> None:
    with pytest.raises(AppError) as refused:
        services.deposit_stripe_start(organisation=organisation, actor=UserFactory(), amount=10_00)
    assert refused.value.code == "permission_denied"
    assert not Deposit.objects.exists()
    assert fake_stripe.requests == []


@pytest.mark.parametrize("amount", [0, -5, 1_000_000_01])
def test_amount_out_of_range_is_refused(organisation, requester, amount) -> None:
    with pytest.raises(AppError):
        services.deposit_bank_start(organisation=organisation, actor=requester, amount=amount)
    assert not Deposit.objects.exists()


def test_fund_by_card_helper_credits(organisation, requester, fake_stripe) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=12_34)
    assert deposit.status == Deposit.Status.SUCCEEDED
    assert organisation_balance(organisation=organisation).available == 1234
