"""What the payout providers tell us about payouts: Stripe's v2 thin events (Global
Payouts) and PayPal's webhooks, verified, stored once by event id, and applied.

Both kinds carry only ids that we trust after verification; the handler then fetches
the object's current state from the provider (an OutboundPayment, a recipient
Account, a PayPal payout item) and moves our payout to match it. Applying the
current state rather than the event's makes duplicated and out-of-order deliveries
harmless: a payout is paid, failed or returned exactly once by ``payouts.services``.
An event about a payout we do not know changes nothing and is recorded as such.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import AppError
from payments import stripe_gateway
from payments.stripe_gateway import StripeEvent
from payouts import services
from payouts.models import Payout, ProviderWebhookEvent, Rail
from payouts.rails import paypal_client, wise_client

logger = logging.getLogger(__name__)

# -- Stripe Global Payouts (v2 thin events) --------------------------------------------------


def _payout_for_outbound_payment(payment: stripe_gateway.OutboundPayment) -> Payout | None:
    """Our payout behind an OutboundPayment: by its id, or by the PayoutIntent we
    confirmed (when the job crashed before recording the payment id). The recipient
    must be the payout's, so an event about someone else can never settle it."""
    payout = Payout.objects.filter(rail=Rail.STRIPE_GLOBAL, rail_reference=payment.id).first()
    if payout is None and payment.payout_intent_id:
        payout = Payout.objects.filter(rail=Rail.STRIPE_GLOBAL, quote_reference=payment.payout_intent_id).first()
    if payout is None or payout.destination.get("account") != payment.recipient:
        return None
    return payout


def outbound_payment_apply(*, payment: stripe_gateway.OutboundPayment) -> Payout | None:
    """Moves our payout to the OutboundPayment's current status: ``posted`` pays it
    (recording what was credited), ``failed``/``canceled`` fail it, ``returned``
    credits a paid payout back (or fails one not yet paid). Idempotent."""
    payout = _payout_for_outbound_payment(payment)
    if payout is None:
        logger.info("outbound payment %s names no payout of ours", payment.id)
        return None
    with transaction.atomic():
        if payout.state in (Payout.State.CREATED, Payout.State.SUBMITTED) and not payout.rail_reference:
            services.payout_reference_record(payout_id=payout.pk, references={"rail_reference": payment.id})
        if payment.status == "posted":
            return services.payout_pay(payout_id=payout.pk, arrived_amount=payment.credited_amount)
        if payment.status in ("failed", "canceled"):
            if payout.state == Payout.State.PAID:
                return payout  # a stale answer: Stripe reported it posted since
            return services.payout_fail(
                payout_id=payout.pk,
                code=payment.reason or payment.status,
                reason="stripe_failed",
                detail=payment.reason or payment.status,
            )
        if payment.status == "returned":
            return services.payout_fail(
                payout_id=payout.pk,
                code=payment.reason or "returned",
                reason="stripe_returned",
                detail=payment.reason or "returned",
            )
    return payout


def stripe_v2_event(event: StripeEvent) -> None:
    """Handler of every v2 thin event (``v2.*``) in the Stripe inbox."""
    related = event.payload.get("related_object") or {}
    object_id = str(related.get("id") or "")
    if not object_id:
        return
    if event.type.startswith("v2.money_management.outbound_payment."):
        outbound_payment_apply(payment=stripe_gateway.outbound_payment_retrieve(outbound_payment_id=object_id))
    elif event.type.startswith("v2.core.account"):
        services.global_recipient_update(account=stripe_gateway.recipient_account_retrieve(account_id=object_id))


def stripe_event_notification_receive(*, payload: bytes, signature_header: str) -> tuple[Any, bool]:
    """Verifies a v2 thin event and stores it in the one Stripe inbox
    (``payments.webhooks``), which processes it in a job exactly once."""
    from payments.webhooks import webhook_event_receive

    notification = stripe_gateway.event_notification_verify(payload=payload, signature_header=signature_header)
    created = notification.created
    try:
        as_of = int(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp())
    except ValueError:
        as_of = 0
    return webhook_event_receive(
        event=StripeEvent(
            id=notification.id,
            type=notification.type,
            created=as_of,
            account="",
            payload=notification.payload,
            endpoint="event_destination",
        )
    )


# -- PayPal Payouts --------------------------------------------------------------------------

PAYPAL = "paypal"
_PAID = {"SUCCESS"}
_FAILED = {"FAILED", "BLOCKED", "DENIED", "CANCELED"}
_RETURNED = {"RETURNED", "REFUNDED", "REVERSED"}


