"""A requester reviews offline, as on MTurk: downloads the submissions awaiting review,
marks Approve and Reject in the file, uploads it and sees the result; a bad file is refused
with its rows listed and nothing applied; bonuses come from a file once. In a real browser."""

import csv
import io
from pathlib import Path

import pytest

from tasks import services as task_services
from tasks.models import Assignment, Bonus
from tests.factories import UserFactory
from tests.tasks.factories import available, earnings, published_batch

pytestmark = pytest.mark.browser


def _csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_requester_reviews_by_csv_round_trip(open_page, screenshot, organisation, requester) -> None:
    batch = published_batch(organisation, funds=10_000)
    work = []
    for answer in ("yes", "no", "yes"):
        worker = UserFactory()
        slot = task_services.assignment_accept(worker=worker, batch=batch)
        work.append(task_services.assignment_submit(worker=worker, assignment=slot, answers={"answer": answer}))
    first, second, third = work

    page = open_page(requester)
    page.goto(f"/org/{organisation.slug}/batches/{batch.pk}/review/")
    page.get_by_role("link", name="Offline review by CSV").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the review file (CSV)").click()
    assert download.value.suggested_filename == f"batch-{batch.pk}-review.csv"
    reader = csv.DictReader(io.StringIO(Path(download.value.path()).read_text()))
    columns, rows = list(reader.fieldnames or []), list(reader)
    assert columns[-2:] == ["Approve", "Reject"]
    assert [int(r["AssignmentId"]) for r in rows] == [first.pk, second.pk, third.pk]

    # A bad edit first: a rejection without a reason and an unknown assignment. Refused, listed, nothing applied.
    bad = [dict(r) for r in rows]
    bad[0]["Approve"] = "x"
    bad[1]["Reject"] = "x"
    bad.append({**rows[2], "AssignmentId": "987654", "Approve": "x"})
    page.get_by_label("Edited review file (CSV)").set_input_files(
        files=[{"name": "review.csv", "mimeType": "text/csv", "buffer": _csv(columns, bad)}]
    )
    page.get_by_role("button", name="Apply the review file").click()
    problems = page.locator("#file-problems")
    problems.wait_for()
    assert problems.get_by_role("heading").inner_text() == "2 rows to correct"
    assert "Write the reason for the rejection in the Reject column" in problems.inner_text()
    assert "There is no assignment 987654 in this batch." in problems.inner_text()
    screenshot(page, "refused")
    assert set(Assignment.objects.filter(pk__in=[a.pk for a in work]).values_list("status", flat=True)) == {"submitted"}

    # The corrected file: one approved, one rejected with its reason, one left for later.
    rows[0]["Approve"] = "x"
    rows[1]["Reject"] = "The picture shows a cat; the answer says no."
    page.get_by_label("Edited review file (CSV)").set_input_files(
        files=[{"name": "review.csv", "mimeType": "text/csv", "buffer": _csv(columns, rows)}]
    )
    page.get_by_role("button", name="Apply the review file").click()
    message = page.locator(".messages")
    message.wait_for()
    assert message.inner_text() == "File applied: 1 approved and paid, 1 rejected, 1 left undecided."
    screenshot(page, "applied")
    statuses = dict(Assignment.objects.filter(pk__in=[a.pk for a in work]).values_list("id", "status"))
    assert statuses == {first.pk: "approved", second.pk: "rejected", third.pk: "submitted"}
    assert earnings(first.worker) == 50

    # Bonuses from a file, once: the same file again pays nothing.
    bonus_file = f"AssignmentId,BonusAmount,Reason\n{first.pk},0.40,Very careful work.\n".encode()
    before = available(organisation)
    for expected in (
        "Bonuses paid: 1 (0.40 EUR); 0 already paid before, not paid again.",
        "Bonuses paid: 0 (0.00 EUR); 1 already paid before, not paid again.",
    ):
        page.get_by_label("Bonus file (CSV)").set_input_files(
            files=[{"name": "bonus.csv", "mimeType": "text/csv", "buffer": bonus_file}]
        )
        page.get_by_role("button", name="Pay the bonuses").click()
        page.locator(".messages", has_text=expected).wait_for()
    assert available(organisation) == before - 40
    assert list(Bonus.objects.values_list("assignment_id", "amount")) == [(first.pk, 40)]

    # The table shows what happened, sortable by work time.
    page.get_by_role("link", name="Submissions table").click()
    assert page.locator("#table-count").inner_text() == "3 submissions"
    page.get_by_label("Status", exact=True).select_option("rejected")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#submissions-table tbody tr").count() == 1
    assert page.locator(f"#row-{second.pk}").is_visible()
    screenshot(page, "table")
