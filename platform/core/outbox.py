"""The event outbox: events written in the transaction that made them, read by each
subscriber through its own cursor.

``audit_record`` writes an ``OutboxEvent`` next to the audit row for every action in
``OUTBOX_ACTIONS`` (the events subscribers can receive), so the event exists exactly
when the change committed. A subscriber's job calls ``outbox_consume`` with a handler.

Reading by a cursor on the primary key is cheap (an index range past the cursor) but ids
are taken at insert and become visible at commit, so a transaction that commits late
leaves a hole that fills later. The cursor therefore keeps, above ``last_id``, the ids it
has handled and the holes it has seen (with the time first seen); a hole is read again
on every run until it fills, or until ``GAP_TIMEOUT`` has passed (longer than any
transaction may last: the id was rolled back). ``last_id`` moves on only over ids handled
or given up. Nothing is skipped past a cap: a run reads at most ``limit`` new events and
the next run continues where it stopped.

The handler runs inside the cursor's transaction: if it fails, the cursor does not move
and the same events come again, so handlers must be idempotent (unique keys).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.models import OutboxCursor, OutboxEvent

GAP_TIMEOUT = timedelta(minutes=10)
DEFAULT_LIMIT = 1000

# Actions that subscribers can receive (the MTurk endpoint's and requesters' webhooks).
# Only these are written to the outbox, so the claim path pays for no second row.
OUTBOX_ACTIONS = frozenset(
    {
        "assignment.accepted",
        "assignment.return",
        "assignment.expire",
        "assignment.submitted",
        "assignment.approved",
        "assignment.rejected",
        "assignment.bulk_approved",
        "assignment.disputed",
        "batch.extended",
        "batch.assignments_added",
        "batch.expire",
        "batch.cancel",
        "batch.complete",
        "mturk.hit_created",
        "mturk.hit_disposed",
        "case.opened",
        "case.decided",
    }
)


def outbox_consume(
    *,
    subscriber: str,
    handle: Callable[[list[OutboxEvent]], object],
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> int:
    """Hands ``subscriber``'s next events (holes that filled first, then up to ``limit``
    new ones, in id order) to ``handle`` and moves the cursor on; returns how many.
    Safe to run concurrently (the cursor row is locked) and again after a crash.

    A new subscriber starts at the oldest event still in the table."""
    moment = now or timezone.now()
    with transaction.atomic():
        cursor, _ = OutboxCursor.objects.select_for_update().get_or_create(subscriber=subscriber)
        handled = set(cursor.handled)
        # Holes as ranges [low, high, first seen]: a bulk insert that commits late fills many ids.
        holes: list[list[Any]] = [list(hole) for hole in cursor.gaps.get("ranges", [])]
        late: list[OutboxEvent] = []
        if holes:
            in_holes = Q()
            for low, high, _ in holes:
                in_holes |= Q(id__range=(low, high))
            late = list(OutboxEvent.objects.filter(in_holes).exclude(id__in=list(handled)).order_by("id"))
        fresh_query = OutboxEvent.objects.filter(id__gt=cursor.last_id).order_by("id")
        if handled:
            fresh_query = fresh_query.exclude(id__in=list(handled))
        fresh = list(fresh_query[:limit])
        known = {event.id for event in late}
        events = late + [event for event in fresh if event.id not in known]
        if events:
            handle(events)
        # Ids skipped between the events read are holes until they fill or time out.
        expected = max([cursor.last_id, *handled]) + 1
        for event in fresh:
            if event.id < expected:
                continue
            if event.id > expected:
                holes.append([expected, event.id - 1, moment.isoformat()])
            expected = max(expected, event.id + 1)
        handled.update(event.id for event in events)
        live = []
        last_id = cursor.last_id
        for low, high, seen in sorted(holes):
            if moment - (parse_datetime(seen) or moment) < GAP_TIMEOUT:
                live.append([low, high, seen])
        # The cursor moves over handled ids and over holes given up; it stops at a live hole.
        given_up = [hole for hole in sorted(holes) if hole not in live]
        while True:
            if last_id + 1 in handled:
                last_id += 1
                continue
            hole = next((h for h in given_up if h[0] <= last_id + 1 <= h[1]), None)
            if hole is None:
                break
            last_id = hole[1]
        handled = {pk for pk in handled if pk > last_id}
        live = [hole for hole in live if hole[1] > last_id]
        cursor.last_id = last_id
        cursor.handled = sorted(handled)
        cursor.gaps = {"ranges": live}
        cursor.save(update_fields=["last_id", "handled", "gaps"])
    return len(events)


def outbox_lag(*, subscriber: str) -> int:
    """Events committed past ``subscriber``'s cursor that it has not handled yet."""
    cursor = OutboxCursor.objects.filter(subscriber=subscriber).first()
    last_id, handled = (cursor.last_id, cursor.handled) if cursor else (0, [])
    return OutboxEvent.objects.filter(id__gt=last_id).exclude(id__in=handled).count()
