"""Shared fixtures. Each app's tests live under tests/<app>/ and add their own."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from tests.factories import OrganisationFactory, UserFactory

# CI explores the same examples every run, so main stays reproducibly green; local runs
# keep drawing new ones (and print the blob to reproduce whatever they find).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = bool(settings.IS_POSTGRES)
    with_redis = bool(settings.REDIS_URL)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (make test does in CI)"))
        if "redis" in item.keywords and not with_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True)
def _founding_rules_after_flush(request: pytest.FixtureRequest) -> None:
    """Transactional tests (``transaction=True``, live servers, browsers) run on a database
    flushed by the test before, which lost the founding rules migration 0002 loaded;
    every such test gets them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        from django.contrib.contenttypes.models import ContentType

        from tests.governance.factories import founding_rules_reload

        # The flush re-created content types and permissions under new ids; the
        # process-wide cache (used by guardian's assign_perm) still has the old ones.
        ContentType.objects.clear_cache()
        founding_rules_reload()


@pytest.fixture(autouse=True)
def _private_documents(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Identity documents written by a test go to a temporary folder, never to var/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path_factory.mktemp("private")


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    from core import throttling
    from core.cache import clear_local_copies

    cache.clear()
    clear_local_copies()  # this process's copies of shared entries
    throttling._counter.clear()  # this process's share of the rate-limit counters


@pytest.fixture(autouse=True)
def _language_and_zone_reset() -> Iterator[None]:
    """Each test starts in the default language and time zone, whatever the test before
    activated (a service run inside ``translation.override``, a request whose middleware
    activated the person's language and was left active in this thread): a test must not
    pass or fail by the order the suite runs in."""
    from django.utils import timezone, translation

    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def worker(db):  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def organisation(db):  # type: ignore[no-untyped-def]
    return OrganisationFactory()


@pytest.fixture
def requester(organisation):  # type: ignore[no-untyped-def]
    """The owner of ``organisation``."""
    return organisation.staff.get().user
