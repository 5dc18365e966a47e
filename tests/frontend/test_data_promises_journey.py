"""The co-op's data promises in a real browser (issue 28 points 2 and 3): a worker refuses
reuse at accept time and later; the requester files the end-of-batch data report; the
worker reads it from the inbox in their work history."""

import pytest

from tasks import services as task_services
from tasks.models import Batch, BatchDataReport, ReuseOptOut
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def test_opt_out_then_the_data_report_reaches_the_worker(
    open_page, screenshot, organisation, requester, worker
) -> None:
    batch = published_batch(organisation, assignments_per_task=1, reuse_beyond_purpose=True, title="Label the owls")

    page = open_page(worker)
    page.goto(f"/work/batches/{batch.pk}/")
    page.get_by_label("Refuse that for my answers", exact=False).check()
    page.get_by_role("button", name="Accept a task").click()
    page.wait_for_url("**/work/assignments/*/")
    first = batch.assignments.get(worker=worker)
    assert ReuseOptOut.objects.filter(assignment=first, worker=worker).exists()
    task_services.assignment_submit(worker=worker, assignment=first, answers={"answer": "yes"})
    second = task_services.assignment_accept(worker=worker, batch=batch)
    task_services.assignment_submit(worker=worker, assignment=second, answers={"answer": "no"})
    for slot in (first, second):
        task_services.assignment_approve(actor=requester, assignment=slot)
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED

    # Later, from the work history: refuse reuse of the second task's answers too.
    page.goto("/work/assignments/")
    assert "you refused reuse" in page.locator(f"#reuse-{first.pk}").inner_text()
    page.locator(f"#reuse-{second.pk}").get_by_role("button", name="Refuse reuse of these answers").click()
    page.wait_for_url("**/work/assignments/")
    assert "you refused reuse" in page.locator(f"#reuse-{second.pk}").inner_text()
    assert ReuseOptOut.objects.filter(worker=worker).count() == 2

    # The requester files the report from the batch page.
    office = open_page(requester)
    office.goto(f"/org/{organisation.slug}/batches/{batch.pk}/")
    office.locator("#data-report-link").click()
    office.wait_for_url("**/data-report/")
    office.get_by_label("What was the data used for?").fill("An owl census published by the regional park.")
    office.get_by_label("Partly").check()
    office.get_by_label("If not fully, how did it differ?").fill("Also used to test a counting app.")
    office.get_by_label("Where was it published (if anywhere)?").fill("https://park.example/owls-2026")
    screenshot(office, "report-form")
    office.get_by_role("button", name="File the report").click()
    office.wait_for_url("**/data-report/")
    assert "An owl census" in office.locator("#data-report-filed").inner_text()
    report = BatchDataReport.objects.get(batch=batch)
    assert (report.matched, report.late) == ("partly", False)

    # The worker finds it in the inbox, which leads to the work history.
    page.goto("/inbox/")
    page.get_by_role("link", name="What became of your work on “Label the owls”").click()
    page.wait_for_url("**/work/assignments/**")
    card = page.locator(f"#batch-{batch.pk}")
    assert "An owl census published by the regional park." in card.inner_text()
    assert "Also used to test a counting app." in card.inner_text()
    screenshot(page, "work-history")

    # The report is public on the requester's page.
    page.goto(f"/requesters/{organisation.slug}/")
    assert "An owl census" in page.locator("#data-reports + ul").inner_text()
