"""The co-op's data promises through the API (issue 28 points 2 and 3): the end-of-batch
data report and the reuse opt-out, with refusals that change nothing."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from core.models import AuditEvent
from notifications.models import Notification
from tasks import jobs, notices, services
from tasks.models import Assignment, Batch, BatchDataReport, ReuseOptOut
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db


def _work_through(batch: Batch, workers: list[User], *, opt_out_first: bool = False) -> list[Assignment]:
    """Each worker takes one slot of every task (through the API), submits, and is approved."""
    slots = []
    for index, worker in enumerate(workers):
        api = client_for(worker)
        for task in batch.tasks.order_by("row_number"):
            opt_out = (
                opt_out_first and index == 0 and task.row_number == batch.tasks.order_by("row_number")[0].row_number
            )
            response = api.post(
                f"/api/tasks/feed/{batch.pk}/accept/", {"task_id": task.pk, "reuse_opt_out": opt_out}, format="json"
            )
            assert response.status_code == 201, response.content
            assert response.data["reuse_opted_out"] is opt_out
            slot = Assignment.objects.get(pk=response.data["id"])
            services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})
            slots.append(slot)
    owner = batch.organisation.staff.get(role="owner").user
    for slot in slots:
        services.assignment_approve(actor=owner, assignment=slot)
    batch.refresh_from_db()
    return slots


def _report_body(**overrides: str) -> dict[str, str]:
    body = {
        "used_for": "Trained the wildlife camera classifier v2.",
        "matched": "yes",
        "published_where": "https://example.org/model-card",
    }
    body.update(overrides)
    return body


def test_the_report_is_filed_once_after_close_and_reaches_every_worker(
    requester_api: APIClient, organisation: Organisation
) -> None:
    ana, ben = UserFactory(), UserFactory()
    batch = published_batch(organisation)
    url = f"/api/batches/{batch.pk}/data-report/"
    early = requester_api.post(url, _report_body(), format="json")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "batch_not_closed")
    _work_through(batch, [ana, ben])
    assert batch.status == Batch.Status.COMPLETED
    status = requester_api.get(url).json()
    assert status["report"] is None and status["due_at"] is not None
    differed = requester_api.post(url, _report_body(matched="partly"), format="json")
    assert differed.status_code == 400
    assert list(differed.json()["error"]["fields"]) == ["matched_explanation"]
    filed = requester_api.post(url, _report_body(), format="json")
    assert filed.status_code == 201
    assert (filed.data["matched"], filed.data["late"]) == ("yes", False)
    assert set(Notification.objects.filter(category="batch_data_report").values_list("user_id", flat=True)) == {
        ana.pk,
        ben.pk,
    }
    again = requester_api.post(url, _report_body(used_for="Something else"), format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "data_report_filed")
    assert BatchDataReport.objects.get(batch=batch).used_for == "Trained the wildlife camera classifier v2."
    assert requester_api.get(url).json()["report"]["used_for"] == "Trained the wildlife camera classifier v2."
    # Workers see it in their work history; someone who did not work on it does not.
    client = Client()
    client.force_login(ana)
    history = client.get("/work/assignments/").content.decode()
    assert "Trained the wildlife camera classifier v2." in history
    client.force_login(UserFactory())
    assert "Trained the wildlife camera classifier v2." not in client.get("/work/assignments/").content.decode()


def test_a_report_after_the_batch_was_cancelled_is_refused(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = published_batch(organisation)
    requester_api.post(f"/api/batches/{batch.pk}/cancel/")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED
    response = requester_api.post(f"/api/batches/{batch.pk}/data-report/", _report_body(), format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "batch_cancelled")
    assert not BatchDataReport.objects.exists()
    assert requester_api.get(f"/api/batches/{batch.pk}/data-report/").json()["due_at"] is None


def test_another_organisation_cannot_file_the_report(organisation: Organisation) -> None:
    batch = published_batch(organisation)
    _work_through(batch, [UserFactory()])
    outsider = OrganisationFactory().staff.get().user
    response = client_for(outsider).post(f"/api/batches/{batch.pk}/data-report/", _report_body(), format="json")
    assert response.status_code == 404
    assert not BatchDataReport.objects.exists()


def test_a_report_not_filed_in_time_is_marked_once_on_the_public_page(
    organisation: Organisation, clock: Clock, requester_api: APIClient
) -> None:
    batch = published_batch(organisation, title="Count the penguins")
    _work_through(batch, [UserFactory(), UserFactory()])
    assert batch.status == Batch.Status.COMPLETED
    jobs.data_reports_overdue()  # not yet due
    assert Batch.objects.get(pk=batch.pk).data_report_overdue_at is None
    clock.advance(days=29)
    jobs.data_reports_overdue()  # due in a day
    assert Batch.objects.get(pk=batch.pk).data_report_overdue_at is None
    clock.advance(days=1, minutes=1)
    jobs.data_reports_overdue()
    marked = Batch.objects.get(pk=batch.pk).data_report_overdue_at
    assert marked is not None
    jobs.data_reports_overdue()  # idempotent: the mark and its audit row are written once
    assert Batch.objects.get(pk=batch.pk).data_report_overdue_at == marked
    assert AuditEvent.objects.filter(action="batch.data_report_overdue").count() == 1
    page = Client()
    page.force_login(UserFactory())
    text = page.get(f"/requesters/{organisation.slug}/").content.decode()
    assert "Count the penguins" in text and "not filed in time" in text
    # A late report is still taken, shown as late; the mark stays.
    late = requester_api.post(f"/api/batches/{batch.pk}/data-report/", _report_body(), format="json")
    assert (late.status_code, late.data["late"]) == (201, True)
    assert Batch.objects.get(pk=batch.pk).data_report_overdue_at == marked


def test_reuse_opt_out_at_accept_and_later_reaches_the_api_and_the_exports(
    requester_api: APIClient, organisation: Organisation
) -> None:
    ana, ben = UserFactory(), UserFactory()
    batch = published_batch(organisation, reuse_beyond_purpose=True)
    slots = _work_through(batch, [ana, ben], opt_out_first=True)
    ana_first, ana_second, ben_first, _ = slots
    # Later: ana opts out on her second slot too; twice is the same as once.
    for _ in range(2):
        response = client_for(ana).post(f"/api/assignments/{ana_second.pk}/reuse-opt-out/")
        assert (response.status_code, response.data["opted_out"]) == (200, True)
    # Ben cannot speak for ana's work: refused, nothing changed.
    before = ReuseOptOut.objects.count()
    refused = client_for(ben).post(f"/api/assignments/{ana_first.pk}/reuse-opt-out/")
    assert refused.status_code == 404
    assert ReuseOptOut.objects.count() == before == 2
    submissions = requester_api.get(f"/api/batches/{batch.pk}/submissions/").json()["results"]
    assert {row["id"]: row["reuse_opted_out"] for row in submissions} == {
        ana_first.pk: True,
        ana_second.pk: True,
        ben_first.pk: False,
        slots[3].pk: False,
    }
    single = requester_api.get(f"/api/batches/{batch.pk}/submissions/{ben_first.pk}/").json()
    assert single["reuse_opted_out"] is False
    exported = requester_api.get(f"/api/batches/{batch.pk}/export/csv/")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {int(row["AssignmentId"]): row["ReuseOptOut"] for row in rows} == {
        ana_first.pk: "true",
        ana_second.pk: "true",
        ben_first.pk: "false",
        slots[3].pk: "false",
    }
    as_json = requester_api.get(f"/api/batches/{batch.pk}/export/json/").json()
    assert as_json["columns"][-1] == "ReuseOptOut"
    assert requester_api.get(f"/api/batches/{batch.pk}/").json()["reuse_beyond_purpose"] is True


def test_opting_out_where_the_batch_allows_no_reuse_is_refused_before_the_claim(organisation: Organisation) -> None:
    worker = UserFactory()
    batch = published_batch(organisation)  # reuse_beyond_purpose defaults to False
    api = client_for(worker)
    response = api.post(f"/api/tasks/feed/{batch.pk}/accept/", {"reuse_opt_out": True}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "reuse_not_allowed")
    assert not Assignment.objects.filter(worker=worker).exists()
    accepted = api.post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert accepted.status_code == 201
    later = api.post(f"/api/assignments/{accepted.data['id']}/reuse-opt-out/")
    assert (later.status_code, later.json()["error"]["code"]) == (409, "reuse_not_allowed")
    assert not ReuseOptOut.objects.exists()


def test_the_export_of_a_batch_without_reuse_has_no_opt_out_column(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = published_batch(organisation)
    _work_through(batch, [UserFactory()])  # paid work, the batch still open
    header = requester_api.get(f"/api/batches/{batch.pk}/export/csv/").content.decode().splitlines()[0]
    assert "ReuseOptOut" not in header


def test_the_requester_is_reminded_before_the_report_falls_due(organisation: Organisation) -> None:
    batch = published_batch(organisation, title="Sort the shells")
    _work_through(batch, [UserFactory(), UserFactory()])
    assert batch.ended_at is not None
    due = batch.ended_at + timedelta(days=30)
    [deadline] = list(notices.data_report_deadlines(due - timedelta(hours=24), due + timedelta(minutes=1)))
    assert (deadline.key, deadline.due_at, deadline.category) == (
        f"batch:{batch.pk}:data-report",
        due,
        "data_report_due",
    )
    assert set(deadline.user_ids) == {organisation.staff.get(role="owner").user.pk}
    BatchDataReport.objects.create(
        batch=batch, used_for="x", matched="yes", filed_by=batch.created_by, filed_at=due, due_at=due
    )
    assert list(notices.data_report_deadlines(due - timedelta(hours=24), due + timedelta(minutes=1))) == []
