"""Worker activity by hour, the writing side (see ``tasks.activity`` for what it is for and
how big it may grow).

No audit row: a visit is not a change of anyone's standing, and the rows are deleted after
``ACTIVITY_KEEP_DAYS``. Each process remembers the workers it wrote in the current hour, so a
worker's every other page in that hour costs nothing; a second process writing the same hour
is harmless (the write sets a bit that is already set).
"""

from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import User
from tasks.activity import ACTIVITY_KEEP_DAYS, utc_day, utc_hour
from tasks.models import WorkerActivity

# (hours since the epoch, ids of the workers this process wrote in that hour)
_written: tuple[int, set[int]] = (-1, set())

_UPSERT = (
    "INSERT INTO {table} (worker_id, day, hours) VALUES (%s, %s, %s) "
    "ON CONFLICT (worker_id, day) DO UPDATE SET hours = {table}.hours | excluded.hours"
)


def worker_activity_record(*, worker: User, at: datetime | None = None) -> bool:
    """Records that ``worker`` looked for work in the UTC hour of ``at`` (now by default):
    one upsert (PostgreSQL and SQLite alike) the first time this process sees them in that
    hour, nothing afterwards. Returns whether it wrote. Idempotent; never raises for a
    repeated hour."""
    global _written
    moment = at or timezone.now()
    stamp = int(moment.timestamp()) // 3600
    hour, written = _written
    if hour != stamp:
        written = set()
        _written = (stamp, written)
    if worker.pk in written:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT.format(table=connection.ops.quote_name(WorkerActivity._meta.db_table)),
            [worker.pk, utc_day(moment), 1 << utc_hour(moment)],
        )
    written.add(worker.pk)
    return True


def worker_activity_prune(*, at: datetime | None = None) -> int:
    """Deletes the activity rows older than ``ACTIVITY_KEEP_DAYS`` (system service: the daily
    job ``tasks.jobs.activity_prune``); returns how many."""
    oldest_kept = utc_day(at or timezone.now()) - timedelta(days=ACTIVITY_KEEP_DAYS - 1)
    deleted, _by_model = WorkerActivity.objects.filter(day__lt=oldest_kept).delete()
    return deleted
