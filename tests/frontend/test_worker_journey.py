"""A worker finds a task, reads what it is for, accepts, does it in the sandboxed frame,
submits, and is paid; then rates the requester. In a real browser."""

import re
from pathlib import Path

import pytest

from accounts import services as account_services
from ledger import accounts
from ledger.escrow import balance
from payouts.models import Payout
from tasks import services as task_services
from tasks.models import Assignment, RequesterRating
from tests.factories import UserFactory
from tests.frontend.conftest import nav
from tests.payouts.factories import destination_settled
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def test_worker_finds_accepts_submits_and_gets_paid(open_page, screenshot, organisation, requester, worker) -> None:
    batch = published_batch(
        organisation,
        title="Label animals",
        content_warnings="Some pictures show injured animals.",
        assignments_per_task=1,
        reward=600,
    )
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    page = open_page(worker)

    # The worker says where they live (it decides which payout rails can pay them).
    nav(page, "Profile")
    page.get_by_label("Country").fill("DE")
    page.get_by_role("button", name="Save profile").click()
    assert page.locator("main table").get_by_text("country").is_visible()

    nav(page, "Find work")
    card = page.locator("li.card", has_text="Label animals")
    assert "180.00 EUR/h" in card.inner_text()  # 6.00 for 2 minutes
    assert "Training data for a wildlife camera classifier." in card.inner_text()
    assert "Some pictures show injured animals." in card.inner_text()
    screenshot(page, "feed")

    card.get_by_role("button", name=re.compile("Accept a task")).click()
    page.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    assignment = Assignment.objects.get(worker=worker)
    assert assignment.status == Assignment.Status.ACCEPTED
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
    assert assignment.status == Assignment.Status.SUBMITTED
    assert assignment.answers == {"answer": "yes", "comment": "A tabby cat."}

    task_services.assignment_approve(actor=requester, assignment=assignment)
    nav(page, "Earnings")
    assert page.locator("#balance-available").inner_text() == "6.00 EUR"
    assert page.locator("svg.chart").count() == 2
    assert "Effective hourly pay per task" in page.locator("svg.chart title").nth(1).text_content()
    screenshot(page, "earnings")
    assert balance(accounts.worker_earnings(worker)).posted == batch.reward

    # Paid out to the worker's bank: a SEPA transfer in the treasurer's next bank file.
    nav(page, "Payouts")
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label("Account holder").fill("Kiran Worker")
    page.get_by_role("button", name="Save bank account").click()
    assert "DE89" in page.locator("#payout-method").inner_text()
    assert "New destination: nothing is paid there before" in page.content()  # the governed hold
    destination_settled(worker)  # ... and two days pass
    # The estimate first (SEPA: no fee, no conversion), then the confirmation.
    page.get_by_role("button", name="Pay out my balance: see the estimate").click()
    assert page.locator("#quote-destination").inner_text() == "6.00 EUR"
    page.get_by_role("button", name="Confirm payout").click()
    assert "on its way" in page.locator(".messages").inner_text()
    payout = Payout.objects.get(user=worker)
    assert (payout.amount, payout.state, payout.held_until) == (600, "created", None)

    treasury = open_page(treasurer)
    nav(treasury, "Treasury")
    treasury.get_by_role("link", name="SEPA payout files").click()
    treasury.get_by_role("button", name="Gather waiting SEPA payouts into a new file").click()
    with treasury.expect_download() as download:
        treasury.get_by_role("link", name="Download the SEPA file (pain.001)").click()
    xml = Path(download.value.path()).read_text()
    assert "DE89370400440532013000" in xml and '<InstdAmt Ccy="EUR">6.00</InstdAmt>' in xml
    treasury.get_by_role("button", name="Mark sent to the bank").click()
    treasury.get_by_role("button", name=f"Mark payment {payout.pk} paid").click()
    assert treasury.locator("#sepa-state").inner_text() == "Closed"
    screenshot(treasury, "sepa-file")

    page.reload()
    assert page.locator("#payout-history").get_by_text("Paid", exact=True).is_visible()
    assert page.locator("#payout-available").inner_text() == "0.00 EUR"
    screenshot(page, "payouts")

    page.goto(f"/requesters/{organisation.slug}/")
    page.get_by_label("Fair pay (5 = very fair)").select_option("4")
    page.get_by_label("Communication").select_option("5")
    page.get_by_label("Review speed").select_option("5")
    page.get_by_role("button", name="Save rating").click()
    assert "your rating" in page.locator(".messages").inner_text()
    rating = RequesterRating.objects.get(worker=worker, organisation=organisation)
    assert (rating.pay_fairness, rating.communication, rating.review_speed) == (4, 5, 5)
