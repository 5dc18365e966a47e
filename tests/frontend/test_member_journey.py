"""Members propose a rule change, discuss it, vote (one changes their vote), see the result
with its chart, and see the new value in force in the running platform. In a real browser.

The calendar is moved by hand between steps (discussion and voting last days): the test
sets the due times to now and runs the same governance jobs beat runs every minute."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from governance import jobs
from governance.models import Proposal, RuleClass
from governance.selectors import rule_value
from tests.factories import MemberFactory
from tests.frontend.conftest import nav
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def test_members_vote_and_the_rule_change_takes_effect(open_page, screenshot, organisation) -> None:
    # This co-op gives no notice for operational rules, so the change applies at once.
    RuleClass.objects.filter(key="operational").update(notice_days=0)
    author, other = MemberFactory(), MemberFactory()
    page = open_page(author)

    nav(page, "Proposals")
    page.get_by_label("Title", exact=True).fill("Approve work after two days")
    page.get_by_label("Why (the case for it)").fill("Three days is too long to wait for pay.")
    page.get_by_label("Rule", exact=True).select_option(label="Auto-approval window")
    page.get_by_label("Proposed value").fill("2 days")
    page.get_by_role("button", name="Save draft").click()
    assert page.locator("#id_proposed_value_error").inner_text() == "'2 days' is not a whole number."
    assert Proposal.objects.count() == 0
    page.get_by_label("Proposed value").fill("48")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Open the discussion").click()
    assert page.locator("#proposal-state").inner_text() == "In discussion"
    proposal = Proposal.objects.get()

    colleague = open_page(other)
    colleague.goto(f"/coop/proposals/{proposal.pk}/")
    colleague.get_by_label("Your comment").fill("Agreed, and it still leaves time to review.")
    colleague.get_by_role("button", name="Comment").click()
    colleague.locator("#discussion").get_by_text("Agreed, and it still leaves time to review.").wait_for()

    Proposal.objects.filter(pk=proposal.pk).update(discussion_ends_at=timezone.now() - timedelta(seconds=1))
    assert jobs.open_due_votes() == 1

    page.reload()
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Cast my vote").click()
    assert "Your vote is recorded" in page.locator(".messages").inner_text()
    assert page.locator("#own-ballot").inner_text().startswith("You have voted: Yes")
    screenshot(page, "voting")

    colleague.reload()
    colleague.get_by_label("No", exact=True).check()
    colleague.get_by_role("button", name="Cast my vote").click()
    colleague.get_by_label("Yes", exact=True).check()
    colleague.get_by_role("button", name="Change my vote").click()
    assert colleague.locator("#own-ballot").inner_text().startswith("You have voted: Yes")

    Proposal.objects.filter(pk=proposal.pk).update(voting_closes_at=timezone.now() - timedelta(seconds=1))
    assert jobs.close_due_votes() == 1
    assert jobs.activate_due_proposals() == 1

    page.reload()
    assert page.locator("#proposal-state").inner_text() == "In effect"
    assert page.locator("#result-summary").inner_text().startswith("2 yes, 0 no, 0 abstain; turnout 2 of 2")
    assert page.locator("svg.chart").count() == 1
    screenshot(page, "result")

    nav(page, "Rules")
    assert page.locator("#rule-auto_approval_hours .value").inner_text() == "48 hours"
    page.get_by_role("link", name="Auto-approval window").click()
    assert page.locator("#rule-value").inner_text() == "48 hours"
    assert page.get_by_role("link", name="Approve work after two days").is_visible()
    screenshot(page, "rule-history")

    # The running platform applies it: a batch published now records the new window.
    assert rule_value("auto_approval_hours") == 48
    batch = published_batch(organisation)
    assert batch.effective_auto_approval_hours == 48
    assert re.search(r"\d", page.title()) is None  # plain page titles, no ids
