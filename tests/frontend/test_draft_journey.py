"""A requester sets the organisation's defaults once, starts a survey batch from the co-op's
"Survey link" starter template, edits the draft, runs a published batch again and deletes a
draft it no longer needs. In a real browser (issue 24 points 3 and 7)."""

import re

import pytest

from tasks.models import Batch
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def test_requester_defaults_starter_template_edit_run_again_delete(
    open_page, screenshot, organisation, requester
) -> None:
    slug = organisation.slug
    live = published_batch(organisation, title="Label animals")
    page = open_page(requester)

    page.goto(f"/org/{slug}/")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Default purpose").fill("Research on how people name streets.")
    page.get_by_label("Default data use").fill("Kept by our lab; published in aggregate only.")
    page.get_by_role("button", name="Save defaults").click()
    assert "Defaults saved." in page.locator(".messages").inner_text()

    page.get_by_role("link", name="Templates", exact=True).click()
    page.locator("#starter-templates li", has_text="Survey link").get_by_role("link").click()
    # The new batch starts from the defaults and the starter's survey address.
    assert page.get_by_label("Purpose", exact=True).input_value() == "Research on how people name streets."
    assert page.get_by_label("How the data will be used").input_value().startswith("Kept by our lab")
    page.get_by_label("External task URL (survey link)").fill("https://survey.example.org/streets")
    page.get_by_label("Completion codes (optional)").fill("STREETS-1")
    page.get_by_label("Title").fill("Street names")
    page.get_by_label("Instructions").fill("Answer ten questions about street names.")
    page.get_by_label("Reward per assignment").fill("2.00")
    page.get_by_label("Estimated minutes per assignment").fill("8")
    page.get_by_label("Time allotted (minutes)").fill("30")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(rf"/org/{slug}/batches/\d+/$"))
    draft = Batch.objects.get(title="Street names")
    assert (draft.status, draft.purpose, draft.completion_codes) == (
        Batch.Status.DRAFT,
        "Research on how people name streets.",
        ["STREETS-1"],
    )
    screenshot(page, "draft")

    page.get_by_role("link", name="Edit the draft").click()
    page.get_by_label("Reward per assignment").fill("2.40")
    page.get_by_label("Completion codes (optional)").fill("STREETS-1\nSTREETS-2")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(rf"/org/{slug}/batches/{draft.pk}/$"))
    draft.refresh_from_db()
    assert (draft.reward, draft.completion_codes) == (240, ["STREETS-1", "STREETS-2"])

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete the draft").click()
    page.wait_for_url(re.compile(rf"/org/{slug}/$"))
    assert not Batch.objects.filter(pk=draft.pk).exists()

    # A published batch: its terms stay; "run again" makes a new draft with the same settings.
    page.goto(f"/org/{slug}/batches/{live.pk}/")
    page.get_by_role("button", name="Run again as a new draft").click()
    page.wait_for_url(re.compile(rf"/org/{slug}/batches/\d+/$"))
    clone = Batch.objects.exclude(pk=live.pk).get(title="Label animals")
    assert (clone.status, clone.template_html, clone.tasks.count()) == (Batch.Status.DRAFT, live.template_html, 0)
    assert "Upload its input rows" in page.locator(".messages").inner_text()
    screenshot(page, "run-again")
