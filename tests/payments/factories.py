"""Ways to put money into the platform for tests, through the real services and the fake Stripe."""

from typing import Any

from django.http import JsonResponse
from django.test import RequestFactory, TestCase

from accounts.models import Organisation, User
from accounts.services import treasurer_grant
from payments import services
from payments.api import stripe_webhook_view
from payments.models import Deposit
from tests.factories import UserFactory
from tests.fakes.fixtures import WEBHOOK_SECRET
from tests.fakes.stripe_api import FakeStripe, signed_event


def treasurer() -> User:
    user = UserFactory()
    treasurer_grant(user=user)
    return user


def deliver(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> JsonResponse:
    """POSTs ``event`` to the webhook view, signed as Stripe signs it, and runs the
    jobs it queues on commit (as the eager Celery worker would)."""
    payload, header = signed_event(event, secret)
    request = RequestFactory().post(
        "/webhooks/stripe/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        return stripe_webhook_view(request)


def fund_by_card(*, organisation: Organisation, actor: User, fake: FakeStripe, amount: int) -> Deposit:
    """A card top-up paid by the customer and confirmed by Stripe's webhook."""
    deposit = services.deposit_stripe_start(organisation=organisation, actor=actor, amount=amount)
    intent = fake.payment_intent_succeed(deposit.stripe_payment_intent_id or "")
    deliver(fake.event("payment_intent.succeeded", intent))
    deposit.refresh_from_db()
    return deposit


def fund_by_bank(*, organisation: Organisation, actor: User, amount: int) -> Deposit:
    deposit = services.deposit_bank_start(organisation=organisation, actor=actor, amount=amount)
    return services.deposit_bank_confirm(deposit=deposit, amount=amount, actor=treasurer())


def request_withdrawal(*, organisation: Organisation, actor: User, amount: int, method: str, **extra: Any) -> Any:
    """A withdrawal with its refund job run, as the worker would after commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        withdrawal = services.withdrawal_request(
            organisation=organisation, actor=actor, amount=amount, method=method, **extra
        )
    withdrawal.refresh_from_db()
    return withdrawal
