"""Keyboard use and small screens, in a real browser."""

import re

import pytest

from tasks.models import Assignment
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def test_a_worker_can_find_and_accept_work_with_the_keyboard_alone(open_page, organisation, worker) -> None:
    published_batch(organisation, title="Transcribe receipts", assignments_per_task=1)
    page = open_page(worker)
    page.goto("/work/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # Tab through the page until the accept button has focus, then press Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label') || ''").startswith("Accept a task"):
            break
    else:
        raise AssertionError("the accept button is not reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    assert Assignment.objects.get(worker=worker).status == Assignment.Status.ACCEPTED


def test_pages_fit_a_phone_screen(open_page, screenshot, organisation, requester, worker) -> None:
    published_batch(organisation, title="Transcribe receipts")
    for user, url in ((worker, "/work/"), (requester, f"/org/{organisation.slug}/batches/new/"), (worker, "/rules/")):
        page = open_page(user)
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)
    screenshot(page, "rules-on-a-phone")
