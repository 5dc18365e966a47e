"""MTurk notifications, delivered as signed HTTP callbacks.

Events come from the platform's event outbox (``core.outbox``), which every
marketplace service writes in its own transaction: the collector reads it through its
own cursor (no signals, no hooks into the marketplace, no rescan of history), turns
the actions on HITs that have a notification setting into one delivery per event and
destination (unique ``event_key``, so reading an event again is harmless), and queues
each delivery after commit.

A delivery is a POST of MTurk's notification document (EventDocVersion
2014-08-15) as JSON, signed by ``core.delivery`` (``X-Coop-Signature``) under the
secret of the API key that configured the notification, with ``X-Coop-Key-Id``
naming that key. A failed delivery is retried with growing delays.
"""

import datetime as dt
import json
import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.keys import decrypt_secret
from accounts.models import ApiKey, Organisation
from core import delivery as signed_delivery
from core.models import OutboxEvent
from core.outbox import outbox_consume
from core.queue import queue_on_commit
from mturk.ids import assignment_public_id
from mturk.models import Hit, NotificationDelivery
from tasks.models import Assignment

logger = logging.getLogger(__name__)

EVENT_DOC_VERSION = "2014-08-15"
MAX_ATTEMPTS = signed_delivery.MAX_ATTEMPTS
OUTBOX_SUBSCRIBER = "mturk"
ASSIGNMENT_EVENTS = {
    "assignment.accepted": "AssignmentAccepted",
    "assignment.return": "AssignmentReturned",
    "assignment.expire": "AssignmentAbandoned",
    "assignment.submitted": "AssignmentSubmitted",
    "assignment.approved": "AssignmentApproved",
    "assignment.rejected": "AssignmentRejected",
}
BATCH_EVENTS = {
    "batch.extended": "HITExtended",
    "batch.assignments_added": "HITExtended",
    "batch.expire": "HITExpired",
    "batch.cancel": "HITExpired",
    "batch.complete": "HITReviewable",
    "assignment.bulk_approved": "AssignmentApproved",
}
HIT_EVENTS = {"mturk.hit_created": "HITCreated", "mturk.hit_disposed": "HITDisposed"}


