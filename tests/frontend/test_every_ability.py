"""Every ability and small screens (issue 25.5 and 25.6), in a real browser: axe-core on
every page of every role with no critical or serious violation, visible focus,
phone-width pages without sideways scrolling, the compact menu, and a task frame that
grows with its content.

axe-core is vendored (tests/frontend/vendor/axe-core/: axe.min.js 4.10.3 from the npm
package, MPL-2.0, sha256 below), never fetched at test time."""

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from accounts import services as account_services
from tasks import services as task_services
from tests.factories import MemberFactory, UserFactory, staff_member
from tests.tasks.factories import make_batch, published_batch

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
AXE_RUN = """() => axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  resultTypes: ["violations"], iframes: false,
}).then(r => r.violations.filter(v => v.impact === "critical" || v.impact === "serious")
  .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))})))"""
PHONE = {"width": 375, "height": 740}
OVERFLOW = "document.scrollingElement.scrollWidth - window.innerWidth"


def _axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "the vendored axe-core changed: update the pin"
    return source.decode()


def _serious_violations(page: Any, source: str) -> list[dict[str, Any]]:
    # Evaluated through the browser's debugging protocol, so the pages' strict
    # Content-Security-Policy (no inline scripts) stays as it is in production.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    return list(page.evaluate(AXE_RUN))


