"""Fixtures of the marketplace tests."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organisation, User


class Clock:
    """Moves ``django.utils.timezone.now`` forward, for the jobs driven by time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    current = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: current.now)
    yield current


@pytest.fixture
def requester_api(requester: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(requester)
    return client


@pytest.fixture
def worker_api(worker: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(worker)
    return client


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other_organisation(db: None) -> Organisation:
    from tests.factories import OrganisationFactory

    return OrganisationFactory()
