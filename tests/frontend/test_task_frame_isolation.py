"""A requester's task HTML runs in a sandbox: it cannot read or change the platform's page,
its cookies or its other pages, and it cannot submit anyone else's work."""

import json
import re

import pytest
from django.test import Client

from tasks import services as task_services
from tasks.models import Assignment
from tests.factories import UserFactory
from tests.tasks.factories import published_batch

HOSTILE_TEMPLATE = """
<p id="question">Type anything.</p>
<form><input name="answer" required><input type="submit" value="Send"></form>
<script>
  var report = {};
  try { report.parent = parent.document.title; parent.document.body.innerHTML = "stolen"; }
  catch (error) { report.parent = "blocked"; }
  try { report.cookie = document.cookie; } catch (error) { report.cookie = "blocked"; }
  try { report.storage = String(window.localStorage.length); } catch (error) { report.storage = "blocked"; }
  try { top.location.href = "/accounts/logout/"; report.navigate = "allowed"; }
  catch (error) { report.navigate = "blocked"; }
  fetch("/work/earnings/", {credentials: "include"})
    .then(function (response) { return response.text(); })
    .then(function (text) { report.fetch = text.indexOf("Earnings") >= 0 ? "read" : "empty"; })
    .catch(function () { report.fetch = "blocked"; })
    .then(function () { document.getElementById("question").setAttribute("data-report", JSON.stringify(report)); });
</script>
"""


@pytest.mark.browser
def test_task_html_cannot_reach_the_parent_page(open_page, screenshot, organisation, worker) -> None:
    published_batch(organisation, template_html=HOSTILE_TEMPLATE, assignments_per_task=1)
    page = open_page(worker)
    page.goto("/work/")
    page.get_by_role("button", name=re.compile("Accept a task")).first.click()
    page.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    title = page.title()

    question = page.frame_locator("#task-frame").locator("#question[data-report]")
    question.wait_for()
    report = json.loads(question.get_attribute("data-report") or "{}")
    assert report == {
        "parent": "blocked",
        "cookie": "blocked",
        "storage": "blocked",
        "navigate": "blocked",
        "fetch": "blocked",
    }
    # The platform's page is untouched and still signed in.
    assert page.title() == title
    assert "stolen" not in page.locator("body").inner_text()
    assert page.get_by_role("button", name="Return this task").is_visible()
    assert page.locator("#task-frame").get_attribute("sandbox") == "allow-forms allow-scripts"
    screenshot(page, "sandboxed")


@pytest.mark.django_db
def test_task_frame_is_served_under_a_sandboxing_policy(client: Client, organisation, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    assignment = task_services.assignment_accept(worker=worker, batch=batch)
    client.force_login(worker)
    response = client.get(f"/work/assignments/{assignment.pk}/frame/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox allow-forms allow-scripts; frame-ancestors 'self'"
    assert "X-Frame-Options" not in response
    html = response.content.decode()
    # The input row is data, escaped into the template; the answer bridge is present.
    assert "Is this image of a cat?" in html and "coop:answers" in html

    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(f"/work/assignments/{assignment.pk}/frame/").status_code == 404


@pytest.mark.django_db
def test_answers_are_accepted_only_for_the_workers_own_assignment(client: Client, organisation, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    assignment = task_services.assignment_accept(worker=worker, batch=batch)
    stranger = UserFactory()
    client.force_login(stranger)
    refused = client.post(f"/work/assignments/{assignment.pk}/submit/", {"answers": json.dumps({"answer": "no"})})
    assert refused.status_code == 404
    assignment.refresh_from_db()
    assert (assignment.status, assignment.answers) == ("accepted", {})

    client.force_login(worker)
    bad = client.post(f"/work/assignments/{assignment.pk}/submit/", {"answers": json.dumps({"comment": "x"})})
    assert bad.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.status, assignment.answers) == ("accepted", {})
    messages = [str(m) for m in bad.wsgi_request._messages]  # type: ignore[attr-defined]
    assert any("answer: This answer is required." in m for m in messages)

    done = client.post(f"/work/assignments/{assignment.pk}/submit/", {"answers": json.dumps({"answer": "no"})})
    assert done.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.status, assignment.answers) == (Assignment.Status.SUBMITTED, {"answer": "no"})
