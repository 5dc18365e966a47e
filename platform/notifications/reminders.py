"""Reminders 24 hours and 2 hours before every deadline that costs someone money or a vote.

The apps that own deadlines register a source at start-up (``register`` in their
``AppConfig.ready``): a function returning the deadlines falling in ``(now, until]`` with who
must act. The beat job sends each person one reminder per deadline and window; the unique
constraint on ``ReminderSent`` makes a repeat or a concurrent run send nothing twice.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from notifications.models import ReminderSent
from notifications.services import notify

logger = logging.getLogger(__name__)

WINDOWS = (("2h", timedelta(hours=2)), ("24h", timedelta(hours=24)))


@dataclass(frozen=True)
class Deadline:
    key: str
    due_at: datetime
    user_ids: list[int]
    category: str
    params: dict[str, Any] = field(default_factory=dict)
    url: str = ""


Source = Callable[[datetime, datetime], Iterable[Deadline]]
SOURCES: dict[str, Source] = {}


def register(name: str, source: Source) -> None:
    SOURCES[name] = source


def window_for(*, due_at: datetime, now: datetime) -> str | None:
    left = due_at - now
    for name, width in WINDOWS:
        if timedelta(0) < left <= width:
            return name
    return None


def _remind(deadline: Deadline, now: datetime) -> int:
    window = window_for(due_at=deadline.due_at, now=now)
    if window is None or not deadline.user_ids:
        return 0
    with transaction.atomic():
        done = set(
            ReminderSent.objects.filter(user_id__in=deadline.user_ids, key=deadline.key, window=window).values_list(
                "user_id", flat=True
            )
        )
        due = sorted(set(deadline.user_ids) - done)
        if not due:
            return 0
        ReminderSent.objects.bulk_create([ReminderSent(user_id=uid, key=deadline.key, window=window) for uid in due])
        return notify(
            users=due,
            category=deadline.category,
            params={**deadline.params, "deadline": deadline.due_at},
            url=deadline.url,
        )


def reminders_send(*, now: datetime) -> int:
    """Sends the reminders due at ``now``; returns how many went out. Each deadline is its
    own transaction, so one failing source or deadline does not hold back the others."""
    sent = 0
    until = now + WINDOWS[-1][1]
    for name, source in SOURCES.items():
        try:
            deadlines = list(source(now, until))
        except Exception:
            logger.exception("reminder source %s failed", name)
            continue
        for deadline in deadlines:
            try:
                sent += _remind(deadline, now)
            except IntegrityError:
                # Another run sent this reminder at the same moment.
                continue
            except Exception:
                logger.exception("reminder %s failed", deadline.key)
    return sent
