"""The worker's side through the REST API: preview, accept, accept next, submit,
return, and every refusal (full task, paused batch, double submit, late submit)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from core.models import AuditEvent
from tasks.external import assignment_attempt_public_id
from tasks.models import Assignment, AssignmentAttempt
from tests.factories import UserFactory
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import make_batch, published_batch

pytestmark = pytest.mark.django_db


def test_preview_shows_purpose_data_use_and_rendered_task(worker_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation, content_warnings="Injured animals.")
    response = worker_api.get(f"/api/tasks/feed/{batch.pk}/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["can_accept"] is True and data["reasons"] == []
    assert data["batch"]["purpose"] == "Training data for a wildlife camera classifier."
    assert data["batch"]["data_use"].startswith("Used to train a model")
    assert data["batch"]["content_warnings"] == "Injured animals."
    assert data["batch"]["open_slots"] == 4
    assert "Is this image of a cat?" in data["preview_html"]


def test_accept_submit_lifecycle(worker_api: APIClient, worker: User, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    response = worker_api.post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "accepted"
    assert data["frame"]["sandbox"] == "allow-forms allow-scripts"
    assert "Is this image of a cat?" in data["frame"]["srcdoc"]
    assignment_id = data["id"]

    response = worker_api.post(
        f"/api/assignments/{assignment_id}/submit/", {"answers": {"answer": "yes", "comment": ""}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    assignment = Assignment.objects.get(pk=assignment_id)
    assert assignment.answers == {"answer": "yes", "comment": ""}
    assert assignment.auto_approve_at == assignment.submitted_at + __import__("datetime").timedelta(hours=72)
    attempt = AssignmentAttempt.objects.get(assignment=assignment)
    assert attempt.outcome == "submitted" and attempt.work_seconds is not None

    # Accept next: another task of the same batch, never the same task twice.
    response = worker_api.post(f"/api/tasks/feed/{batch.pk}/accept-next/", {}, format="json")
    assert response.status_code == 201
    second = Assignment.objects.get(pk=response.json()["id"])
    assert second.task_id != assignment.task_id
    worker_api.post(f"/api/assignments/{second.pk}/submit/", {"answers": {"answer": "no"}}, format="json")
    response = worker_api.post(f"/api/tasks/feed/{batch.pk}/accept-next/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_open_slot"
    assert Assignment.objects.filter(worker=worker).count() == 2


def test_double_submit_is_refused_and_changes_nothing(worker: User, organisation: Organisation) -> None:
    from tasks import services

    batch = published_batch(organisation)
    assignment = services.assignment_accept(worker=worker, batch=batch)
    services.assignment_submit(worker=worker, assignment=assignment, answers={"answer": "yes"})
    response = client_for(worker).post(
        f"/api/assignments/{assignment.pk}/submit/", {"answers": {"answer": "no"}}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_submitted"
    assignment.refresh_from_db()
    assert assignment.answers == {"answer": "yes"}
    assert AuditEvent.objects.filter(action="assignment.submitted").count() == 1


def test_bad_answers_are_refused_and_change_nothing(
    worker_api: APIClient, worker: User, organisation: Organisation
) -> None:
    from tasks import services

    batch = published_batch(organisation)
    assignment = services.assignment_accept(worker=worker, batch=batch)
    response = worker_api.post(
        f"/api/assignments/{assignment.pk}/submit/", {"answers": {"comment": "x", "bogus": "1"}}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_answers"
    assert error["fields"] == {"bogus": ["The task has no such answer field."], "answer": ["This answer is required."]}
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ACCEPTED and assignment.answers == {}


def test_submit_after_the_time_allotted_is_refused(
    worker_api: APIClient, worker: User, organisation: Organisation, clock: Clock
) -> None:
    from tasks import services

    batch = published_batch(organisation)
    assignment = services.assignment_accept(worker=worker, batch=batch)
    clock.advance(minutes=16)  # 10 minutes allotted + the founding 5 minutes' grace, passed
    response = worker_api.post(
        f"/api/assignments/{assignment.pk}/submit/", {"answers": {"answer": "yes"}}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "assignment_expired"
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ACCEPTED and assignment.submitted_at is None
    # The attempt is marked as expired while the worker worked (the fair-pay median counts it).
    assert assignment.attempts.get().late_submission_at == clock.now


def test_submit_within_the_grace_after_the_time_allotted_is_accepted_and_paid(
    worker_api: APIClient, worker: User, organisation: Organisation, clock: Clock
) -> None:
    from tasks import jobs, services
    from tests.tasks.factories import earnings

    batch = published_batch(organisation)
    assignment = services.assignment_accept(worker=worker, batch=batch)
    clock.advance(minutes=14)  # 4 minutes past the 10 allotted; the grace is 5
    assert jobs.expire_assignments.delay().get() == 0  # the slot is not taken away during the grace
    response = worker_api.post(
        f"/api/assignments/{assignment.pk}/submit/", {"answers": {"answer": "yes"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    clock.advance(hours=73)
    assert jobs.auto_approve.delay().get() == 1
    assert earnings(worker) == batch.reward


def test_return_reopens_the_slot_without_penalty(
    worker_api: APIClient, worker: User, organisation: Organisation
) -> None:
    from tasks import services
    from tasks.selectors import worker_approval_rate

    batch = published_batch(organisation)
    assignment = services.assignment_accept(worker=worker, batch=batch)
    response = worker_api.post(f"/api/assignments/{assignment.pk}/return/")
    assert response.status_code == 200
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.OPEN and assignment.worker is None
    assert AssignmentAttempt.objects.get(assignment=assignment).outcome == "returned"
    assert worker_approval_rate(worker=worker).rate_bps == 10_000
    # Returning again is refused; the worker may take the task again.
    assert worker_api.post(f"/api/assignments/{assignment.pk}/return/").status_code == 404
    again = services.assignment_accept(worker=worker, batch=batch, task_id=assignment.task_id)
    assert again.status == Assignment.Status.ACCEPTED


def test_accept_on_a_full_task_is_refused(organisation: Organisation) -> None:
    from tasks import services

    batch = published_batch(organisation, assignments_per_task=1)
    task = batch.tasks.order_by("row_number").first()
    first, second = UserFactory(), UserFactory()
    services.assignment_accept(worker=first, batch=batch, task_id=task.pk)
    response = client_for(second).post(f"/api/tasks/feed/{batch.pk}/accept/", {"task_id": task.pk}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_open_slot"
    assert not Assignment.objects.filter(worker=second).exists()


def test_accept_on_a_paused_or_draft_batch_is_refused(
    worker_api: APIClient, worker: User, organisation: Organisation
) -> None:
    from tasks import services

    draft = make_batch(organisation)
    assert worker_api.post(f"/api/tasks/feed/{draft.pk}/accept/", {}, format="json").status_code == 404
    batch = published_batch(organisation)
    services.batch_pause(batch=batch, actor=organisation.staff.get().user)
    response = worker_api.post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "batch_not_available"
    assert not Assignment.objects.filter(worker=worker).exists()


def test_suspended_worker_cannot_accept(worker: User, organisation: Organisation) -> None:
    from django.utils import timezone

    batch = published_batch(organisation)
    worker.suspended_at = timezone.now()
    worker.suspension_reason = "Under review for shared accounts."
    worker.save()
    response = client_for(worker).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert response.status_code == 403
    assert "shared accounts" in response.json()["error"]["message"]
    assert not Assignment.objects.filter(worker=worker).exists()


def test_workers_see_only_their_own_assignments(worker: User, organisation: Organisation) -> None:
    from tasks import services

    batch = published_batch(organisation)
    mine = services.assignment_accept(worker=worker, batch=batch)
    other = UserFactory()
    response = client_for(other).get(f"/api/assignments/{mine.pk}/")
    assert response.status_code == 404
    assert (
        client_for(other)
        .post(f"/api/assignments/{mine.pk}/submit/", {"answers": {"answer": "y"}}, format="json")
        .status_code
        == 404
    )
    assert client_for(other).get("/api/assignments/").json()["results"] == []
    listing = client_for(worker).get("/api/assignments/").json()["results"]
    assert [a["id"] for a in listing] == [mine.pk]
    mine.refresh_from_db()
    assert mine.status == Assignment.Status.ACCEPTED


def test_external_url_frame_carries_assignment_id(worker: User, organisation: Organisation, settings) -> None:
    from tasks import services

    settings.SITE_URL = "https://coop.example"

    batch = published_batch(organisation, rows=None, template_html="", external_url="https://survey.example/s?x=1")
    assignment = services.assignment_accept(worker=worker, batch=batch)
    frame = client_for(worker).get(f"/api/assignments/{assignment.pk}/").json()["frame"]
    # MTurk's parameters with the attempt-bound id /mturk/externalSubmit accepts (never the raw pk).
    attempt = AssignmentAttempt.objects.get(assignment=assignment)
    assert frame["external_url"] == (
        f"https://survey.example/s?x=1&assignmentId={assignment_attempt_public_id(assignment.pk, attempt.pk)}"
        f"&hitId={assignment.task_id}&workerId={worker.pseudonym}&turkSubmitTo=https%3A%2F%2Fcoop.example"
    )
    response = client_for(worker).post(
        f"/api/assignments/{assignment.pk}/submit/", {"answers": {"q1": "any", "q2": "value"}}, format="json"
    )
    assert response.status_code == 200
