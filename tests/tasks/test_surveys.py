"""External surveys through the REST API (issue 24 point 1): the frame's URL carries MTurk's
parameters with the attempt-bound assignment id that /mturk/externalSubmit accepts; the
Prolific-style completion code submits on a match and changes nothing otherwise; the
preview passes ASSIGNMENT_ID_NOT_AVAILABLE."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import Organisation, User
from core.models import AuditEvent
from tasks import services
from tasks.external import PREVIEW_ASSIGNMENT_ID, assignment_attempt_public_id
from tasks.models import Assignment, AssignmentAttempt
from tests.factories import UserFactory
from tests.tasks.conftest import client_for
from tests.tasks.factories import make_batch, published_batch

pytestmark = pytest.mark.django_db

SURVEY = "https://survey.example.org/s?study=7"


def _survey(organisation: Organisation, **overrides):  # type: ignore[no-untyped-def]
    return published_batch(organisation, rows=None, template_html="", external_url=SURVEY, **overrides)


def _params(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_frame_opens_the_survey_with_mturk_parameters_and_external_submit_accepts_its_id(
    worker: User, organisation: Organisation, settings
) -> None:
    settings.SITE_URL = "https://coop.example"
    batch = _survey(organisation)
    slot = services.assignment_accept(worker=worker, batch=batch)
    frame = client_for(worker).get(f"/api/assignments/{slot.pk}/").json()["frame"]
    attempt = AssignmentAttempt.objects.get(assignment=slot)
    params = _params(frame["external_url"])
    assert params == {
        "study": "7",
        "assignmentId": assignment_attempt_public_id(slot.pk, attempt.pk),
        "hitId": str(slot.task_id),
        "workerId": worker.pseudonym,
        "turkSubmitTo": "https://coop.example",
    }
    assert frame["completion_code"] is False

    # The survey's own form post, cross-site and without a session.
    raw = Client().post("/mturk/externalSubmit", {"assignmentId": str(slot.pk), "q1": "42"})
    assert raw.status_code == 404  # a bare database id is not an assignment id
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.ACCEPTED

    response = Client().post("/mturk/externalSubmit", {"assignmentId": params["assignmentId"], "q1": "42"})
    assert response.status_code == 200, response.content
    slot.refresh_from_db()
    assert (slot.status, slot.answers) == (Assignment.Status.SUBMITTED, {"q1": "42"})
    # A finished task has no frame to open (and no error either).
    assert client_for(worker).get(f"/api/assignments/{slot.pk}/").json()["frame"]["external_url"] == ""


def test_preview_passes_assignment_id_not_available_and_never_the_codes(
    worker: User, organisation: Organisation
) -> None:
    batch = _survey(organisation, completion_codes=["C0DE-1", "C0DE-2"])
    data = client_for(worker).get(f"/api/tasks/feed/{batch.pk}/").json()
    params = _params(data["external_preview_url"])
    assert params["assignmentId"] == PREVIEW_ASSIGNMENT_ID == "ASSIGNMENT_ID_NOT_AVAILABLE"
    assert "workerId" not in params
    assert data["completion_code"] is True
    assert "C0DE" not in str(data)
    assert "C0DE" not in str(client_for(worker).get("/api/tasks/feed/").json())


def test_completion_code_match_submits_and_mismatch_changes_nothing(worker: User, organisation: Organisation) -> None:
    batch = _survey(organisation, completion_codes=[" C0DE-1 ", "C0DE-2"])
    assert batch.completion_codes == ["C0DE-1", "C0DE-2"]
    slot = services.assignment_accept(worker=worker, batch=batch)
    api = client_for(worker)
    audit_before = AuditEvent.objects.count()

    wrong = api.post(f"/api/assignments/{slot.pk}/completion-code/", {"code": "C0DE-3"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "completion_code_mismatch"
    assert "does not match" in wrong.json()["error"]["message"]
    slot.refresh_from_db()
    assert (slot.status, slot.answers, slot.submitted_at) == (Assignment.Status.ACCEPTED, {}, None)
    assert AuditEvent.objects.count() == audit_before

    # Someone else's assignment is not found, whatever the code.
    other = client_for(UserFactory()).post(f"/api/assignments/{slot.pk}/completion-code/", {"code": "C0DE-2"})
    assert other.status_code == 404

    right = api.post(f"/api/assignments/{slot.pk}/completion-code/", {"code": "  C0DE-2\n"}, format="json")
    assert right.status_code == 200, right.content
    slot.refresh_from_db()
    assert (slot.status, slot.answers) == (Assignment.Status.SUBMITTED, {"completion_code": "C0DE-2"})
    again = api.post(f"/api/assignments/{slot.pk}/completion-code/", {"code": "C0DE-2"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_submitted")


def test_completion_code_needs_a_batch_with_codes(worker: User, organisation: Organisation) -> None:
    slot = services.assignment_accept(worker=worker, batch=_survey(organisation))
    response = client_for(worker).post(f"/api/assignments/{slot.pk}/completion-code/", {"code": "X"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "no_completion_code")
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.ACCEPTED


def test_completion_codes_only_on_external_tasks_and_without_spaces(requester_api, organisation: Organisation) -> None:
    from tests.tasks.factories import batch_fields

    for extra, field in (
        ({"completion_codes": ["ABC"]}, "completion_codes"),  # template task
        ({"template_html": "", "external_url": SURVEY, "completion_codes": ["two words"]}, "completion_codes"),
    ):
        response = requester_api.post(
            f"/api/organisations/{organisation.slug}/batches/", {**batch_fields(), **extra}, format="json"
        )
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]["fields"]
    assert organisation.batches.count() == 0
    ok = requester_api.post(
        f"/api/organisations/{organisation.slug}/batches/",
        {**batch_fields(), "template_html": "", "external_url": SURVEY, "completion_codes": ["ABC", "ABC", "DEF"]},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["completion_codes"] == ["ABC", "DEF"]


def test_external_submit_id_is_stale_after_the_slot_is_returned(worker: User, organisation: Organisation) -> None:
    batch = make_batch(organisation, rows=None, template_html="", external_url=SURVEY, assignments_per_task=1)
    from tests.ledger.factories import fund

    fund(organisation, 1_000)
    batch = services.batch_publish(batch=batch, actor=organisation.staff.get().user)
    slot = services.assignment_accept(worker=worker, batch=batch)
    first_id = _params(client_for(worker).get(f"/api/assignments/{slot.pk}/").json()["frame"]["external_url"])[
        "assignmentId"
    ]
    services.assignment_return(worker=worker, assignment=slot)
    newcomer = UserFactory()
    slot = services.assignment_accept(worker=newcomer, batch=batch)
    response = Client().post("/mturk/externalSubmit", {"assignmentId": first_id, "q": "1"})
    assert response.status_code == 409
    slot.refresh_from_db()
    assert (slot.worker_id, slot.status) == (newcomer.pk, Assignment.Status.ACCEPTED)


def test_guessing_completion_codes_is_bounded(worker: User, organisation: Organisation, monkeypatch) -> None:
    from tasks.services import claims

    monkeypatch.setattr(claims, "COMPLETION_CODE_MISSES_PER_HOUR", 3)
    slot = services.assignment_accept(worker=worker, batch=_survey(organisation, completion_codes=["RIGHT"]))
    api = client_for(worker)
    url = f"/api/assignments/{slot.pk}/completion-code/"
    for guess in ("A", "B", "C"):
        assert api.post(url, {"code": guess}, format="json").json()["error"]["code"] == "completion_code_mismatch"
    blocked = api.post(url, {"code": "RIGHT"}, format="json")
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (429, "completion_code_attempts")
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.ACCEPTED


def test_accepting_through_the_api_hands_out_the_survey_address_at_once(
    worker: User, organisation: Organisation
) -> None:
    batch = _survey(organisation)
    response = client_for(worker).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert response.status_code == 201, response.content
    slot = Assignment.objects.get(worker=worker)
    attempt = AssignmentAttempt.objects.get(assignment=slot)
    params = _params(response.json()["frame"]["external_url"])
    assert (params["assignmentId"], params["workerId"]) == (
        assignment_attempt_public_id(slot.pk, attempt.pk),
        worker.pseudonym,
    )
