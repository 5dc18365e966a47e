"""The inbox in a real browser: the menu's unread count, the entry's link to the thing
concerned (which marks it read), and mark all as read."""

import pytest

from notifications.models import Notification
from tasks import services as task_services
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser


def test_worker_reads_a_rejection_from_the_inbox(open_page, screenshot, organisation, requester, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1, funds=10_000)
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    slot = task_services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes", "comment": "Cat"})
    task_services.assignment_bonus(actor=requester, assignment=slot, amount=10, reason="For the effort.")
    task_services.assignment_reject(actor=requester, assignment=slot, reason="incomplete", text="No comment given.")

    page = open_page(worker)
    inbox_link = page.locator("#nav-inbox")
    assert inbox_link.inner_text() == "Inbox 2"
    inbox_link.click()
    page.wait_for_url("**/inbox/")
    screenshot(page, "inbox")
    entries = page.locator("ul.inbox > li")
    assert entries.count() == 2
    assert page.locator("li.unread").count() == 2
    rejection = page.get_by_role("link", name=f"Your work on “{batch.title}” was rejected")
    assert (
        "You can dispute the rejection until"
        in page.locator(f"#notification-{Notification.objects.get(category='rejection').pk}").inner_text()
    )
    rejection.click()
    page.wait_for_url(f"**/work/assignments/{slot.pk}/")
    assert page.locator("#nav-inbox").inner_text() == "Inbox 1"

    page.locator("#nav-inbox").click()
    page.get_by_role("button", name="Mark all as read").click()
    page.wait_for_url("**/inbox/")
    assert page.locator("li.unread").count() == 0
    assert page.locator("#nav-inbox").inner_text() == "Inbox"
    assert Notification.objects.filter(user=worker, read_at__isnull=True).count() == 0
