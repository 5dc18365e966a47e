"""Each speed shortcut that reaches into another library's private internals (listed in
docs/performance.md) relies on something the library does not promise. These tests name
that something, so that upgrading the library fails here, with the reason, rather than in
production or only in the PostgreSQL/Redis runs. No server is needed: they run everywhere.

The behaviour of each shortcut (same answers as the library's own way) is held by its own
tests: tests/core/test_postgresql.py, test_cache.py, test_renderer.py, test_throttling.py,
test_pagination.py and tests/accounts/test_api.py."""

import inspect

import orjson
import psycopg
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.core.paginator import Paginator
from django.db.backends.postgresql import base as postgresql_base
from django.db.backends.postgresql import psycopg_any
from django.utils.functional import cached_property
from psycopg.pq import Format
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from core.cache import RedisCache, _SharedClientCacheClient


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


# --- core.postgresql: Django's backend with psycopg's compiled timestamptz loader --------------


def test_django_builds_its_adapters_from_a_template_we_can_extend() -> None:
    assert parameters(psycopg_any.get_adapters_template) == ["use_tz", "timezone"]
    # Django puts its adapters in the connection parameters; ours replace them there, and
    # reach psycopg.connect with the rest.
    assert 'conn_params["context"] = get_adapters_template(' in inspect.getsource(
        postgresql_base.DatabaseWrapper.get_connection_params
    )
    assert "self.Database.connect(**conn_params)" in inspect.getsource(
        postgresql_base.DatabaseWrapper.get_new_connection
    )


def test_django_keeps_a_cursors_loader_whose_timezone_matches() -> None:
    # Django registers its own (pure-Python) loader on a cursor unless the connection's
    # loader already carries the connection's zone in a ``timezone`` attribute.
    source = inspect.getsource(postgresql_base.DatabaseWrapper.create_cursor)
    assert "get_loader(TIMESTAMPTZ_OID, Format.TEXT)" in source
    assert "self.timezone != tzloader.timezone" in source


def test_psycopg_has_a_compiled_timestamptz_loader() -> None:
    loader = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, Format.TEXT)
    assert loader is not None
    # psycopg[binary]'s C implementation; the pure-Python one would make the shortcut pointless.
    assert loader.__module__.startswith("psycopg_binary"), loader.__module__


# --- core.cache.RedisCache: one redis.Redis per connection pool -------------------------------


def test_djangos_redis_client_keeps_the_private_parts_we_reuse() -> None:
    client = RedisCacheClient(["redis://127.0.0.1:6379/15"])  # builds no connection
    assert parameters(RedisCacheClient._get_connection_pool) == ["self", "write"]
    assert parameters(RedisCacheClient.get_client) == ["self", "key", "write"]
    import redis

    assert client._client is redis.Redis
    # Django builds a new client on every call; ours builds one per pool and keeps it.
    assert "return self._client(connection_pool=pool)" in inspect.getsource(RedisCacheClient.get_client)
    ours = _SharedClientCacheClient(["redis://127.0.0.1:6379/15"])
    assert ours.get_client("a") is ours.get_client("b") is ours.get_client("c", write=True)


def test_djangos_redis_cache_builds_its_client_from_the_class_we_swap() -> None:
    assert "self._class = RedisCacheClient" in inspect.getsource(DjangoRedisCache.__init__)
    assert "self._class(" in inspect.getsource(DjangoRedisCache)
    assert isinstance(RedisCache("redis://127.0.0.1:6379/15", {})._cache, _SharedClientCacheClient)


def test_the_batched_rate_limit_counter_reaches_the_client_the_same_way() -> None:
    # core.throttling.count_request: backend._cache.get_client(key, write=True).
    assert isinstance(inspect.getattr_static(DjangoRedisCache, "_cache"), cached_property)


# --- core.renderers.JSONRenderer: orjson writing DRF's bytes -----------------------------------


def test_drfs_renderer_keeps_the_switches_we_read() -> None:
    renderer = DRFJSONRenderer()
    assert isinstance(renderer.compact, bool) and isinstance(renderer.ensure_ascii, bool)
    assert parameters(DRFJSONRenderer.get_indent) == ["self", "accepted_media_type", "renderer_context"]
    assert orjson.OPT_PASSTHROUGH_DATETIME and orjson.OPT_PASSTHROUGH_DATACLASS


# --- core.api.CountSparingPaginator: the count it already knows -------------------------------


def test_djangos_paginator_count_is_a_cached_property() -> None:
    # The paginator writes the first page's length into the instance's __dict__ as ``count``.
    assert isinstance(Paginator.__dict__["count"], cached_property)


# --- accounts.selectors: one join in place of guardian's check ---------------------------------


def test_the_one_join_reads_the_tables_guardians_grant_lives_in() -> None:
    # access_organisation and user_roles join the person's groups by table name, which
    # equals guardian's answer only while the permission is granted to the organisation's
    # staff group alone (accounts.services.organisation_create); the agreement itself is
    # tests/accounts/test_api.py::test_organisation_access_agrees_with_the_guardian_permission.
    from django.contrib.auth.models import Group

    from accounts import services
    from accounts.models import User

    assert User.groups.through._meta.db_table == "accounts_user_groups"
    assert Group._meta.db_table == "auth_group"
    source = inspect.getsource(services)
    assert source.count('assign_perm("accounts.manage_organisation"') == 1
    assert 'assign_perm("accounts.manage_organisation", group, organisation)' in source
