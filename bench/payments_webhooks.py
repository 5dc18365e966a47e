"""The Stripe webhook inbox on PostgreSQL: what Stripe waits for (verify the
signature, store the event once) and what the job then does (credit the deposit
through the ledger), each per event, against the bare database work underneath.

Stripe is the in-process fake (tests/fakes/stripe_api.py); signatures are real.
"""

import os
import time
from typing import Any

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "300"))
SECRET = "whsec_bench"


def _per_event_ms(started: float, count: int) -> float:
    return (time.perf_counter() - started) * 1000 / count


def _row(what: str, figure: float, reference_what: str, reference: float, goal: str) -> dict[str, str]:
    return {
        "what": what,
        "figure": f"{figure:.2f} ms",
        "reference": f"{reference_what}: {reference:.2f} ms",
        "ratio": f"{figure / reference:.1f}x" if reference else "-",
        "goal": goal,
    }


def run() -> list[dict[str, str]]:
    from django.conf import settings
    from django.test import RequestFactory

    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from ledger.accounts import external_bank, org_available
    from ledger.services import transfer
    from payments import jobs, services, stripe_gateway, webhooks
    from payments.api import stripe_webhook_view
    from payments.models import WebhookEvent
    from tests.fakes.stripe_api import FakeStripe, signed_event

    settings.STRIPE_SECRET_KEY = "sk_test_bench"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    fake = FakeStripe()
    stripe_gateway.use_http_client(fake)

    staff = User.objects.create_user(username="pay-bench-staff", email="s@pay.bench", password="x" * 20, is_staff=True)
    requester = User.objects.create_user(username="pay-bench-req", email="r@pay.bench", password="x" * 20)
    WorkerProfile.objects.bulk_create([WorkerProfile(user=staff), WorkerProfile(user=requester)])
    organisation = accounts_services.organisation_create(
        owner=requester, legal_name="Pay Bench", display_name="Pay Bench", country="DE", contact_email="p@pay.bench"
    )
    accounts_services.organisation_verify(organisation=organisation, verified_by=staff, legal_name="Pay Bench")

    deposits = [
        services.deposit_stripe_start(organisation=organisation, actor=requester, amount=10_00 + n)
        for n in range(EVENTS)
    ]
    signed = [
        signed_event(
            fake.event("payment_intent.succeeded", fake.payment_intent_succeed(d.stripe_payment_intent_id or "")),
            SECRET,
        )
        for d in deposits
    ]
    factory = RequestFactory()
    queued: list[Any] = []
    real_delay = jobs.webhook_event_process.delay
    jobs.webhook_event_process.delay = queued.append  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        for payload, header in signed:
            stripe_webhook_view(
                factory.post(
                    "/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
                )
            )
        receive_ms = _per_event_ms(started, EVENTS)
    finally:
        jobs.webhook_event_process.delay = real_delay  # type: ignore[method-assign]

    started = time.perf_counter()
    for stored_id in queued:
        webhooks.webhook_event_process(webhook_event_id=stored_id)
    process_ms = _per_event_ms(started, EVENTS)
    processed = WebhookEvent.objects.filter(status="processed").count()

    started = time.perf_counter()
    for n in range(EVENTS):
        WebhookEvent.objects.create(
            stripe_event_id=f"evt_bare_{n}", type="bare", event_created=0, payload={"id": n}, status="processed"
        )
    insert_ms = _per_event_ms(started, EVENTS)

    bank, available = external_bank(), org_available(organisation)
    started = time.perf_counter()
    for n in range(EVENTS):
        transfer(transfer_id=f"bench:pay:{n}", debit=bank, credit=available, amount=100, code="bench")
    transfer_ms = _per_event_ms(started, EVENTS)
    stripe_gateway.use_http_client(None)

    return [
        _row(
            f"webhook receive: verify + store, per event ({EVENTS})",
            receive_ms,
            "bare INSERT of an inbox row",
            insert_ms,
            "< 20 ms (Stripe needs a fast 2xx)",
        ),
        _row(
            f"webhook job: deposit credited via ledger, per event ({processed}/{EVENTS} processed)",
            process_ms,
            "bare ledger.transfer",
            transfer_ms,
            "< 50 ms",
        ),
    ]