@pytest.fixture
def world(organisation, requester, worker) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One of each role and the objects their pages show."""
    draft = make_batch(organisation, title="Draft batch")
    live = published_batch(organisation, title="Label animals", assignments_per_task=2, funds=50_000)
    done = task_services.assignment_accept(worker=worker, batch=live)
    task_services.assignment_submit(worker=worker, assignment=done, answers={"answer": "yes", "comment": ""})
    member = MemberFactory()
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    return {
        "draft": draft,
        "live": live,
        "done": done,
        "member": member,
        "treasurer": treasurer,
        "moderator": staff_member("moderator"),
    }


def _pages(world: dict[str, Any], organisation: Any, requester: Any, worker: Any) -> dict[Any, list[str]]:
    slug = organisation.slug
    live, draft = world["live"].pk, world["draft"].pk
    return {
        None: ["/", "/accounts/login/", "/accounts/register/", "/accounts/password-reset/", "/rules/",
               "/rules/minimum_hourly_wage/", "/glossary/", "/payouts/coverage/", f"/requesters/{slug}/"],
        worker: ["/work/", "/work/welcome/", f"/work/batches/{live}/", "/work/assignments/",
                 f"/work/assignments/{world['done'].pk}/", "/work/earnings/", "/work/scores/", "/work/profile/",
                 "/work/payouts/", "/work/searches/", "/work/draws/", "/cases/", "/inbox/", "/inbox/settings/",
                 "/messages/", f"/requesters/{slug}/", "/account/security/", "/account/data/"],
        requester: [f"/org/{slug}/", f"/org/{slug}/profile/", f"/org/{slug}/keys/", f"/org/{slug}/funds/",
                    f"/org/{slug}/batches/new/", f"/org/{slug}/batches/{draft}/", f"/org/{slug}/batches/{live}/",
                    f"/org/{slug}/batches/{live}/review/", f"/org/{slug}/team/", f"/org/{slug}/settings/",
                    f"/org/{slug}/templates/", f"/org/{slug}/qualifications/", f"/org/{slug}/statements/",
                    f"/org/{slug}/withdrawals/", f"/org/{slug}/webhooks/", f"/org/{slug}/notices/",
                    f"/org/{slug}/blocks/", f"/org/{slug}/verification/", "/org/new/"],
        world["member"]: ["/coop/proposals/", "/coop/dividends/", "/cases/", "/coop/staff/", "/inbox/"],
        world["treasurer"]: ["/treasury/", "/treasury/payouts/", "/treasury/dividends/"],
        world["moderator"]: ["/staff/", "/staff/people/", "/staff/organisations/", "/staff/audit/"],
    }  # fmt: skip


def test_axe_finds_no_serious_violation_on_any_page_of_any_role(  # type: ignore[no-untyped-def]
    open_page, world, organisation, requester, worker
) -> None:
    source = _axe_source()
    found: dict[str, list[dict[str, Any]]] = {}
    checked = 0
    for user, urls in _pages(world, organisation, requester, worker).items():
        page = open_page(user)
        for url in urls:
            try:
                response = page.goto(url)
            except Exception as error:
                found[url] = [{"id": "page did not open", "error": str(error).splitlines()[0]}]
                continue
            assert response is not None and response.status < 400, (url, response.status)
            if not page.url.endswith(url):  # redirected (to sign in, say): not the page meant
                found[url] = [{"id": "redirected", "to": page.url}]
                continue
            violations = _serious_violations(page, source)
            checked += 1
            if violations:
                found[url] = violations
        # The same pages on a phone: the compact menu and reflowed tables must not add any.
        page.set_viewport_size(PHONE)
        for url in urls[:3]:
            try:
                page.goto(url)
            except Exception:
                continue
            if violations := _serious_violations(page, source):
                found[f"{url} (phone)"] = violations
    assert checked >= 55
    # axe really runs and reports: a nameless button and a low-contrast text are found.
    page.evaluate(
        "() => { const b = document.createElement('button'); document.body.appendChild(b);"
        " const p = document.createElement('p'); p.textContent = 'faint'; p.style.color = '#eee';"
        " p.style.background = '#fff'; document.body.appendChild(p); }"
    )
    assert {v["id"] for v in _serious_violations(page, source)} >= {"button-name", "color-contrast"}
    assert found == {}


def test_focus_is_visible_on_every_control_of_the_main_pages(  # type: ignore[no-untyped-def]
    open_page, organisation, requester, worker
) -> None:
    published_batch(organisation, title="Label animals")
    for user, url in (
        (worker, "/work/"),
        (requester, f"/org/{organisation.slug}/batches/new/"),
        (None, "/accounts/password-reset/"),
    ):
        page = open_page(user)
        page.goto(url)
        unstyled = []
        for _ in range(25):
            page.keyboard.press("Tab")
            style = page.evaluate(
                "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
                " return [e.tagName + (e.id ? '#' + e.id : ''), s.outlineStyle, s.outlineWidth]; })()"
            )
            if style[0].startswith("BODY") or style[0].startswith("IFRAME"):
                continue
            if style[1] == "none" or style[2] in ("0px", ""):
                unstyled.append((url, style))
        assert unstyled == []


def test_each_roles_main_pages_fit_a_phone_with_a_compact_menu(  # type: ignore[no-untyped-def]
    open_page, screenshot, world, organisation, requester, worker
) -> None:
    slug = organisation.slug
    pages = {
        worker: ["/work/", "/work/earnings/", "/work/assignments/", f"/work/assignments/{world['done'].pk}/"],
        requester: [f"/org/{slug}/", f"/org/{slug}/batches/{world['live'].pk}/review/", f"/org/{slug}/funds/"],
        world["member"]: ["/coop/proposals/", "/rules/"],
        world["treasurer"]: ["/treasury/"],
        world["moderator"]: ["/staff/"],
        None: ["/accounts/password-reset/", "/glossary/"],
    }
    for user, urls in pages.items():
        page = open_page(user)
        page.set_viewport_size(PHONE)
        for url in urls:
            page.goto(url)
            assert page.evaluate(OVERFLOW) <= 0, url
            menu = page.locator("#site-menu")
            assert menu.get_attribute("open") is None, url  # folded on a phone
            assert page.locator("header.site").bounding_box()["height"] < 140, url
            screenshot(page, re.sub(r"\W+", "-", url.strip("/")) or "home")
        # The menu opens from its summary and shows the role's links.
        page.locator("#site-menu > summary").click()
        assert page.get_by_role("navigation", name="Main").is_visible()
        assert page.evaluate(OVERFLOW) <= 0
    # A table reflows into cards: each cell carries its column's heading.
    page = open_page(worker)
    page.set_viewport_size(PHONE)
    page.goto("/work/earnings/")
    cell = page.locator("#awaiting-review + p + .table-scroll td").first
    assert cell.get_attribute("data-label") == "Task"
    assert page.evaluate("getComputedStyle(document.querySelector('.table-scroll tr')).display") == "block"
    # On a wide screen the menu is open and its summary hidden.
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto("/work/")
    assert page.locator("#site-menu").get_attribute("open") is not None
    assert not page.locator("#site-menu > summary").is_visible()


def test_the_task_frame_grows_with_its_content_within_bounds(open_page, organisation, worker) -> None:  # type: ignore[no-untyped-def]
    long_task = "".join(f"<p>Paragraph {n} of the instructions.</p>" for n in range(80))
    batch = published_batch(
        organisation,
        title="Long task",
        assignments_per_task=1,
        template_html=long_task + '<label>Answer <input name="answer"></label>',
    )
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    page = open_page(worker)
    page.goto(f"/work/assignments/{slot.pk}/")
    page.frame_locator("#task-frame").get_by_text("Paragraph 79 of the instructions.").wait_for()
    page.wait_for_function("document.getElementById('task-frame').getBoundingClientRect().height > 1500")
    height = page.evaluate("document.getElementById('task-frame').getBoundingClientRect().height")
    assert 1500 < height <= 6000
    # The frame's content reaches its end without a scroll bar of its own.
    inner = page.frame(url=re.compile(r"/frame/$"))
    assert inner is not None
    assert inner.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 4")
