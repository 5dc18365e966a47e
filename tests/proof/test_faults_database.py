"""The database connection lost in the middle of a request: the client gets a clean 503
in the API's error shape and nothing the request had written stays behind.

The request is a batch publication, which writes the batch, every slot and every escrow
transfer in one transaction; the connection is lost after all of that, just before the
audit row, the last write."""

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from rest_framework.test import APIClient

from accounts.models import Organisation
from core.models import AuditEvent
from ledger.models import Transfer
from tasks.models import Assignment, Batch
from tasks.services import batches as batch_services  # where batch_publish writes its audit row
from tests.factories import OrganisationFactory
from tests.ledger.factories import fund
from tests.tasks.factories import available, make_batch, slot_cost


def _draft(organisation: Organisation) -> Batch:
    batch = make_batch(organisation)
    fund(organisation, batch.tasks.count() * batch.assignments_per_task * slot_cost(batch))
    return batch


def _state(batch: Batch) -> tuple[Any, ...]:
    batch.refresh_from_db()
    return (
        batch.status,
        batch.published_at,
        Assignment.objects.filter(task__batch=batch).count(),
        Transfer.objects.count(),
        AuditEvent.objects.count(),
        available(batch.organisation),
    )


def _publish(batch: Batch) -> Any:
    client = APIClient()
    client.force_authenticate(batch.organisation.staff.get(role="owner").user)
    return client.post(f"/api/batches/{batch.pk}/publish/", {}, format="json")


def _assert_clean_503(response: Any) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert "nothing was changed" in error["message"]


def _lose_connection_before(monkeypatch: pytest.MonkeyPatch, lose: Callable[[], None]) -> list[int]:
    """Replaces the publication's audit write: ``lose()`` drops the connection, then the
    real write runs (and fails as it would). Returns how many writes got that far."""
    original = batch_services.audit_record
    reached: list[int] = []

    def audit_then_fail(**kwargs: Any) -> Any:
        reached.append(Assignment.objects.filter(task__batch_id=kwargs["target"].pk).count())
        lose()
        return original(**kwargs)

    monkeypatch.setattr(batch_services, "audit_record", audit_then_fail)
    return reached


@pytest.mark.django_db
def test_a_connection_error_mid_transaction_is_a_clean_503_and_nothing_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = _draft(OrganisationFactory())
    before = _state(batch)

    def lose() -> None:
        raise OperationalError("server closed the connection unexpectedly")

    reached = _lose_connection_before(monkeypatch, lose)
    response = _publish(batch)

    assert reached == [4]  # every slot had been written when the connection went
    _assert_clean_503(response)
    assert _state(batch) == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backend_terminated_mid_request_is_a_clean_503_and_nothing_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = _draft(OrganisationFactory())
    before = _state(batch)
    database = settings.DATABASES["default"]

    def lose() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        # Another session ends ours, as a failover or an operator's kill would.
        with psycopg.connect(
            dbname=database["NAME"],
            user=database["USER"],
            password=database["PASSWORD"] or None,
            host=database["HOST"],
            port=database["PORT"] or 5432,
            autocommit=True,
        ) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    reached = _lose_connection_before(monkeypatch, lose)
    response = _publish(batch)

    assert reached == [4]
    _assert_clean_503(response)
    connection.close()  # the request's connection is gone; the next query opens a fresh one
    assert _state(batch) == before


@pytest.mark.django_db
def test_an_unexpected_error_under_the_api_is_the_json_error_shape_not_a_stack_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = _draft(OrganisationFactory())
    before = _state(batch)

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(batch_services, "audit_record", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(batch.organisation.staff.get(role="owner").user)
    response = client.post(f"/api/batches/{batch.pk}/publish/", {}, format="json")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "server_error"
    assert "a bug" not in response.content.decode()
    assert _state(batch) == before


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/batches/-1/", "/api/organisations/%C3%BB/", "/api/no-such-thing/"])
def test_a_path_no_api_route_matches_is_a_json_404(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such object."}}
