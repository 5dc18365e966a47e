"""Payout test helpers: workers earn the way they do in production (escrow settled
on approval, bonuses from a requester's balance) and webhooks arrive signed."""

import itertools
import json
from typing import Any

from django.test import TestCase
from rest_framework.test import APIClient

from accounts.models import Organisation, User, WorkerProfile
from accounts.services import treasurer_grant
from ledger.escrow import EscrowSlot, bonus_pay, escrow_reserve_slots, escrow_settle
from payouts import services
from payouts.models import PayoutMethod
from tests.factories import OrganisationFactory, UserFactory, signed_in_now
from tests.fakes.fixtures import CONNECT_WEBHOOK_SECRET, WEBHOOK_SECRET
from tests.fakes.stripe_api import FakeStripe, sign
from tests.ledger.factories import fund

_slots = itertools.count(1)
VALID_IBAN = "DE89370400440532013000"
VALID_IBAN_2 = "FR1420041010050500013M02606"


def earn(worker: User, amount: int, *, organisation: Organisation | None = None) -> str:
    """``worker`` is paid ``amount`` for approved work; returns the slot key."""
    organisation = organisation or OrganisationFactory()
    fund(organisation, amount + 100)
    key = f"test-slot:{next(_slots)}"
    escrow_reserve_slots(organisation=organisation, slots=[EscrowSlot(key=key, reward=amount, fee=100)])
    escrow_settle(key=key, worker=worker)
    return key


def bonus(worker: User, amount: int) -> None:
    organisation = OrganisationFactory()
    fund(organisation, amount)
    bonus_pay(organisation=organisation, worker=worker, amount=amount, key=f"test-bonus:{next(_slots)}")


def worker_in(country: str, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    WorkerProfile.objects.filter(user=user).update(country=country)
    return user


def sepa_worker(*, iban: str = VALID_IBAN, name: str = "Ana Worker", country: str = "DE") -> User:
    user = worker_in(country)
    services.payout_method_set(
        user=user, fresh_sign_in=signed_in_now(user), rail="sepa", details={"iban": iban, "account_holder": name}
    )
    destination_settled(user)
    return user


def destination_settled(user: User) -> None:
    """The worker chose their destination long ago: its hold for new destinations is over."""
    PayoutMethod.objects.filter(user=user).update(first_payout_not_before=None)


def treasurer() -> User:
    user = UserFactory()
    treasurer_grant(user=user)
    return user


def stripe_worker(fake: FakeStripe, *, country: str = "DE", onboarded: bool = True) -> User:
    """A worker with a Connect account; ``onboarded`` delivers Stripe's ``account.updated``."""
    user = worker_in(country)
    link = services.stripe_onboarding_start(
        user=user,
        fresh_sign_in=signed_in_now(user),
        return_url="https://coop.test/payouts/return",
        refresh_url="https://coop.test/payouts/refresh",
    )
    destination_settled(user)
    if onboarded:
        account = fake.account_complete_onboarding(link.connected_account.stripe_account_id)
        deliver(fake.event("account.updated", account, account=account["id"]))
    return user


def current_method(user: User) -> PayoutMethod:
    return PayoutMethod.objects.get(user=user, retired_at__isnull=True)


def deliver(event: dict[str, Any], *, client: APIClient | None = None) -> Any:
    """Posts ``event`` to the webhook endpoint, signed, and runs the queued processing."""
    payload = json.dumps(event).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = (client or APIClient()).generic(
            "POST",
            "/webhooks/stripe/",
            payload,
            content_type="application/json",
            # Connect events (they name an account) come through the Connect endpoint.
            HTTP_STRIPE_SIGNATURE=sign(payload, CONNECT_WEBHOOK_SECRET if event.get("account") else WEBHOOK_SECRET),
        )
    assert response.status_code == 200, response.content
    return response
