"""ExternalQuestion for workers: the external page gets MTurk's parameters and submits
by posting to turkSubmitTo + "/mturk/externalSubmit"."""

from urllib.parse import parse_qs, urlsplit

import requests
from django.test import override_settings

from mturk.external import external_preview_url, external_task_url
from mturk.ids import assignment_attempt_public_id
from mturk.models import Hit
from tasks import services as task_services
from tasks.models import AssignmentAttempt
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import EXTERNAL_QUESTION, hit_params

pytestmark = [live]


def test_external_page_parameters_and_submission(mturk, organisation, worker, live_server) -> None:
    fund(organisation, 1_000)
    hit_id = mturk.create_hit(**hit_params(Question=EXTERNAL_QUESTION))["HIT"]["HITId"]
    hit = Hit.objects.get(hit_id=hit_id)
    slot = task_services.assignment_accept(worker=worker, batch=hit.batch)

    with override_settings(SITE_URL=live_server.url):
        url = external_task_url(assignment=slot)
        preview = external_preview_url(batch=hit.batch, task=hit.task)

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "survey.example.org", "/task")
    params = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert params == {
        "study": "7",
        # Bound to this worker's attempt at the slot (issue 19 point 3).
        "assignmentId": assignment_attempt_public_id(slot.pk, AssignmentAttempt.objects.get(assignment=slot).pk),
        "hitId": hit_id,
        "workerId": worker.pseudonym,
        "turkSubmitTo": live_server.url,
    }
    assert parse_qs(urlsplit(preview).query)["assignmentId"] == ["ASSIGNMENT_ID_NOT_AVAILABLE"]

    # What the external page's form does, from another origin and without a session.
    response = requests.post(
        params["turkSubmitTo"] + "/mturk/externalSubmit",
        data={"assignmentId": params["assignmentId"], "q1": "42", "tags": ["a", "b"]},
    )
    assert response.status_code == 200
    assert "Submitted" in response.text
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"

    listed = mturk.list_assignments_for_hit(HITId=hit_id)["Assignments"]
    assert [a["WorkerId"] for a in listed] == [worker.pseudonym]
    assert "<QuestionIdentifier>q1</QuestionIdentifier><FreeText>42</FreeText>" in listed[0]["Answer"]
    assert "<QuestionIdentifier>tags</QuestionIdentifier><FreeText>a|b</FreeText>" in listed[0]["Answer"]

    again = requests.post(live_server.url + "/mturk/externalSubmit", data={"assignmentId": params["assignmentId"]})
    assert again.status_code == 409
    assert "already submitted" in again.text


def test_a_forged_assignment_id_submits_nothing(mturk, organisation, worker, live_server) -> None:
    fund(organisation, 1_000)
    hit = Hit.objects.get(hit_id=mturk.create_hit(**hit_params(Question=EXTERNAL_QUESTION))["HIT"]["HITId"])
    slot = task_services.assignment_accept(worker=worker, batch=hit.batch)

    response = requests.post(live_server.url + "/mturk/externalSubmit", data={"assignmentId": str(slot.pk), "q1": "x"})

    assert response.status_code == 404
    slot.refresh_from_db()
    assert (slot.status, slot.answers) == ("accepted", {})
