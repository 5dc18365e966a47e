"""Notifications: configured through boto3, delivered as signed HTTP callbacks to a
local receiver, from the events the marketplace records in its audit log."""

import hashlib
import hmac
import json

import pytest
from botocore.exceptions import ClientError

from core.models import OutboxEvent
from mturk import jobs
from mturk.ids import assignment_public_id
from mturk.models import Hit, NotificationDelivery, NotificationSetting
from mturk.notifications import destination_allowed
from tasks import services as task_services
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import error_of, hit_params

pytestmark = [live]


def verified(received, secret: str) -> dict:
    stamp, _, digest = received.headers["X-Coop-Signature"].partition(",v1=")
    at = stamp.removeprefix("t=")
    expected = hmac.new(secret.encode(), f"{at}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, digest)
    return json.loads(received.body)


def notification(url: str, *events: str) -> dict:
    return {"Destination": url, "Transport": "SNS", "Version": "2014-08-15", "EventTypes": list(events)}


def test_a_test_event_is_posted_and_signed(mturk, keys, receiver) -> None:
    mturk.send_test_event_notification(Notification=notification(receiver.url, "Ping"), TestEventType="Ping")

    assert len(receiver.received) == 1
    received = receiver.received[0]
    assert received.headers["X-Coop-Key-Id"] == keys[0]
    document = verified(received, keys[1])
    assert document["EventDocVersion"] == "2014-08-15"
    assert [event["EventType"] for event in document["Events"]] == ["Ping"]
    assert NotificationDelivery.objects.get().status == NotificationDelivery.Status.DELIVERED


def test_assignment_events_of_a_hit_type_are_delivered_once(mturk, organisation, keys, receiver, worker) -> None:
    fund(organisation, 1_000)
    created = mturk.create_hit(**hit_params(MaxAssignments=1))["HIT"]
    mturk.update_notification_settings(
        HITTypeId=created["HITTypeId"],
        Notification=notification(receiver.url, "AssignmentAccepted", "AssignmentSubmitted", "AssignmentApproved"),
        Active=True,
    )
    hit = Hit.objects.get(hit_id=created["HITId"])
    slot = task_services.assignment_accept(worker=worker, batch=hit.batch)
    task_services.assignment_submit(worker=worker, assignment=slot, answers={"cat": "yes"})
    task_services.assignment_approve(actor=None, assignment=slot)

    assert jobs.collect_notifications() == 3
    assert jobs.collect_notifications() == 0

    events = [verified(r, keys[1])["Events"][0] for r in receiver.received]
    assert [e["EventType"] for e in events] == ["AssignmentAccepted", "AssignmentSubmitted", "AssignmentApproved"]
    assert {(e["HITId"], e["HITTypeId"], e["AssignmentId"]) for e in events} == {
        (hit.hit_id, created["HITTypeId"], assignment_public_id(slot.pk))
    }

    mturk.update_notification_settings(HITTypeId=created["HITTypeId"], Active=False)
    assert NotificationSetting.objects.get().active is False


def test_bulk_approvals_and_late_committed_events_are_delivered(mturk, organisation, keys, receiver) -> None:
    fund(organisation, 1_000)
    created = mturk.create_hit(**hit_params(MaxAssignments=2))["HIT"]
    mturk.update_notification_settings(
        HITTypeId=created["HITTypeId"],
        Notification=notification(receiver.url, "AssignmentSubmitted", "AssignmentApproved"),
    )
    hit = Hit.objects.get(hit_id=created["HITId"])
    slots = []
    for worker in (UserFactory(), UserFactory()):
        slot = task_services.assignment_accept(worker=worker, batch=hit.batch)
        slots.append(task_services.assignment_submit(worker=worker, assignment=slot, answers={"cat": "yes"}))
    assert jobs.collect_notifications() == 2

    task_services.assignments_approve_many(actor=None, batch=hit.batch, assignment_ids=[s.pk for s in slots])
    # The bulk approval's transaction commits late: when the collector runs, its id is a
    # hole below a later event (here an unrelated one), and the cursor keeps it open.
    bulk = OutboxEvent.objects.get(action="assignment.bulk_approved")
    hidden = {f.name: getattr(bulk, f.name) for f in OutboxEvent._meta.fields}
    bulk.delete()
    OutboxEvent.objects.create(action="case.opened", target_type="disputes.case", target_id="0")
    assert jobs.collect_notifications() == 0
    OutboxEvent.objects.create(**hidden)  # the late transaction commits
    assert jobs.collect_notifications() == 2
    approved = [verified(r, keys[1])["Events"][0] for r in receiver.received[2:]]
    assert [(e["EventType"], e["AssignmentId"]) for e in approved] == [
        ("AssignmentApproved", assignment_public_id(s.pk)) for s in slots
    ]
    assert jobs.collect_notifications() == 0
    assert len(receiver.received) == 4


def test_a_failed_delivery_is_kept_for_a_retry(mturk, organisation, receiver) -> None:
    url = receiver.url
    receiver.stop()

    mturk.send_test_event_notification(Notification=notification(url, "Ping"), TestEventType="Ping")

    delivery = NotificationDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at is not None
    assert delivery.last_error


def test_destinations_must_be_https_urls(mturk, organisation) -> None:
    fund(organisation, 1_000)
    hit_type = mturk.create_hit(**hit_params())["HIT"]["HITTypeId"]
    for destination in ("arn:aws:sqs:us-east-1:1234:queue", "http://example.org/hook", "https://10.0.0.1/hook"):
        with pytest.raises(ClientError) as excinfo:
            mturk.update_notification_settings(HITTypeId=hit_type, Notification=notification(destination, "Ping"))
        assert "signed HTTPS POST" in error_of(excinfo)["message"]
    assert not NotificationSetting.objects.exists()
    assert destination_allowed("https://hooks.example.org/mturk")