def paypal_item_apply(*, item: paypal_client.PayoutItem) -> Payout | None:
    """Moves our payout to the PayPal item's current status. The item must name our
    payout (``sender_item_id`` ``payout:<id>``) and, once known, its batch. Idempotent."""
    sender = item.sender_item_id
    payout_id = int(sender.split(":", 1)[1]) if sender.startswith("payout:") and sender[7:].isdigit() else None
    payout = Payout.objects.filter(pk=payout_id, rail=Rail.PAYPAL).first() if payout_id else None
    if payout is None or (payout.rail_reference and payout.rail_reference != item.payout_batch_id):
        logger.info("PayPal item %s names no payout of ours", item.payout_item_id)
        return None
    with transaction.atomic():
        if payout.state in (Payout.State.CREATED, Payout.State.SUBMITTED) and not payout.rail_reference:
            services.payout_reference_record(payout_id=payout.pk, references={"rail_reference": item.payout_batch_id})
        status = item.transaction_status
        if status in _PAID:
            return services.payout_pay(payout_id=payout.pk, arrived_amount=item.amount)
        if status in _FAILED:
            if payout.state == Payout.State.PAID:
                return payout
            return services.payout_fail(
                payout_id=payout.pk,
                code=status.lower(),
                reason="paypal_failed",
                detail=item.error or status.lower(),
            )
        if status in _RETURNED:
            return services.payout_fail(
                payout_id=payout.pk,
                code=status.lower(),
                reason="paypal_returned",
            )
    return payout  # PENDING, UNCLAIMED, ONHOLD: nothing to settle yet


def paypal_webhook_receive(*, headers: dict[str, str], body: bytes) -> tuple[ProviderWebhookEvent, bool]:
    """Verifies a PayPal webhook through PayPal's verify endpoint, stores it once by
    event id and processes it. Raises ``webhook_signature_invalid`` (400) for a
    delivery PayPal does not vouch for, and ``invalid_webhook`` for a body that is not
    a PayPal event; nothing is stored then."""
    try:
        event = json.loads(body)
    except ValueError:
        raise AppError("invalid_webhook", _("The body is not a PayPal event."), status=400) from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
        raise AppError("invalid_webhook", _("The body is not a PayPal event."), status=400)
    paypal_client.webhook_verify(headers=headers, event=event)
    try:
        with transaction.atomic():
            stored = ProviderWebhookEvent.objects.create(
                provider=PAYPAL, event_id=str(event["id"]), type=str(event["event_type"]), payload=event
            )
            created = True
    except IntegrityError:
        stored = ProviderWebhookEvent.objects.get(provider=PAYPAL, event_id=str(event["id"]))
        ProviderWebhookEvent.objects.filter(pk=stored.pk).update(deliveries=F("deliveries") + 1)
        created = False
    if stored.status != ProviderWebhookEvent.Status.PROCESSED:
        stored = paypal_event_process(event_pk=stored.pk)
    return stored, created


def paypal_event_process(*, event_pk: int) -> ProviderWebhookEvent:
    """Applies a stored PayPal event once; a provider outage leaves it ``failed`` for
    ``paypal_events_retry`` (the webhook is also redelivered by PayPal)."""
    try:
        with transaction.atomic():
            stored = ProviderWebhookEvent.objects.select_for_update().get(pk=event_pk)
            if stored.status == ProviderWebhookEvent.Status.PROCESSED:
                return stored
            note = ""
            if stored.type.startswith("PAYMENT.PAYOUTS-ITEM."):
                resource = stored.payload.get("resource") or {}
                item_id = str(resource.get("payout_item_id") or "")
                payout = (
                    paypal_item_apply(item=paypal_client.payout_item_retrieve(payout_item_id=item_id))
                    if item_id
                    else None
                )
                if payout is None:
                    note = "No payout of ours matches this PayPal item; nothing was changed."
                    audit_record(actor=None, action="paypal_webhook.unknown_payout", target=stored, after={})
            stored.status = ProviderWebhookEvent.Status.PROCESSED
            stored.processed_at = timezone.now()
            stored.error = note
            stored.save(update_fields=["status", "processed_at", "error"])
            return stored
    except AppError as error:
        logger.warning("PayPal event %s failed: %s", event_pk, error.code)
        ProviderWebhookEvent.objects.filter(pk=event_pk).exclude(status=ProviderWebhookEvent.Status.PROCESSED).update(
            status=ProviderWebhookEvent.Status.FAILED, error=f"{error.code}: {error.message}"[:2000]
        )
        return ProviderWebhookEvent.objects.get(pk=event_pk)


