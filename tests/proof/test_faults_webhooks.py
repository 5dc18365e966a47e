"""A storm of duplicated and reordered Stripe webhooks ends in the same ledger as one
clean delivery of each event in order."""

import json
import random
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, TestCase

from accounts.models import Organisation, User
from ledger.models import Transfer
from payments import services
from payments.models import Deposit, WebhookEvent
from payments.selectors import organisation_balance
from tests.factories import OrganisationFactory
from tests.fakes.fixtures import WEBHOOK_SECRET
from tests.fakes.stripe_api import FakeStripe, sign

pytestmark = pytest.mark.django_db


def _events(fake: FakeStripe, organisation: Organisation, owner: User) -> list[dict[str, Any]]:
    """The events of six card top-ups, in the order Stripe created them."""
    deposits = [
        services.deposit_stripe_start(organisation=organisation, actor=owner, amount=amount)
        for amount in (10_00, 25_00, 40_00, 55_00, 70_00, 85_00)
    ]
    ids = [d.stripe_payment_intent_id for d in deposits]
    events = []
    for intent_id in ids[:3]:  # paid at once
        events.append(fake.event("payment_intent.succeeded", fake.payment_intent_succeed(intent_id)))
    # declined, then paid with another card
    events.append(fake.event("payment_intent.payment_failed", fake.payment_intent_fail(ids[3])))
    events.append(fake.event("payment_intent.succeeded", fake.payment_intent_succeed(ids[3])))
    # declined for good
    events.append(fake.event("payment_intent.payment_failed", fake.payment_intent_fail(ids[4])))
    # paid, and reported twice by Stripe under two event ids
    paid = fake.payment_intent_succeed(ids[5])
    events.append(fake.event("payment_intent.succeeded", paid))
    events.append(fake.event("payment_intent.succeeded", paid))
    events.append(fake.event("customer.created", {"id": "cus_storm", "object": "customer"}))
    return events


def _deliver(events: list[dict[str, Any]]) -> list[int]:
    statuses = []
    client = Client()
    for event in events:
        payload = json.dumps(event).encode()
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.generic(
                "POST",
                "/webhooks/stripe/",
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
            )
        statuses.append(response.status_code)
    return statuses


def _outcome(organisation: Organisation) -> dict[str, Any]:
    return {
        "available": organisation_balance(organisation=organisation).available,
        "transfers": sorted(
            Transfer.objects.values_list("id", "code", "debit_account__kind", "credit_account__kind", "amount", "kind")
        ),
        "deposits": sorted(Deposit.objects.values_list("amount", "status", "credited_amount")),
        "events": sorted(WebhookEvent.objects.values_list("stripe_event_id", "status")),
    }


def test_duplicated_and_reordered_webhooks_end_in_the_same_ledger(fake_stripe: FakeStripe) -> None:
    organisation = OrganisationFactory()
    owner = organisation.staff.get(role="owner").user
    events = _events(fake_stripe, organisation, owner)

    outcomes = []
    for seed in (None, 1, 2, 3):
        with transaction.atomic():
            storm = list(events)
            if seed is not None:  # every event three times, in a shuffled order
                storm = storm * 3
                random.Random(seed).shuffle(storm)
            assert set(_deliver(storm)) == {200}
            outcomes.append(_outcome(organisation))
            transaction.set_rollback(True)

    clean = outcomes[0]
    assert clean["available"] == 10_00 + 25_00 + 40_00 + 55_00 + 85_00
    assert len([t for t in clean["transfers"] if t[1] == "deposit_stripe"]) == 5
    assert set(status for _, status in clean["events"]) == {"processed"}
    for stormy in outcomes[1:]:
        assert stormy == clean
