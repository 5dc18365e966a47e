"""The PostgreSQL backend (core.postgresql): Django's, with timestamps parsed by psycopg's
compiled loader, giving exactly what Django's own loader gives."""

from datetime import datetime
from typing import Any

import psycopg
import pytest
from django.db import DataError, connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from core.postgresql.base import PSYCOPG_LOADER, TIMESTAMPTZ_OID, TimestamptzLoader
from tasks.models import Batch
from tests.factories import OrganisationFactory
from tests.tasks.factories import make_batch

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LITERALS = [
    "2026-11-22 23:12:52.413688+00",
    "2026-03-29 01:59:59.999999+00",  # the hour the clocks go forward in Europe
    "2026-10-25 01:30:00+02",
    "1969-12-31 23:59:59.000001-05:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2000-02-29 12:00:00.5+14",
]


def _read(cursor: Any) -> list[Any]:
    outcomes: list[Any] = []
    for literal in [*LITERALS, "infinity", "-infinity"]:
        try:
            cursor.execute("SELECT %s::timestamptz", [literal])
            value = cursor.fetchone()[0]
            outcomes.append((value, value.tzinfo))
        except DataError as error:  # beyond Python's datetimes (infinity, year 10000): both refuse
            outcomes.append(str(error))
    return outcomes


@pytest.mark.parametrize("session_zone", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_timestamps_read_as_djangos_own_loader_reads_them(session_zone: str) -> None:
    with connection.cursor() as ours, connection.cursor() as djangos:
        ours.execute(f"SET TIME ZONE '{session_zone}'")
        register_tzloader(connection.timezone, djangos.cursor)
        assert not issubclass(djangos.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT), TimestamptzLoader)
        try:
            assert _read(ours) == _read(djangos)
        finally:
            ours.execute("SET TIME ZONE 'UTC'")


def test_every_cursor_reads_timestamps_with_the_compiled_parser() -> None:
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert issubclass(loader, TimestamptzLoader)
    assert loader.timezone == connection.timezone  # so Django keeps it (create_cursor)
    assert PSYCOPG_LOADER is not None
    if psycopg.pq.__impl__ in ("c", "binary"):
        assert PSYCOPG_LOADER.__module__.startswith("psycopg_")  # compiled, not psycopg.types


def test_models_keep_their_times_through_a_save_and_a_read() -> None:
    batch = make_batch(OrganisationFactory())
    read = Batch.objects.get(pk=batch.pk)
    assert read.created_at == batch.created_at
    assert isinstance(read.created_at, datetime) and read.created_at.utcoffset() is not None
