"""Workers complete external surveys in a real browser (issue 24 points 1 and 2): the survey,
served from another origin, is previewed with assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE,
then opened in the task frame with MTurk's parameters; one survey posts back through
/mturk/externalSubmit, another shows a completion code the worker pastes."""

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tasks.external import PREVIEW_ASSIGNMENT_ID, assignment_attempt_public_id
from tasks.models import Assignment, AssignmentAttempt, Batch
from tests.frontend.survey_server import SurveyServer
from tests.tasks.factories import TEMPLATE, published_batch

pytestmark = pytest.mark.browser


@pytest.fixture
def survey() -> Iterator[SurveyServer]:
    server = SurveyServer()
    yield server
    server.stop()


def _survey_batch(organisation, survey: SurveyServer, path: str, **overrides) -> Batch:  # type: ignore[no-untyped-def]
    batch = published_batch(
        organisation,
        rows=None,
        title="Street names survey",
        template_html="",
        external_url="https://survey.example.org" + path,
        assignments_per_task=1,
        **overrides,
    )
    # The service accepts only https URLs; the test's survey is plain http on 127.0.0.1,
    # so the stored address is pointed at it directly (nothing else about the batch changes).
    Batch.objects.filter(pk=batch.pk).update(external_url=survey.url + path)
    batch.refresh_from_db()
    return batch


def test_worker_previews_then_completes_a_survey_that_posts_back(
    open_page, screenshot, organisation, worker, survey, live_server, settings
) -> None:
    settings.SITE_URL = live_server.url
    batch = _survey_batch(organisation, survey, "/post-back")
    page = open_page(worker)

    # Before accepting: the survey in MTurk's preview mode.
    page.goto(f"/work/batches/{batch.pk}/")
    preview = page.frame_locator("#preview-frame")
    preview.get_by_text("Preview: accept the task to take part.").wait_for()
    task = batch.tasks.get()
    assert survey.queries[-1] == {
        "assignmentId": PREVIEW_ASSIGNMENT_ID,
        "hitId": str(task.pk),
        "turkSubmitTo": live_server.url,
    }
    assert not Assignment.objects.filter(worker=worker).exists()
    screenshot(page, "preview")

    page.get_by_role("button", name="Accept a task").click()
    page.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    slot = Assignment.objects.get(worker=worker)
    attempt = AssignmentAttempt.objects.get(assignment=slot)
    frame = page.frame_locator("#task-frame")
    frame.get_by_text(f"Welcome, {worker.pseudonym}.").wait_for()
    assert survey.queries[-1] == {
        "assignmentId": assignment_attempt_public_id(slot.pk, attempt.pk),
        "hitId": str(task.pk),
        "workerId": worker.pseudonym,
        "turkSubmitTo": live_server.url,
    }
    # The same address opens in a new tab for surveys that refuse to be framed.
    link = page.locator("#external-task-link").get_attribute("href") or ""
    assert urlsplit(link).netloc == urlsplit(survey.url).netloc and "assignmentId=" in link
    screenshot(page, "survey")

    frame.get_by_label("Your favourite street name").fill("Kastanienallee")
    frame.get_by_role("button", name="Finish the survey").click()
    frame.get_by_role("heading", name="Submitted").wait_for()
    slot.refresh_from_db()
    assert (slot.status, slot.answers) == (Assignment.Status.SUBMITTED, {"street": "Kastanienallee"})
    screenshot(page, "submitted")

    frame.get_by_role("link", name="Back to your tasks").click()
    page.wait_for_url(re.compile(r"/work/assignments/$"))
    assert "Street names survey" in page.locator("main").inner_text()


def test_worker_completes_a_survey_with_its_completion_code(
    open_page, screenshot, organisation, worker, survey, live_server, settings
) -> None:
    settings.SITE_URL = live_server.url
    batch = _survey_batch(organisation, survey, "/code", completion_codes=["MAPS-7731", "MAPS-0000"])
    page = open_page(worker)
    page.goto(f"/work/batches/{batch.pk}/")
    page.get_by_role("button", name="Accept a task").click()
    page.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    slot = Assignment.objects.get(worker=worker)

    frame = page.frame_locator("#task-frame")
    frame.get_by_label("Your favourite street name").fill("Oranienstraße")
    frame.get_by_role("button", name="Finish the survey").click()
    code = frame.locator("#code").inner_text()
    assert code == "MAPS-7731"

    # A code that does not match: a clear error, and nothing changes.
    page.get_by_label("Completion code").fill("MAPS-1234")
    page.get_by_role("button", name="Submit the code").click()
    page.wait_for_url(re.compile(rf"/work/assignments/{slot.pk}/$"))
    assert "does not match this task" in page.locator(".messages").inner_text()
    slot.refresh_from_db()
    assert (slot.status, slot.answers) == (Assignment.Status.ACCEPTED, {})
    screenshot(page, "mismatch")

    page.get_by_label("Completion code").fill(code)
    page.get_by_role("button", name="Submit the code").click()
    page.wait_for_url(re.compile(r"/work/assignments/$"))
    assert "Submitted" in page.locator(".messages").inner_text()
    slot.refresh_from_db()
    assert (slot.status, slot.answers) == (Assignment.Status.SUBMITTED, {"completion_code": "MAPS-7731"})


def test_template_task_preview_before_accepting(open_page, organisation, worker) -> None:
    batch = published_batch(organisation, template_html=TEMPLATE)
    page = open_page(worker)
    page.goto(f"/work/batches/{batch.pk}/")
    preview = page.frame_locator("#preview-frame")
    preview.get_by_text("Is this image of a cat?").wait_for()  # the first input row
    preview.locator("input[name=answer][value=yes]").check()
    preview.locator("input[type=submit]").click()
    preview.get_by_text("This is a preview; nothing was sent.").wait_for()
    assert not Assignment.objects.filter(worker=worker).exists()
