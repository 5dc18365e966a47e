"""Fixtures of the MTurk endpoint tests: a live server, an organisation's key pair
from the real ``create_api_key`` command and boto3's own mturk client."""

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.core.management import call_command

from accounts.models import Organisation, User
from tests.factories import OrganisationFactory, UserFactory
from tests.governance.factories import founding_rules_reload
from tests.mturk.receiver import Receiver

# Live-server tests commit for real (the server thread has its own connection on
# PostgreSQL); the ``organisation`` fixture restores the founding rules a flush removed.
live = pytest.mark.django_db(transaction=True)


def key_pair(organisation: Organisation) -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_api_key", "--org", organisation.slug, stdout=out)
    values = dict(line.split("=", 1) for line in out.getvalue().split())
    return values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"]


_open_clients: list[Any] = []


def client_for(base_url: str, access_key_id: str, secret: str, path: str = "/mturk/") -> Any:
    # No retries: a refusal must show at once (boto3 would retry a ServiceFault).
    client = boto3.client(
        "mturk",
        endpoint_url=base_url + path,
        region_name="us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    _open_clients.append(client)
    return client


@pytest.fixture
def open_clients(transactional_db: None) -> Iterator[list[Any]]:
    """Closes the test's keep-alive connections before its database teardown: the live
    server shares an in-memory SQLite connection with the test and closes it per request."""
    yield _open_clients
    while _open_clients:
        _open_clients.pop().close()


@pytest.fixture
def organisation(open_clients: list[Any]) -> Organisation:
    founding_rules_reload()
    return OrganisationFactory()


@pytest.fixture
def owner(organisation: Organisation) -> User:
    return organisation.staff.get(role="owner").user


@pytest.fixture
def keys(organisation: Organisation) -> tuple[str, str]:
    return key_pair(organisation)


@pytest.fixture
def mturk(live_server: Any, keys: tuple[str, str]) -> Any:
    return client_for(live_server.url, *keys)


@pytest.fixture
def worker(transactional_db: None) -> User:
    return UserFactory()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()
