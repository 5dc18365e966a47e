"""The event outbox: written with the change, read by a cursor that neither rescans
history nor loses an event whose transaction committed late."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.models import OutboxCursor, OutboxEvent
from core.outbox import GAP_TIMEOUT, outbox_consume, outbox_lag

pytestmark = pytest.mark.django_db


def event(number: int, pk: int | None = None) -> OutboxEvent:
    return OutboxEvent.objects.create(
        id=pk, action="assignment.submitted", target_type="tasks.assignment", target_id=str(number)
    )


@pytest.fixture(autouse=True)
def started(request: pytest.FixtureRequest) -> None:
    """The subscriber has read everything so far (ids of earlier tests on PostgreSQL,
    whose sequences are not reset, are holes it gave up)."""
    if "transactional_db" in request.fixturenames or request.node.get_closest_marker("postgres"):
        return
    event(0)
    outbox_consume(subscriber="test", handle=lambda events: None)
    outbox_consume(subscriber="test", handle=lambda events: None, now=timezone.now() + 2 * GAP_TIMEOUT)
    assert OutboxCursor.objects.get(subscriber="test").gaps == {"ranges": []}


class Sink:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, events: list[OutboxEvent]) -> None:
        self.seen.extend(e.target_id for e in events)


def test_each_event_is_handed_over_once_in_order() -> None:
    sink = Sink()
    for number in range(5):
        event(number)
    assert outbox_consume(subscriber="test", handle=sink, limit=2) == 2
    assert outbox_consume(subscriber="test", handle=sink, limit=2) == 2
    assert outbox_consume(subscriber="test", handle=sink, limit=2) == 1
    assert outbox_consume(subscriber="test", handle=sink) == 0
    assert sink.seen == ["0", "1", "2", "3", "4"]
    assert OutboxCursor.objects.get(subscriber="test").last_id == OutboxEvent.objects.order_by("-id").first().id
    assert outbox_lag(subscriber="test") == 0


def test_an_event_committed_late_is_read_when_it_lands() -> None:
    sink = Sink()
    first = event(1)
    # The id after ``first`` is taken by a transaction that has not committed yet.
    hidden = event(2)
    late_id = hidden.id
    hidden.delete()
    event(3)
    assert outbox_consume(subscriber="test", handle=sink) == 2
    cursor = OutboxCursor.objects.get(subscriber="test")
    assert cursor.last_id == first.id  # it does not move past the hole
    assert [hole[:2] for hole in cursor.gaps["ranges"]] == [[late_id, late_id]]

    event(2, pk=late_id)  # the late transaction commits
    event(4)
    assert outbox_consume(subscriber="test", handle=sink) == 2
    assert sink.seen == ["1", "3", "2", "4"]
    cursor.refresh_from_db()
    assert (cursor.last_id, cursor.handled, cursor.gaps["ranges"]) == (first.id + 3, [], [])
    assert outbox_consume(subscriber="test", handle=sink) == 0


def test_a_hole_that_never_fills_is_given_up_after_the_timeout() -> None:
    sink = Sink()
    first = event(1)
    rolled_back = [event(0) for _ in range(4)]
    OutboxEvent.objects.filter(pk__in=[e.pk for e in rolled_back]).delete()
    event(3)
    outbox_consume(subscriber="test", handle=sink)
    assert OutboxCursor.objects.get(subscriber="test").last_id == first.id
    outbox_consume(subscriber="test", handle=sink, now=timezone.now() + GAP_TIMEOUT + timedelta(seconds=1))
    cursor = OutboxCursor.objects.get(subscriber="test")
    assert (cursor.last_id, cursor.handled, cursor.gaps["ranges"]) == (first.id + 5, [], [])
    assert sink.seen == ["1", "3"]


def test_a_failing_handler_moves_nothing_and_the_events_come_again() -> None:
    event(1)

    def broken(events: list[OutboxEvent]) -> None:
        raise RuntimeError("subscriber down")

    with pytest.raises(RuntimeError):
        outbox_consume(subscriber="test", handle=broken)
    sink = Sink()
    assert outbox_consume(subscriber="test", handle=sink) == 1
    assert sink.seen == ["1"]


def test_the_audit_record_writes_the_event_in_the_same_transaction() -> None:
    from core.audit import audit_record
    from tests.factories import UserFactory

    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="assignment.submitted", target=user)
        raise RuntimeError("roll back")
    assert not OutboxEvent.objects.filter(target_type="accounts.user").exists()
    audit_record(actor=None, action="assignment.submitted", target=user, after={"x": 1})
    audit_record(actor=None, action="user.logged_in", target=user)  # not an event anyone receives
    assert list(
        OutboxEvent.objects.filter(target_type="accounts.user").values_list("action", "target_id", "after")
    ) == [("assignment.submitted", str(user.pk), {"x": 1})]


def test_a_reader_that_only_reads_new_events_reads_a_fixed_number_of_rows(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    OutboxEvent.objects.bulk_create(
        OutboxEvent(action="assignment.submitted", target_type="tasks.assignment", target_id=str(n))
        for n in range(3000)
    )
    outbox_consume(subscriber="test", handle=lambda events: None, limit=5000)
    event(1)
    with django_assert_max_num_queries(6):
        assert outbox_consume(subscriber="test", handle=lambda events: None) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_late_commit_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    sink = Sink()
    taken = threading.Event()
    release = threading.Event()

    def slow_transaction() -> None:
        try:
            with transaction.atomic():
                event(1)  # takes the lower id, commits last
                taken.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_transaction)
    thread.start()
    taken.wait(10)
    event(2)
    assert outbox_consume(subscriber="test", handle=sink) == 1
    release.set()
    thread.join()
    assert outbox_consume(subscriber="test", handle=sink) == 1
    assert sink.seen == ["2", "1"]
