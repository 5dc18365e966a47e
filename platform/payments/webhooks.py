"""The Stripe webhook inbox: store each event once, process it in a job.

Receiving (``webhook_event_receive``) only verifies, stores and queues, so Stripe
gets its 2xx fast. Processing (``webhook_event_process``) looks the event type up
in a table of handlers and records the outcome on the stored row: ``processed``,
or ``failed`` with the error (the ``webhook_events_retry`` job tries again).

Handlers take a ``StripeEvent`` and must be idempotent and order-independent:
Stripe may deliver an event twice and in any order. They run inside the
transaction that marks the event processed, so a handler that raises leaves
nothing behind.

Other apps add handlers without touching this file much: list the module in
``HANDLER_MODULES``; it must define ``STRIPE_EVENT_HANDLERS: dict[str, Handler]``
(event type, e.g. ``"payout.paid"``, or a prefix ending in ``.*`` such as
``"transfer.*"``). Those modules are imported lazily, on the first dispatch, so
the apps stay free of import cycles.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import AppError
from core.queue import queue_on_commit
from payments import services
from payments.models import WebhookEvent
from payments.stripe_gateway import PaymentIntent, StripeEvent

logger = logging.getLogger(__name__)

Handler = Callable[[StripeEvent], None]

# Modules of other apps that handle Stripe events (Connect accounts, transfers, payouts).
HANDLER_MODULES: tuple[str, ...] = ("payouts.stripe_events",)


# What each endpoint may deliver (issue 19 point 8). The platform endpoint's secret signs
# events about the platform's own account: card top-ups, their charges, refunds and
# disputes, transfers to connected accounts; such an event never names an account. The
# Connect endpoint's secret signs events of connected accounts (workers' payouts), which
# always name one. Anything else is refused at the door and stored nowhere, so a payment
# made on some connected account can never credit a platform deposit.
ENDPOINT_EVENT_PREFIXES: dict[str, tuple[str, ...]] = {
    "platform": (
        "payment_intent.",
        "charge.",
        "refund.",
        "transfer.",
        "payout.",
        "balance.",
        "customer.",
        "payment_method.",
        "setup_intent.",
    ),
    "connect": ("account.", "payout.", "capability.", "person.", "balance."),
    # The v2 event destination (Global Payouts' thin events, STRIPE_EVENT_DESTINATION_SECRET):
    # only ids, the handler fetches the object from Stripe.
    "event_destination": ("v2.money_management.outbound_payment.", "v2.core.account"),
}


def webhook_event_in_scope(event: StripeEvent) -> str | None:
    """Why ``event`` may not come through the endpoint whose secret signed it, or ``None``."""
    prefixes = ENDPOINT_EVENT_PREFIXES.get(event.endpoint, ())
    if not event.type.startswith(prefixes):
        return f"the {event.endpoint} endpoint does not deliver {event.type} events"
    if event.endpoint == "platform" and event.account:
        return "an event of a connected account came signed with the platform endpoint's secret"
    if event.endpoint == "connect" and not event.account:
        return "an event of the platform's own account came signed with the Connect endpoint's secret"
    return None


def _platform_only(event: StripeEvent) -> bool:
    """Deposits are paid to the platform's own account; an event that names a connected
    account (even one stored before the endpoint check existed) is not about them."""
    if event.account:
        logger.warning("%s %s from connected account %s ignored", event.type, event.id, event.account)
        return False
    return True


def _payment_intent_succeeded(event: StripeEvent) -> None:
    if not _platform_only(event):
        return
    services.deposit_stripe_succeeded(intent=PaymentIntent.from_stripe(event.object))


def _payment_intent_failed(event: StripeEvent) -> None:
    if not _platform_only(event):
        return
    error = event.object.get("last_payment_error") or {}
    message = str(error.get("message") or "The payment did not go through.")
    services.deposit_stripe_failed(intent=PaymentIntent.from_stripe(event.object), message=message)


def _payment_intent_canceled(event: StripeEvent) -> None:
    if not _platform_only(event):
        return
    reason = str(event.object.get("cancellation_reason") or "no reason given")
    services.deposit_stripe_failed(
        intent=PaymentIntent.from_stripe(event.object), message=f"The payment was cancelled ({reason})."
    )


def _refund_failed(event: StripeEvent) -> None:
    if not _platform_only(event):
        return
    refund = event.object
    if refund.get("status") != "failed":  # refund.updated also reports harmless changes
        return
    services.withdrawal_refund_failed(
        refund_id=str(refund["id"]),
        metadata={str(k): str(v) for k, v in (refund.get("metadata") or {}).items()},
        message=str(refund.get("failure_reason") or "the bank refused the refund"),
    )


def _charge_dispute(event: StripeEvent) -> None:
    if not _platform_only(event):
        return
    dispute = event.object
    services.card_dispute_record(
        dispute_id=str(dispute["id"]),
        charge_id=str(dispute.get("charge") or ""),
        payment_intent_id=str(dispute.get("payment_intent") or ""),
        amount=int(dispute.get("amount") or 0),
        status=str(dispute.get("status") or ""),
        reason=str(dispute.get("reason") or ""),
        fees=_dispute_fees(dispute),
    )


def _dispute_fees(dispute: Any) -> list[services.DisputeFee]:
    """The fee of each of the dispute's balance transactions (Stripe sends them expanded:
    the money taken back with the dispute fee, and any reinstatement)."""
    fees = []
    for row in dispute.get("balance_transactions") or []:
        if isinstance(row, dict) and row.get("id"):
            fees.append(services.DisputeFee(balance_transaction_id=str(row["id"]), fee=int(row.get("fee") or 0)))
        else:  # an id alone says nothing of the fee; reconciliation reports an unbooked one
            logger.warning("dispute %s lists balance transaction %r without its fee", dispute.get("id"), row)
    return fees


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _payment_intent_succeeded,
    "payment_intent.payment_failed": _payment_intent_failed,
    "payment_intent.canceled": _payment_intent_canceled,
    "refund.failed": _refund_failed,
    "refund.updated": _refund_failed,
    "charge.refund.updated": _refund_failed,
    "charge.dispute.created": _charge_dispute,
    "charge.dispute.updated": _charge_dispute,
    "charge.dispute.funds_withdrawn": _charge_dispute,
    "charge.dispute.funds_reinstated": _charge_dispute,
    "charge.dispute.closed": _charge_dispute,
}

_loaded: dict[str, Handler] | None = None


def handlers() -> dict[str, Handler]:
    """This app's handlers plus those of ``HANDLER_MODULES`` (imported once)."""
    global _loaded
    if _loaded is None:
        table = dict(HANDLERS)
        for module_name in HANDLER_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as missing:
                if missing.name != module_name:
                    raise
                continue
            table.update(getattr(module, "STRIPE_EVENT_HANDLERS", {}))
        _loaded = table
    return _loaded


