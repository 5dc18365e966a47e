"""Truthful answers: work queued after a committed change never changes the answer, and
a 503 "nothing was changed" is only sent when nothing was."""

import logging

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from accounts.models import Organisation
from disputes import services as dispute_services
from disputes.models import Case
from tasks import services
from tasks.models import Assignment
from tests.factories import UserFactory
from tests.tasks.factories import published_batch

# Real commits: the on-commit work runs inside the request, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def submitted(batch) -> Assignment:  # type: ignore[no-untyped-def]
    worker = UserFactory()
    assignment = services.assignment_accept(worker=worker, batch=batch)
    return services.assignment_submit(worker=worker, assignment=assignment, answers={"answer": "yes"})


def test_a_rejection_whose_guard_fails_after_commit_is_answered_as_done(
    requester_api: APIClient,
    organisation: Organisation,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    calls: list[int] = []

    def broken(*, organisation_id: int) -> None:
        calls.append(organisation_id)
        raise OperationalError("could not obtain lock on row in relation disputes_case")

    monkeypatch.setattr(dispute_services, "mass_rejection_check", broken)
    url = f"/api/batches/{batch.pk}/submissions/{work.pk}/reject/"
    body = {"reason": "incomplete", "text": "Half of it is empty."}
    with caplog.at_level(logging.ERROR, logger="core.queue"):
        response = requester_api.post(url, body, format="json")

    # The guard ran and failed, yet the client hears the truth: its rejection is done.
    assert calls == [organisation.pk]
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    assert Assignment.objects.get(pk=work.pk).status == Assignment.Status.REJECTED
    assert "disputes.jobs.check_mass_rejection" in caplog.text
    # A retry of the same request is refused for what it is, not as a lost change.
    assert requester_api.post(url, body, format="json").json()["error"]["code"] == "invalid_state"
    # The safety net runs the guard again on its own.
    monkeypatch.undo()
    from disputes import jobs

    assert jobs.scan_mass_rejections() == 0
    assert Case.objects.count() == 0


def test_an_error_after_a_committed_change_never_says_nothing_was_changed(
    requester_api: APIClient, organisation: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    from tasks import api as task_api

    real = services.assignment_reject

    def reject_then_lose_the_database(**kwargs):  # type: ignore[no-untyped-def]
        real(**kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "assignment_reject", reject_then_lose_the_database)
    if hasattr(task_api, "services"):
        monkeypatch.setattr(task_api.services, "assignment_reject", reject_then_lose_the_database)
    response = requester_api.post(
        f"/api/batches/{batch.pk}/submissions/{work.pk}/reject/",
        {"reason": "incomplete", "text": "Half of it is empty."},
        format="json",
    )
    assert Assignment.objects.get(pk=work.pk).status == Assignment.Status.REJECTED
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "saved_with_errors"
    assert "nothing was changed" not in response.json()["error"]["message"]


def test_a_database_error_before_any_change_still_says_nothing_was_changed(
    requester_api: APIClient, organisation: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)

    def lose_the_database(**kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "assignment_reject", lose_the_database)
    response = requester_api.post(
        f"/api/batches/{batch.pk}/submissions/{work.pk}/reject/",
        {"reason": "incomplete", "text": "Half of it is empty."},
        format="json",
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert Assignment.objects.get(pk=work.pk).status == Assignment.Status.SUBMITTED
