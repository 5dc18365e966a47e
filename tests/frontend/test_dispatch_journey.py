"""Fair dispatch in a real browser (issue 26): the worker searches the feed, sees that a
large batch opens in waves and when, applies, sees that they applied, and after the draw
reads on the batch page the rule in force, the seed, the applicants, the slots given and
their own result."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks import jobs
from tasks.models import Assignment, DispatchWave
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser

TEMPLATE = '<p>${text}</p><input name="label" required>'


def test_worker_applies_to_a_wave_and_reads_the_draw(
    open_page, screenshot, organisation, worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "text\n" + "".join(f"bird photo {i}\n" for i in range(120))
    waves = published_batch(
        organisation, title="Count birds", keywords="birds, images", template_html=TEMPLATE, assignments_per_task=1,
        rows=rows,
    )  # fmt: skip
    published_batch(organisation, title="Transcribe receipts", keywords="text")
    page = open_page(worker)

    page.goto("/work/?keywords=receipts")
    card = page.locator("li.card", has_text="Transcribe receipts")
    assert "All at once" in card.inner_text()
    assert page.locator("li.card", has_text="Count birds").count() == 0

    page.goto("/work/")
    page.get_by_label(re.compile("Keywords")).fill("birds")
    page.get_by_role("button", name="Show").click()
    page.locator("li.card", has_text="Transcribe receipts").wait_for(state="detached")
    card = page.locator("li.card", has_text="Count birds")
    assert "Opens in waves" in card.inner_text()
    assert "application window is open until" in card.inner_text()
    screenshot(page, "feed")

    card.get_by_role("button", name=re.compile("Apply for a slot")).click()
    page.wait_for_url(re.compile(rf"/work/batches/{waves.pk}/$"))
    assert "You applied to wave 1" in page.locator("body").inner_text()
    assert "waiting for the draw" in page.locator("#my-draws").inner_text()
    page.goto("/work/?keywords=birds")
    assert "You applied to this wave." in page.locator("li.card", has_text="Count birds").inner_text()

    # Ten minutes later the window closes and the beat job draws the wave.
    later = timezone.now() + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert jobs.dispatch_draw_due_waves() == 1
    wave = DispatchWave.objects.get(batch=waves, number=1)
    page.goto(f"/work/batches/{waves.pk}/")
    section = page.locator("#dispatch")
    assert "24 waves" in section.inner_text()
    section.locator("details summary").click()
    assert "Dispatch period" in section.locator("details").inner_text()
    assert "dispatch_period_hours" not in section.inner_text()
    first_row = page.locator("#waves tbody tr").first.inner_text()
    assert wave.seed in first_row
    assert re.search(r"\b1\s+1\b", first_row)  # one applicant, one slot given
    assert "you were given a slot" in page.locator("#my-draws").inner_text()
    screenshot(page, "batch")
    given = Assignment.objects.get(batch=waves, worker=worker)
    page.get_by_role("link", name="Open it").click()
    page.wait_for_url(re.compile(rf"/work/assignments/{given.pk}/$"))
