"""Django's PostgreSQL backend, with one change: ``timestamptz`` values are parsed by
psycopg's compiled loader instead of its pure-Python one.

Django registers its own loader for ``timestamptz`` (it sets each value's time zone to the
connection's). That loader subclasses psycopg's Python parser, so every timestamp read,
on every connection, was parsed by a regular expression in Python: about 5 µs a value,
a third of a millisecond for a page of twenty batches. ``TimestamptzLoader`` does what
Django's does, ``.replace(tzinfo=timezone)`` on what psycopg parsed, with the parser
psycopg itself uses for ``timestamptz`` (compiled when ``psycopg[binary]`` is installed).
"""

from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
# psycopg swaps its compiled loader in where it has one: this is the class it would use.
PSYCOPG_LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


class TimestamptzLoader(Loader):
    # Django compares this with the connection's zone on every cursor (create_cursor), and
    # registers its own loader on the cursor when they differ.
    timezone: tzinfo | None = None

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        assert PSYCOPG_LOADER is not None
        self._parse = PSYCOPG_LOADER(oid, context).load

    def load(self, data: Buffer) -> datetime:
        value: datetime = self._parse(data)
        return value.replace(tzinfo=self.timezone)


@lru_cache
def adapters(use_tz: bool, zone: tzinfo | None) -> AdaptersMap:
    """Django's adapters for this zone, with ``TimestamptzLoader`` in place of its loader."""
    context = AdaptersMap(get_adapters_template(use_tz, zone))
    loader = type("ZonedTimestamptzLoader", (TimestamptzLoader,), {"timezone": zone})
    context.register_loader(TIMESTAMPTZ_OID, loader)
    return context


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        params["context"] = adapters(settings.USE_TZ, self.timezone)
        return params