def handler_for(event_type: str) -> Handler | None:
    table = handlers()
    if event_type in table:
        return table[event_type]
    prefix = event_type.split(".", 1)[0]
    return table.get(f"{prefix}.*")


def webhook_event_receive(*, event: StripeEvent) -> tuple[WebhookEvent, bool]:
    """Stores a verified event once by its Stripe id and queues its processing.

    Returns the stored row and whether it was new. A repeated delivery only
    counts itself (and re-queues an event not yet processed, in case its job was lost).
    An event outside its endpoint's scope (``webhook_event_in_scope``) is refused with
    ``webhook_event_out_of_scope`` (400) and stored nowhere.
    """
    problem = webhook_event_in_scope(event)
    if problem is not None:
        logger.warning("Stripe event %s (%s) refused: %s", event.id, event.type, problem)
        raise AppError(
            "webhook_event_out_of_scope",
            _("Event %(number)s refused: %(problem)s.") % {"number": event.id, "problem": problem},
        )

    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                stripe_event_id=event.id,
                type=event.type,
                account=event.account,
                event_created=event.created,
                payload=event.payload,
            )
            created = True
    except IntegrityError:
        stored = WebhookEvent.objects.get(stripe_event_id=event.id)
        WebhookEvent.objects.filter(pk=stored.pk).update(deliveries=F("deliveries") + 1)
        created = False
    if created or stored.status != WebhookEvent.Status.PROCESSED:
        queue_on_commit("payments.jobs.webhook_event_process", webhook_event_id=stored.pk)
    return stored, created


def webhook_event_process(*, webhook_event_id: int) -> WebhookEvent:
    """Runs the handler for a stored event and records the outcome; exactly once.

    Locks the inbox row, so two jobs for the same event never both run the
    handler; an event already processed is left alone. An event type nobody
    handles is marked processed (it needed nothing).
    """
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.select_for_update().get(pk=webhook_event_id)
            if stored.status == WebhookEvent.Status.PROCESSED:
                return stored
            handler = handler_for(stored.type)
            if handler is not None:
                handler(
                    StripeEvent(
                        id=stored.stripe_event_id,
                        type=stored.type,
                        created=stored.event_created,
                        account=stored.account,
                        payload=stored.payload,
                    )
                )
            stored.status = WebhookEvent.Status.PROCESSED
            stored.processed_at = timezone.now()
            stored.attempts += 1
            stored.error = ""
            stored.save(update_fields=["status", "processed_at", "attempts", "error"])
            return stored
    except Exception as error:
        logger.exception("Stripe event %s failed", webhook_event_id)
        message = f"{type(error).__name__}: {error}"[:2000]
        WebhookEvent.objects.filter(pk=webhook_event_id).exclude(status=WebhookEvent.Status.PROCESSED).update(
            status=WebhookEvent.Status.FAILED, error=message, attempts=F("attempts") + 1
        )
        return WebhookEvent.objects.get(pk=webhook_event_id)