def timestamp(moment: datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def destination_allowed(destination: str) -> bool:
    return signed_delivery.destination_problem(destination) is None


def document(
    *, organisation: Organisation, event_key: str, events: list[dict[str, Any]], sandbox: bool = False
) -> dict[str, Any]:
    """MTurk's notification document, with ``Sandbox``: true for events of sandbox HITs
    (and test events sent from the sandbox endpoint), false otherwise: a HIT type's
    notification setting covers its sandbox and real HITs alike, and a receiver must tell
    play money from real work (issue 24.6)."""
    return {
        "EventDocId": event_key,
        "SourceAccount": organisation.slug,
        "CustomerId": organisation.slug,
        "EventDocVersion": EVENT_DOC_VERSION,
        "Sandbox": sandbox,
        "Events": events,
    }


def delivery_queue(
    *,
    organisation: Organisation,
    api_key: ApiKey,
    destination: str,
    event_key: str,
    events: list[dict[str, Any]],
    sandbox: bool = False,
) -> NotificationDelivery:
    """Records one delivery (once per ``event_key``) and queues it after commit."""
    with transaction.atomic():
        delivery, created = NotificationDelivery.objects.get_or_create(
            event_key=event_key,
            defaults={
                "organisation": organisation,
                "api_key": api_key,
                "destination": destination,
                "payload": document(organisation=organisation, event_key=event_key, events=events, sandbox=sandbox),
            },
        )
        if created:
            queue_on_commit("mturk.jobs.deliver_notification", delivery_id=delivery.pk)
    return delivery


def _assignment_event(event_type: str, hit: Hit, assignment_id: int, at: datetime) -> dict[str, Any]:
    return {
        "EventType": event_type,
        "EventTimestamp": timestamp(at),
        "HITTypeId": hit.hit_type.hit_type_id,
        "HITId": hit.hit_id,
        "AssignmentId": assignment_public_id(assignment_id),
    }


def _hit_event(event_type: str, hit: Hit, at: datetime) -> dict[str, Any]:
    return {
        "EventType": event_type,
        "EventTimestamp": timestamp(at),
        "HITTypeId": hit.hit_type.hit_type_id,
        "HITId": hit.hit_id,
    }


def _events_of(
    row: OutboxEvent, slot_batches: dict[int, int], by_batch: dict[int, Hit], by_pk: dict[int, Hit]
) -> list[tuple[Hit, dict[str, Any]]]:
    """The MTurk events one outbox event stands for, on HITs with an active notification."""
    target = int(row.target_id)
    if row.target_type == "tasks.assignment" and row.action in ASSIGNMENT_EVENTS:
        hit = by_batch.get(slot_batches.get(target, 0))
        return [(hit, _assignment_event(ASSIGNMENT_EVENTS[row.action], hit, target, row.created_at))] if hit else []
    if row.target_type == "tasks.batch" and row.action in BATCH_EVENTS:
        hit = by_batch.get(target)
        if hit is None:
            return []
        if row.action == "assignment.bulk_approved":
            return [
                (hit, _assignment_event("AssignmentApproved", hit, int(pk), row.created_at))
                for pk in row.after.get("assignment_ids", [])
            ]
        return [(hit, _hit_event(BATCH_EVENTS[row.action], hit, row.created_at))]
    if row.target_type == "mturk.hit" and row.action in HIT_EVENTS:
        hit = by_pk.get(target)
        return [(hit, _hit_event(HIT_EVENTS[row.action], hit, row.created_at))] if hit else []
    return []


def notifications_collect(*, limit: int = 5000) -> int:
    """Turns the outbox's new events about HITs with an active notification setting into
    queued deliveries; returns how many were queued. Safe to run concurrently and
    repeatedly: the outbox cursor is locked while it reads, and delivery keys make an
    event read twice (after a crash) harmless."""
    queued = 0

    def handle(rows: list[OutboxEvent]) -> None:
        nonlocal queued
        queued = _deliveries_queue(rows)

    outbox_consume(subscriber=OUTBOX_SUBSCRIBER, handle=handle, limit=limit)
    return queued


def _deliveries_queue(rows: list[OutboxEvent]) -> int:
    actions = {*ASSIGNMENT_EVENTS, *BATCH_EVENTS, *HIT_EVENTS}
    rows = [row for row in rows if row.action in actions]
    assignment_ids = [int(r.target_id) for r in rows if r.target_type == "tasks.assignment"]
    batch_ids = [int(r.target_id) for r in rows if r.target_type == "tasks.batch"]
    hit_ids = [int(r.target_id) for r in rows if r.target_type == "mturk.hit"]
    if not rows:
        return 0
    slot_batches = dict(Assignment.objects.filter(pk__in=assignment_ids).values_list("pk", "batch_id"))
    hits = Hit.objects.filter(
        Q(batch_id__in=[*batch_ids, *slot_batches.values()]) | Q(pk__in=hit_ids),
        hit_type__notification__active=True,
    ).select_related("batch", "hit_type", "hit_type__notification", "hit_type__notification__api_key", "organisation")
    by_batch = {hit.batch_id: hit for hit in hits}
    by_pk = {hit.pk: hit for hit in hits}
    candidates: list[tuple[str, Hit, dict[str, Any]]] = []
    for row in rows:
        for index, (hit, event) in enumerate(_events_of(row, slot_batches, by_batch, by_pk)):
            setting = hit.hit_type.notification
            if event["EventType"] in setting.event_types:
                candidates.append((f"outbox:{row.pk}:{index}:{setting.pk}", hit, event))
    done = set(
        NotificationDelivery.objects.filter(event_key__in=[key for key, _, _ in candidates]).values_list(
            "event_key", flat=True
        )
    )
    queued = 0
    for key, hit, event in candidates:
        if key in done:
            continue
        setting = hit.hit_type.notification
        delivery_queue(
            organisation=hit.organisation,
            api_key=setting.api_key,
            destination=setting.destination,
            event_key=key,
            events=[event],
            sandbox=hit.batch.is_sandbox,
        )
        queued += 1
    return queued


def notification_deliver(*, delivery_id: int) -> bool:
    """POSTs one delivery; on failure records the error and when to try again. Returns
    whether it is delivered. Idempotent: a delivered notification is not sent again."""
    with transaction.atomic():
        delivery = (
            NotificationDelivery.objects.select_for_update(skip_locked=True)
            .select_related("api_key")
            .filter(pk=delivery_id, status=NotificationDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return False
        secret = decrypt_secret(delivery.api_key.secret_encrypted) or ""
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        delivery.attempts += 1
        error = signed_delivery.post_signed(
            destination=delivery.destination,
            body=body,
            secret=secret,
            headers={"User-Agent": "coop-mturk-notifications/1", "X-Coop-Key-Id": delivery.api_key.access_key_id},
        )
        if error:
            delivery.last_error = error
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = NotificationDelivery.Status.FAILED
            else:
                delivery.next_attempt_at = timezone.now() + signed_delivery.retry_delay(delivery.attempts)
            logger.warning("mturk notification %s failed (attempt %s): %s", delivery.pk, delivery.attempts, error)
        else:
            delivery.status = NotificationDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
        delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "delivered_at"])
    return not error


def notifications_due() -> list[int]:
    """Pending deliveries whose retry time has come."""
    return list(
        NotificationDelivery.objects.filter(
            status=NotificationDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
