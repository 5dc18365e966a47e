"""Schemathesis against the OpenAPI schema, as every role: no server errors and every
response matches what the schema declares (status, content type, body shape, headers).

One test per role walks every operation with a few generated cases each, half of them
with the path parameters of a real world (so the handlers past the 404 are reached too).
A handful of examples per operation keeps the whole run within a few minutes in CI."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import checks

from coop.wsgi import application
from tests.fakes.stripe_api import FakeStripe
from tests.proof.routes import parameters, route_list
from tests.proof.world import World

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 4
FUZZ_ROLES = ("anonymous", "worker", "requester", "api_key", "member", "juror", "treasurer")

# No server errors, and status, content type, headers and body as the schema declares.
# (Not "schema-valid input is accepted": a valid shape can still be refused by the rules.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]

# "<METHOD> <path>" -> (why it fails today, the roles it fails for). A listed operation that
# passes for one of its roles fails the test, so the entry goes once the owning app is fixed
# (strict, like xfail(strict=True)).
KNOWN_FAILURES: dict[str, tuple[str, frozenset[str]]] = {}


def _headers(role: str, world: World) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "api_key":
        return {"Authorization": world.api_key_header}
    person = world.people[role]
    assert person is not None
    token, _ = Token.objects.get_or_create(user=person)
    return {"Authorization": f"Token {token.key}"}


def _world_parameters(world: World) -> dict[str, dict[str, object]]:
    """OpenAPI path template -> the world's values for its parameters."""
    templates: dict[str, dict[str, object]] = {}
    for route in route_list():
        if route.pattern.startswith("api/"):
            import re

            template = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.pattern)
            templates[template] = parameters(route, world)
    return templates


@pytest.fixture
def connections_kept() -> Iterator[None]:
    """The WSGI app is called directly, not through Django's test client, so its
    end-of-request hook would close the test's database connection (mid-transaction on
    PostgreSQL); keep it open, as the test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_every_operation_answers_as_declared(
    role: str, world: World, fake_stripe: FakeStripe, connections_kept: None
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    headers = _headers(role, world)
    known = _world_parameters(world)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        generated = operation.as_strategy()
        real = known.get(operation.path)
        strategy = generated
        if real:
            strategy = st.one_of(generated, generated.map(lambda case, real=real: _with(case, real)))

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def call(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except (Exception, BaseExceptionGroup) as error:  # every operation's failure is reported
            failures[label] = _summary(error)
    expected = {label for label, (_, roles) in KNOWN_FAILURES.items() if role in roles}
    unexpected = {label: text for label, text in failures.items() if label not in expected}
    fixed = sorted(expected - set(failures))
    assert not unexpected, "\n\n".join(f"{label} as {role}:\n{text}" for label, text in unexpected.items())
    assert not fixed, f"fixed, remove from KNOWN_FAILURES: {fixed}"


def _summary(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    curl = [line.strip() for line in lines if line.strip().startswith("curl ")]
    return "\n".join([f"{type(error).__name__}: ", *lines[:6], *curl[:1]])


def _with(case: Any, real: dict[str, object]) -> Any:
    case.path_parameters = {**(case.path_parameters or {}), **{k: v for k, v in real.items()}}
    return case
