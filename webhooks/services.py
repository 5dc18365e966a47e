"""Requesters' webhooks: the events of their work, POSTed to the https endpoints they
register, through the same outbox and signed delivery as the MTurk endpoint's callbacks.

Events (``EVENTS``): a submission (``submitted``), a worker returning a task
(``returned``), a claim abandoned past its time (``abandoned``), a batch expiring
(``expired``), a batch's work all in (``reviewable``), a dispute opened (``disputed``) and
a dispute decided (``decided``). The body names the thing by id, never the worker, and says
whether it is sandbox work (a sandbox batch's play money, issue 24.6)::

    {"id": "<event id>", "type": "submitted", "created_at": "<ISO 8601>",
     "organisation": "<slug>", "sandbox": false, "data": {"batch_id": 1, "assignment_id": 2}}

It is signed as ``core.delivery`` describes, with ``X-Coop-Webhook-Id`` naming the
endpoint and ``X-Coop-Event`` the type. A failed delivery is retried with growing delays;
the delivery log keeps every attempt's outcome.
"""

import json
import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.keys import decrypt_secret, encrypt_secret, new_secret
from accounts.models import Organisation, User
from core import delivery as signed_delivery
from core.audit import audit_record
from core.errors import AppError
from core.models import OutboxEvent
from core.outbox import outbox_consume
from core.queue import queue_on_commit
from disputes.models import Case
from tasks.models import Assignment, Batch
from webhooks.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

OUTBOX_SUBSCRIBER = "webhooks"
MAX_ENDPOINTS = 10
LOST_JOB_GRACE = timedelta(minutes=1)
# Outbox action -> webhook event type.
ASSIGNMENT_EVENTS = {
    "assignment.submitted": "submitted",
    "assignment.return": "returned",
    "assignment.expire": "abandoned",
    "assignment.disputed": "disputed",
}
BATCH_EVENTS = {"batch.expire": "expired", "batch.complete": "reviewable"}
CASE_EVENTS = {"case.decided": "decided"}
EVENTS = ("submitted", "returned", "abandoned", "expired", "reviewable", "disputed", "decided")


def _invalid(fields: dict[str, list[str]]) -> AppError:
    first = next(iter(fields.values()))[0]
    return AppError("invalid", first, fields=fields)


def webhook_endpoint_create(
    *, organisation: Organisation, actor: User, url: str, events: list[str]
) -> tuple[WebhookEndpoint, str]:
    """Registers an endpoint of ``organisation`` (the caller reached it through
    ``organisation_for_request``, which checks staff access). Returns it with its signing
    secret, which is shown only now. Raises ``invalid`` (nothing written) for a URL that
    is not https or points at a private or loopback address, an unknown or empty event
    list, or too many endpoints."""
    fields: dict[str, list[str]] = {}
    url = url.strip()
    problem = signed_delivery.destination_problem(url)
    if problem:
        fields["url"] = [problem]
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        fields["events"] = [
            _("Unknown event type(s): %(unknown)s. Choose from: %(EVENTS)s.")
            % {"unknown": ", ".join(unknown), "EVENTS": ", ".join(EVENTS)}
        ]
    elif not events:
        fields["events"] = [_("Choose at least one event: %(EVENTS)s.") % {"EVENTS": ", ".join(EVENTS)}]
    if fields:
        raise _invalid(fields)
    secret = new_secret()
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        if WebhookEndpoint.objects.filter(organisation=organisation, active=True).count() >= MAX_ENDPOINTS:
            raise AppError(
                "too_many_webhooks",
                _("An organisation may register at most %(MAX_ENDPOINTS)s endpoints.")
                % {"MAX_ENDPOINTS": MAX_ENDPOINTS},
            )
        endpoint = WebhookEndpoint.objects.create(
            organisation=organisation,
            url=url,
            events=[event for event in EVENTS if event in set(events)],
            secret_encrypted=encrypt_secret(secret),
            created_by=actor,
        )
        audit_record(actor=actor, action="webhook.registered", target=endpoint, after={"url": url, "events": events})
    return endpoint, secret