# -- Wise ------------------------------------------------------------------------------------

WISE = "wise"
_WISE_PAID = {"outgoing_payment_sent"}
_WISE_FAILED = {"cancelled"}
_WISE_RETURNED = {"funds_refunded", "bounced_back", "charged_back"}


def wise_transfer_apply(*, transfer: wise_client.WiseTransfer) -> Payout | None:
    """Moves our payout to the Wise transfer's current status. The transfer must name
    our payout (its reference) and go to the payout's recipient. Idempotent."""
    match = re.fullmatch(r"COOP PAYOUT (\d+)", transfer.reference)
    payout = Payout.objects.filter(pk=int(match.group(1)), rail=Rail.WISE).first() if match else None
    if (
        payout is None
        or payout.destination.get("recipient") != transfer.target_account
        or (payout.rail_reference and payout.rail_reference != transfer.id)
    ):
        logger.info("Wise transfer %s names no payout of ours", transfer.id)
        return None
    with transaction.atomic():
        if payout.state in (Payout.State.CREATED, Payout.State.SUBMITTED) and not payout.rail_reference:
            services.payout_reference_record(payout_id=payout.pk, references={"rail_reference": transfer.id})
        if transfer.status in _WISE_PAID:
            return services.payout_pay(payout_id=payout.pk, arrived_amount=transfer.target_value)
        if transfer.status in _WISE_FAILED:
            if payout.state == Payout.State.PAID:
                return payout
            return services.payout_fail(
                payout_id=payout.pk,
                code="cancelled",
                reason="wise_cancelled",
            )
        if transfer.status in _WISE_RETURNED:
            return services.payout_fail(
                payout_id=payout.pk,
                code=transfer.status,
                reason="wise_returned",
            )
    return payout


def wise_webhook_receive(*, headers: dict[str, str], body: bytes) -> tuple[ProviderWebhookEvent, bool]:
    """Verifies Wise's RSA signature, stores the state change once (transfer, state and
    time make its id: Wise's delivery ids change per attempt) and applies it."""
    lowered = {key.lower(): value for key, value in headers.items()}
    wise_client.webhook_verify(body=body, signature=lowered.get("x-signature-sha256", ""))
    try:
        event = json.loads(body)
        data = event["data"]
        resource = data["resource"]
        event_id = f"{resource['id']}:{data.get('current_state')}:{data.get('occurred_at')}"
    except (ValueError, KeyError, TypeError):
        raise AppError("invalid_webhook", _("The body is not a Wise event."), status=400) from None
    try:
        with transaction.atomic():
            stored = ProviderWebhookEvent.objects.create(
                provider=WISE, event_id=event_id[:100], type=str(event.get("event_type") or ""), payload=event
            )
            created = True
    except IntegrityError:
        stored = ProviderWebhookEvent.objects.get(provider=WISE, event_id=event_id[:100])
        ProviderWebhookEvent.objects.filter(pk=stored.pk).update(deliveries=F("deliveries") + 1)
        created = False
    if stored.status != ProviderWebhookEvent.Status.PROCESSED:
        stored = wise_event_process(event_pk=stored.pk)
    return stored, created


def wise_event_process(*, event_pk: int) -> ProviderWebhookEvent:
    try:
        with transaction.atomic():
            stored = ProviderWebhookEvent.objects.select_for_update().get(pk=event_pk)
            if stored.status == ProviderWebhookEvent.Status.PROCESSED:
                return stored
            note = ""
            if stored.type == "transfers#state-change":
                transfer_id = str(((stored.payload.get("data") or {}).get("resource") or {}).get("id") or "")
                payout = wise_transfer_apply(transfer=wise_client.transfer_retrieve(transfer_id=transfer_id))
                if payout is None:
                    note = "No payout of ours matches this Wise transfer; nothing was changed."
                    audit_record(actor=None, action="wise_webhook.unknown_payout", target=stored, after={})
            stored.status = ProviderWebhookEvent.Status.PROCESSED
            stored.processed_at = timezone.now()
            stored.error = note
            stored.save(update_fields=["status", "processed_at", "error"])
            return stored
    except AppError as error:
        logger.warning("Wise event %s failed: %s", event_pk, error.code)
        ProviderWebhookEvent.objects.filter(pk=event_pk).exclude(status=ProviderWebhookEvent.Status.PROCESSED).update(
            status=ProviderWebhookEvent.Status.FAILED, error=f"{error.code}: {error.message}"[:2000]
        )
        return ProviderWebhookEvent.objects.get(pk=event_pk)
