"""The sandbox on the web (issue 24.6): a requester publishes a sandbox batch with play
money, one of the organisation's own people works it in the real task frame, the requester
approves it and sends a bonus, all paid in tracked play money (the Sandbox page shows it held,
paid, and topped up), and not one ledger row is written; an outsider never sees or works it,
and the sandbox is marked on every page that shows it: the banner, the tester's task list,
the "[Sandbox]" notice in their inbox. In a real browser."""

import io
import re

import pytest
from django.core.management import call_command

from accounts.services import organisation_staff_add
from frontend.templatetags.frontend import money
from ledger.models import Account, Transfer
from payments.selectors import organisation_balance
from tasks import play
from tasks.models import Assignment, Batch
from tests.factories import UserFactory
from tests.ledger.factories import fund

pytestmark = pytest.mark.browser

ONE_QUESTION = """<p>Is the sky blue today?</p>
<form>
  <input type="radio" name="answer" value="yes" required> yes
  <input type="radio" name="answer" value="no"> no
  <input type="submit" value="Send">
</form>"""

BANNER = "SANDBOX"


def test_sandbox_batch_is_published_and_worked_without_a_ledger_row(
    open_page, screenshot, organisation, requester
) -> None:
    slug = organisation.slug
    fund(organisation, 2_000)
    tester = UserFactory()
    organisation_staff_add(organisation=organisation, user=tester, actor=requester)
    outsider = UserFactory()
    transfers, accounts_before = Transfer.objects.count(), Account.objects.count()

    page = open_page(requester)
    page.goto(f"/org/{slug}/")
    page.get_by_role("link", name="Sandbox", exact=True).click()
    assert BANNER in page.locator("#sandbox-banner").inner_text()
    page.get_by_role("link", name="New sandbox batch").click()
    assert BANNER in page.locator("#sandbox-banner").inner_text()
    page.get_by_label("Title").fill("Sky check")
    page.get_by_label("Instructions").fill("Look outside and answer.")
    page.get_by_label("Purpose", exact=True).fill("Testing our task before we pay for it.")
    page.get_by_label("How the data will be used").fill("Thrown away after the test.")
    page.get_by_label("Reward per assignment").fill("0.50")
    page.get_by_label("Workers per task").fill("1")
    page.get_by_label("Estimated minutes per assignment").fill("2")
    page.get_by_label("Time allotted (minutes)").fill("10")
    page.get_by_label("Task template (HTML)").fill(ONE_QUESTION)
    page.get_by_role("button", name="Save sandbox draft").click()
    page.wait_for_url(re.compile(rf"/org/{slug}/batches/\d+/$"))
    batch = Batch.objects.get(title="Sky check")
    assert batch.is_sandbox
    assert BANNER in page.locator("#sandbox-banner").inner_text()
    assert page.locator("#play-escrow-total").inner_text() == money(55)  # 0.50 + 0.05 fee, in play money
    page.get_by_role("button", name="Publish with play money").click()
    assert page.locator("#batch-status").inner_text() == "Published"
    assert organisation_balance(organisation=organisation).available == 2_000  # nothing reserved
    screenshot(page, "sandbox-published")
    # The play money is held, on the Sandbox page.
    page.get_by_role("link", name="Sandbox", exact=True).click()
    assert page.locator("#play-held").inner_text() == money(55)
    assert page.locator("#play-available").inner_text() == money(play.OPENING - 55)

    # An outsider: not in their feed, and the requester's test is not there for them even by
    # its address (its page, its task frame); nothing can be taken.
    stranger = open_page(outsider)
    stranger.goto("/work/")
    assert "Sky check" not in stranger.locator("main").inner_text()
    for address in (f"/work/batches/{batch.pk}/", f"/work/batches/{batch.pk}/preview-frame/"):
        response = stranger.goto(address)
        assert response is not None and response.status == 404
        assert "Sky check" not in stranger.content()
    assert not Assignment.objects.filter(batch=batch, worker=outsider).exists()

    # One of the organisation's own people works it from the sandbox area.
    own = open_page(tester)
    own.goto(f"/org/{slug}/sandbox/")
    own.locator("#sandbox-live").get_by_role("link", name="Sky check").click()
    own.get_by_role("button", name="Accept a task").click()
    own.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    assert BANNER in own.locator("#sandbox-banner").inner_text()
    frame = own.frame_locator("#task-frame")
    frame.locator("input[name=answer][value=yes]").check()
    frame.locator("input[type=submit]").click()
    own.wait_for_url(re.compile(r"/work/assignments/$"))
    slot = Assignment.objects.get(batch=batch, worker=tester)
    assert slot.status == Assignment.Status.SUBMITTED

    page.goto(f"/org/{slug}/batches/{batch.pk}/review/")
    assert BANNER in page.locator("#sandbox-banner").inner_text()
    page.locator(f"#submission-{slot.pk}").get_by_role("button", name="Approve and pay").click()
    page.locator(f"#submission-{slot.pk} .badge", has_text="Approved").wait_for()
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.APPROVED
    card = page.locator(f"#submission-{slot.pk}")
    card.get_by_text("Send a bonus").click()
    card.get_by_label("Bonus").fill("0.25")
    card.get_by_label("Why").fill("Thanks for testing.")
    card.get_by_role("button", name="Pay bonus").click()
    page.locator(f"#submission-{slot.pk} [role=status]").wait_for()

    # Paid in play money, and topped up for free: the Sandbox page tracks it.
    page.goto(f"/org/{slug}/sandbox/")
    assert page.locator("#play-held").inner_text() == money(0)
    assert page.locator("#play-paid").inner_text() == money(50 + 25)
    assert page.locator("#play-fees").inner_text() == money(5)
    assert tester.pseudonym in page.locator("#play-testers").inner_text()
    page.get_by_label("Play money to add").fill("500.00")
    page.get_by_role("button", name="Add play money").click()
    assert page.locator("#play-available").inner_text() == money(play.OPENING - 55 - 25 + 500_00)
    screenshot(page, "sandbox-play-money")
    assert play.play_book_check(organisation=organisation) == []

    # The tester's own pages mark it: the task list and the "[Sandbox]" notice of the bonus.
    own.goto("/work/assignments/")
    assert own.locator("main .badge.sandbox").count() == 1
    own.goto("/inbox/")
    assert "[Sandbox] " in own.locator("main").inner_text()
    own.goto("/work/earnings/")
    assert "Sky check" not in own.locator("main").inner_text()  # play money is no earning

    # Not one ledger row, the real balance untouched, and the books still add up.
    assert Transfer.objects.count() == transfers
    assert Account.objects.count() == accounts_before
    assert organisation_balance(organisation=organisation).available == 2_000
    out = io.StringIO()
    call_command("ledger_verify", stdout=out)
    assert "consistent" in out.getvalue()