def webhook_endpoint_deactivate(*, endpoint: WebhookEndpoint, actor: User) -> WebhookEndpoint:
    """Stops deliveries to ``endpoint`` (pending ones are not sent); idempotent."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not endpoint.active:
            return endpoint
        endpoint.active = False
        endpoint.save(update_fields=["active"])
        endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED, last_error="The endpoint was removed."
        )
        audit_record(actor=actor, action="webhook.removed", target=endpoint, before={"active": True})
    return endpoint


def _subjects(rows: list[OutboxEvent]) -> list[tuple[OutboxEvent, str, int, dict[str, Any], bool]]:
    """``(event, type, organisation id, data, sandbox)`` for the outbox events requesters receive."""
    assignment_ids = [int(r.target_id) for r in rows if r.target_type == "tasks.assignment"]
    batch_ids = [int(r.target_id) for r in rows if r.target_type == "tasks.batch"]
    case_ids = [int(r.target_id) for r in rows if r.target_type == "disputes.case"]
    slots = {
        pk: (batch_id, organisation_id, sandbox)
        for pk, batch_id, organisation_id, sandbox in Assignment.objects.filter(pk__in=assignment_ids).values_list(
            "pk", "batch_id", "batch__organisation_id", "batch__is_sandbox"
        )
    }
    batches = {
        pk: (organisation_id, sandbox)
        for pk, organisation_id, sandbox in Batch.objects.filter(pk__in=batch_ids).values_list(
            "pk", "organisation_id", "is_sandbox"
        )
    }
    cases = {
        pk: (organisation_id, outcome)
        for pk, organisation_id, outcome in Case.objects.filter(
            pk__in=case_ids, organisation__isnull=False
        ).values_list("pk", "organisation_id", "outcome")
    }
    subjects = []
    for row in rows:
        target = int(row.target_id)
        if row.target_type == "tasks.assignment" and row.action in ASSIGNMENT_EVENTS and target in slots:
            batch_id, organisation_id, sandbox = slots[target]
            data = {"batch_id": batch_id, "assignment_id": target}
            subjects.append((row, ASSIGNMENT_EVENTS[row.action], organisation_id, data, sandbox))
        elif row.target_type == "tasks.batch" and row.action in BATCH_EVENTS and target in batches:
            organisation_id, sandbox = batches[target]
            subjects.append((row, BATCH_EVENTS[row.action], organisation_id, {"batch_id": target}, sandbox))
        elif row.target_type == "disputes.case" and row.action in CASE_EVENTS and target in cases:
            organisation_id, _created = cases[target]
            data = {"case_id": target, "outcome": row.after.get("outcome", "")}
            # Sandbox work cannot be disputed: a case is always real.
            subjects.append((row, CASE_EVENTS[row.action], organisation_id, data, False))
    return subjects


def _deliveries_create(rows: list[OutboxEvent]) -> int:
    subjects = _subjects(rows)
    if not subjects:
        return 0
    organisations = {organisation_id for _, _, organisation_id, _, _ in subjects}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(organisation_id__in=organisations, active=True).select_related(
        "organisation"
    ):
        endpoints.setdefault(endpoint.organisation_id, []).append(endpoint)
    # The queued job delivers at once; the periodic retry picks it up only if that job is lost.
    retry_if_lost = timezone.now() + LOST_JOB_GRACE
    created = []
    for row, event_type, organisation_id, data, sandbox in subjects:
        for endpoint in endpoints.get(organisation_id, []):
            if event_type not in endpoint.events:
                continue
            key = f"outbox:{row.pk}:{endpoint.pk}"
            payload = {
                "id": key,
                "type": event_type,
                "created_at": row.created_at.isoformat(),
                "organisation": endpoint.organisation.slug,
                "sandbox": sandbox,
                "data": data,
            }
            created.append(
                WebhookDelivery(
                    endpoint=endpoint,
                    event_key=key,
                    event_type=event_type,
                    payload=payload,
                    next_attempt_at=retry_if_lost,
                )
            )
    if not created:
        return 0
    WebhookDelivery.objects.bulk_create(created, ignore_conflicts=True)
    for delivery in WebhookDelivery.objects.filter(event_key__in=[d.event_key for d in created], attempts=0):
        queue_on_commit("webhooks.jobs.deliver", delivery_id=delivery.pk)
    return len(created)


def webhook_deliveries_collect(*, limit: int = 1000) -> int:
    """Turns the outbox's new events into deliveries to the endpoints that chose them,
    each queued after commit; returns how many were created. Safe to run concurrently
    and after a crash (the outbox cursor is locked; delivery keys are unique)."""
    created = 0

    def handle(rows: list[OutboxEvent]) -> None:
        nonlocal created
        created = _deliveries_create(rows)

    outbox_consume(subscriber=OUTBOX_SUBSCRIBER, handle=handle, limit=limit)
    return created


def webhook_deliver(*, delivery_id: int) -> bool:
    """POSTs one pending delivery, signed with its endpoint's secret; on failure records
    the error and when to try again (``failed`` after ``MAX_ATTEMPTS``). Returns whether
    it is delivered. A delivery already delivered or failed is left alone."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return False
        endpoint = delivery.endpoint
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        delivery.attempts += 1
        if not endpoint.active:
            error = "The endpoint was removed."
        else:
            error = signed_delivery.post_signed(
                destination=endpoint.url,
                body=body,
                secret=decrypt_secret(endpoint.secret_encrypted) or "",
                headers={
                    "User-Agent": "coop-webhooks/1",
                    "X-Coop-Webhook-Id": str(endpoint.pk),
                    "X-Coop-Event": delivery.event_type,
                },
            )
        if error:
            delivery.last_error = error
            if delivery.attempts >= signed_delivery.MAX_ATTEMPTS or not endpoint.active:
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.next_attempt_at = timezone.now() + signed_delivery.retry_delay(delivery.attempts)
            logger.warning("webhook delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, error)
        else:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
        delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "delivered_at"])
    return not error


def webhook_deliveries_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose retry time has come, oldest first."""
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
