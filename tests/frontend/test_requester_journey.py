"""A requester funds its balance by bank transfer (the treasurer confirms it), creates a
batch with a live preview, publishes it with the escrow shown, reviews the work (approve,
reject with a reason, bulk approve, bonus) and exports the paid results. In a real browser."""

import csv
import io
import re
from pathlib import Path

import pytest

from payments.models import Deposit
from payments.selectors import organisation_balance
from tasks import services as task_services
from tasks.models import Assignment, Batch, Bonus
from tests.factories import UserFactory
from tests.frontend.conftest import nav
from tests.tasks.factories import TEMPLATE

pytestmark = pytest.mark.browser

ROWS = "animal,image_url\ncat,https://img.example/1.jpg\ndog,https://img.example/2.jpg\nfox,https://img.example/3.jpg\n"


def test_requester_funds_publishes_and_reviews(open_page, screenshot, organisation, requester, worker) -> None:
    from accounts import services as account_services

    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    slug = organisation.slug
    page = open_page(requester)

    # Funding by bank transfer: instructions with the reference code.
    nav(page, organisation.display_name)
    page.get_by_role("link", name="Funds", exact=True).click()
    page.get_by_label("Amount").fill("20.00")
    page.get_by_role("button", name="Continue").click()
    reference = page.locator("#reference").inner_text()
    assert re.fullmatch(r"COOP-[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert "DE89370400440532013000" in page.locator("main").inner_text()
    screenshot(page, "bank-instructions")

    # The treasurer sees the money arrive and confirms it.
    treasury = open_page(treasurer)
    nav(treasury, "Treasury")
    treasury.get_by_role("button", name=f"Confirm deposit {reference}").click()
    assert f"Deposit {reference} confirmed" in treasury.locator(".messages").inner_text()
    screenshot(treasury, "treasury")
    assert Deposit.objects.get(reference=reference).credited_amount == 2000
    page.reload()
    assert page.locator("#deposit-status").inner_text() == "Confirmed"

    # A batch with a live preview of the first input row; a missing purpose is refused first.
    page.goto(f"/org/{slug}/batches/new/")
    page.get_by_label("Title").fill("Label animals")
    page.get_by_label("Instructions").fill("Say whether the picture shows the animal named.")
    page.get_by_label("How the data will be used").fill("Training an open model; no personal data.")
    page.get_by_label("Reward per assignment").fill("0.50")
    page.get_by_label("Workers per task").fill("1")
    page.get_by_label("Estimated minutes per assignment").fill("2")
    page.get_by_label("Time allotted (minutes)").fill("10")
    page.get_by_label("Input rows (CSV or JSON)").set_input_files(
        files=[{"name": "rows.csv", "mimeType": "text/csv", "buffer": ROWS.encode()}]
    )
    page.get_by_label("Task template (HTML)").fill(TEMPLATE)
    preview = page.frame_locator("#preview iframe")
    preview.get_by_text("Is this image of a cat?").wait_for()
    screenshot(page, "batch-preview")
    page.get_by_role("button", name="Save draft").click()
    assert page.locator("#id_purpose_error").inner_text() == "This field is required."
    assert Batch.objects.count() == 0

    page.get_by_label("Purpose", exact=True).fill("Training data for a wildlife camera classifier.")
    page.get_by_label("Input rows (CSV or JSON)").set_input_files(
        files=[{"name": "rows.csv", "mimeType": "text/csv", "buffer": ROWS.encode()}]
    )
    page.get_by_role("button", name="Save draft").click()
    page.locator("#operation[data-state=done]").wait_for()
    assert page.locator("#operation-message").inner_text() == "3 input rows saved."
    page.get_by_role("link", name="Continue").click()

    # Publishing shows what escrow will hold: 3 slots x (0.50 + 10% fee).
    assert page.locator("#escrow-total").inner_text() == "1.65 EUR"
    screenshot(page, "publish")
    page.get_by_role("button", name=re.compile("Publish and reserve")).click()
    assert page.locator("#batch-status").inner_text() == "Published"
    batch = Batch.objects.get()
    assert organisation_balance(organisation=organisation).available == 2000 - 165

    # A worker does all three tasks (through the services: the worker journey covers the pages).
    for _ in range(3):
        slot = task_services.assignment_accept(worker=worker, batch=batch)
        task_services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})
    first, second, third = Assignment.objects.filter(batch=batch).order_by("id")

    page.get_by_role("link", name="Review submissions").click()
    row = page.locator(f"#submission-{first.pk}")
    row.get_by_role("button", name="Approve and pay").click()
    page.locator(f"#submission-{first.pk} .badge", has_text="Approved").wait_for()

    rejected = page.locator(f"#submission-{second.pk}")
    rejected.get_by_text("Reject with a reason").click()
    rejected.get_by_label("Reason").select_option("incomplete")
    rejected.get_by_role("button", name="Reject").click()
    page.locator(f"#id_r{second.pk}-text_error").wait_for()
    second.refresh_from_db()
    assert second.status == Assignment.Status.SUBMITTED
    rejected = page.locator(f"#submission-{second.pk}")
    rejected.get_by_label("Explanation for the worker").fill("The comment box is empty.")
    rejected.get_by_role("button", name="Reject").click()
    page.locator(f"#submission-{second.pk} .badge", has_text="Rejected").wait_for()

    page.locator(f"#submission-{third.pk}").get_by_label("Include in bulk approval").check()
    page.get_by_role("button", name="Approve selected").click()
    page.locator("#operation[data-state=done]").wait_for()
    assert page.locator("#operation-message").inner_text() == "1 submission approved and paid."
    screenshot(page, "bulk-approved")
    page.get_by_role("link", name="Continue").click()

    bonus_row = page.locator(f"#submission-{first.pk}")
    bonus_row.get_by_text("Send a bonus").click()
    bonus_row.get_by_label("Bonus").fill("0.20")
    bonus_row.get_by_label("Why").fill("Careful work.")
    bonus_row.get_by_role("button", name="Pay bonus").click()
    page.locator(f"#submission-{first.pk}").get_by_text("Bonus of 0.20 EUR paid.").wait_for()
    assert Bonus.objects.get(assignment=first).amount == 20
    statuses = dict(Assignment.objects.filter(batch=batch).values_list("id", "status"))
    assert statuses == {first.pk: "approved", second.pk: "rejected", third.pk: "approved"}

    # Exports hold paid work only: the rejected submission is not in it.
    page.goto(f"/org/{slug}/batches/{batch.pk}/")
    page.get_by_role("button", name="Export paid results (CSV)").click()
    page.locator("#operation[data-state=done]").wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download batch-{batch.pk}-results.csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(int(r["AssignmentId"]) for r in rows) == [first.pk, third.pk]
    assert {r["Answer.answer"] for r in rows} == {"yes"}
