"""A worker disputes a rejection, the requester contests it, a panel of members is drawn,
a juror reads only what the case needs and casts a sealed vote, and the decision pays the
worker. In a real browser; the stage deadlines are moved to now and the same Celery job
beat runs does the rest."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from disputes import jobs as dispute_jobs
from disputes import services as dispute_services
from disputes.models import Case, Juror
from ledger import accounts
from ledger.escrow import balance
from tasks import services as task_services
from tasks.models import Assignment
from tests.factories import MemberFactory
from tests.frontend.conftest import nav
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def _deadline_passes(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    dispute_jobs.run_deadlines()


def test_worker_disputes_and_a_juror_decides(open_page, screenshot, organisation, requester, worker) -> None:
    jurors = [MemberFactory() for _ in range(3)]
    batch = published_batch(organisation, assignments_per_task=1)
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    task_services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes", "comment": "A cat."})
    task_services.assignment_reject(actor=requester, assignment=slot, reason="incomplete", text="No comment given.")

    page = open_page(worker)
    nav(page, "My work")
    page.get_by_role("link", name=batch.title).click()
    page.get_by_role("button", name="Open the dispute").click()
    assert page.locator("#id_statement_error").inner_text() == "This field is required."
    assert not Case.objects.exists()
    page.get_by_label("Why the rejection is wrong").fill("I wrote a comment: 'A cat.' The work is complete.")
    page.get_by_role("button", name="Open the dispute").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    assert page.locator("#case-state").get_attribute("data-state") == "awaiting_response"
    assert page.locator("#case-state").inner_text() == "Waiting for the requester's answer"
    case = Case.objects.get()
    screenshot(page, "dispute-opened")

    staff = open_page(requester)
    staff.goto(f"/org/{organisation.slug}/")
    nav(staff, "Disputes")
    staff.get_by_role("link", name=re.compile(f"Case {case.pk}")).click()
    staff.get_by_label("Contest: let a panel of members decide").check()
    staff.get_by_role("button", name="Send answer").click()
    assert staff.locator("#id_text_error").inner_text() == "Explain to the panel why the rejection stands."
    case.refresh_from_db()
    assert case.state == Case.State.AWAITING_RESPONSE
    staff.get_by_label("Contest: let a panel of members decide").check()
    staff.get_by_label("Your reasons").fill("The instructions ask for a full sentence.")
    staff.get_by_role("button", name="Send answer").click()
    assert staff.locator("#case-state").inner_text() == "Evidence period"
    assert Juror.objects.filter(case=case).count() == 3

    page.reload()
    page.get_by_label("Evidence for the panel").fill("The instructions say 'a short comment'.")
    page.get_by_role("button", name="Add evidence").click()
    assert "a short comment" in page.locator("main").inner_text()

    _deadline_passes(case)
    case.refresh_from_db()
    assert case.state == Case.State.VOTING

    seat = Juror.objects.filter(case=case).order_by("id").first()
    juror_page = open_page(seat.user)
    nav(juror_page, "Disputes and jury")
    juror_page.get_by_role("link", name=re.compile(f"Case {case.pk}")).click()
    text = juror_page.locator("main").inner_text()
    # Only what the case needs: the work, the reasons, the evidence; no identities.
    assert worker.pseudonym not in text and organisation.display_name not in text
    assert "No comment given." in text and "a short comment" in text
    juror_page.get_by_label("Share of the reward to pay (%)").fill("150")
    juror_page.get_by_label("Your reason").fill("The comment was there.")
    juror_page.get_by_role("button", name="Cast sealed vote").click()
    assert juror_page.locator("#id_share_error").inner_text() == "A percentage from 0 to 100, at most two decimals."
    juror_page.get_by_label("Share of the reward to pay (%)").fill("100")
    juror_page.get_by_role("button", name="Cast sealed vote").click()
    assert juror_page.locator("#own-vote").inner_text() == "You voted 100%."
    screenshot(juror_page, "sealed-vote")

    # The parties do not see a sealed vote before the panel decides.
    page.reload()
    assert "voted 100%" not in page.locator("#panel").inner_text()

    for other in Juror.objects.filter(case=case).exclude(pk=seat.pk).order_by("id"):
        dispute_services.case_vote(case=case, juror_user=other.user, share_bps=10_000, reason="Complete work.")
    case.refresh_from_db()
    assert case.state == Case.State.DECIDED
    _deadline_passes(case)  # the appeal window closes unused

    page.reload()
    assert page.locator("#case-state").inner_text() == "Closed"
    assert "100% of the reward paid" in page.locator("#case-outcome").inner_text()
    screenshot(page, "decided")
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.SETTLED
    assert balance(accounts.worker_earnings(worker)).posted == batch.reward
    assert {seat.user for seat in Juror.objects.filter(case=case)} == set(jurors)
