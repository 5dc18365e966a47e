"""Every ability (issue 25.6), in a real browser: a worker accepts a task, does it and submits
it with the keyboard alone, in at most 8 key presses beyond the task's own fields, and every
control the keyboard reaches shows its focus."""

import re

import pytest

from accounts import services as account_services
from tasks.models import Assignment
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser

FOCUS_STYLE = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0, shadow: s.boxShadow !== "none"}; }"""


def test_accept_work_and_submit_by_keyboard_in_at_most_eight_presses(  # type: ignore[no-untyped-def]
    open_page, organisation, worker
) -> None:
    published_batch(organisation, title="Label animals", assignments_per_task=1)
    account_services.worker_introduction_done(user=worker)  # a worker who has read it
    page = open_page(worker)
    page.goto("/work/")
    presses: list[str] = []  # every key beyond the task's own fields

    def press(key: str) -> None:
        presses.append(key)
        page.keyboard.press(key)

    def focused() -> str:
        return str(
            page.evaluate(
                "(document.activeElement.getAttribute('aria-label') || document.activeElement.textContent || '').trim()"
            )
        )

    def focus_visible() -> bool:
        style = page.evaluate(FOCUS_STYLE)
        return bool(style["outline"] or style["shadow"])

    press("Tab")
    assert focused() == "Skip to content"
    assert focus_visible()
    press("Tab")
    assert focused() == "Accept a task"  # the feed's own skip link, to the first task
    assert focus_visible()
    press("Enter")
    assert focused() == "Accept a task of Label animals"
    assert focus_visible()
    press("Enter")
    page.wait_for_url(re.compile(r"/work/assignments/\d+/$"))
    assignment = Assignment.objects.get(worker=worker)
    assert assignment.status == Assignment.Status.ACCEPTED

    # The task frame takes the focus, on its first field: the task's own fields by keyboard.
    page.frame_locator("#task-frame").locator("input[name=answer]").first.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'task-frame'")
    inner = page.frame(url=re.compile(r"/frame/$"))
    assert inner is not None
    inner.wait_for_function("document.activeElement && document.activeElement.name === 'answer'")
    page.keyboard.press("Space")  # the task's own field: the first choice
    page.keyboard.press("Tab")  # to the comment box (the task's own fields)
    page.keyboard.type("A tabby cat.")
    press("Tab")  # to the task's submit button
    assert inner.evaluate("document.activeElement.type") == "submit"
    press("Enter")
    page.wait_for_url(re.compile(r"/work/assignments/$"))
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.SUBMITTED
    assert assignment.answers["answer"] == "yes"
    assert assignment.answers["comment"] == "A tabby cat."
    assert len(presses) <= 8, presses
