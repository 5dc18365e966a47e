"""A worker finds a task, reads what it is for, accepts, does it in the sandboxed frame,
submits, and is paid; then rates the requester. In a real browser."""

import re

import pytest

from ledger import accounts
from ledger.escrow import balance
from tasks import services as task_services
from tasks.models import Assignment, RequesterRating
from tests.frontend.conftest import nav
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def test_worker_finds_accepts_submits_and_gets_paid(open_page, screenshot, organisation, requester, worker) -> None:
    batch = published_batch(
        organisation,
        title="Label animals",
        content_warnings="Some pictures show injured animals.",
        assignments_per_task=1,
    )
    page = open_page(worker)

    nav(page, "Find work")
    card = page.locator("li.card", has_text="Label animals")
    assert "15.00 EUR/h" in card.inner_text()  # 0.50 for 2 minutes
    assert "Training data for a wildlife camera classifier." in card.inner_text()
    assert "Some pictures show injured animals." in card.inner_text()
    screenshot(page, "feed")

    card.get_by_role("button", name=re.compile("Accept a task")).click()
    page.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    assignment = Assignment.objects.get(worker=worker)
    assert assignment.status == "accepted"
    assert page.locator(".timer").inner_text() != ""
    frame = page.frame_locator("#task-frame")
    frame.get_by_text("Is this image of a cat?").wait_for()
    screenshot(page, "task")

    frame.locator("input[name=answer][value=yes]").check()
    frame.locator("textarea[name=comment]").fill("A tabby cat.")
    frame.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/work/assignments/$"))
    assert "Submitted" in page.locator(".messages").inner_text()
    assignment.refresh_from_db()
    assert assignment.status == "submitted"
    assert assignment.answers == {"answer": "yes", "comment": "A tabby cat."}

    task_services.assignment_approve(actor=requester, assignment=assignment)
    nav(page, "Earnings")
    assert page.locator("#balance-available").inner_text() == "0.50 EUR"
    assert page.locator("svg.chart").count() == 2
    assert "Effective hourly pay per task" in page.locator("svg.chart title").nth(1).text_content()
    screenshot(page, "earnings")
    assert balance(accounts.worker_earnings(worker)).posted == batch.reward

    page.goto(f"/requesters/{organisation.slug}/")
    page.get_by_label("Fair pay (5 = very fair)").select_option("4")
    page.get_by_label("Communication").select_option("5")
    page.get_by_label("Review speed").select_option("5")
    page.get_by_role("button", name="Save rating").click()
    assert "your rating" in page.locator(".messages").inner_text()
    rating = RequesterRating.objects.get(worker=worker, organisation=organisation)
    assert (rating.pay_fairness, rating.communication, rating.review_speed) == (4, 5, 5)
