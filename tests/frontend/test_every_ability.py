"""Every ability and small screens (issue 25.5 and 25.6), in a real browser: axe-core on
every page of every role with no critical or serious violation, visible focus,
phone-width pages without sideways scrolling, the compact menu, and a task frame that
grows with its content.

axe-core is vendored (tests/frontend/vendor/axe-core/: axe.min.js 4.10.3 from the npm
package, MPL-2.0, sha256 below), never fetched at test time."""

import hashlib
import re
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.test.signals import template_rendered
from django.urls import Resolver404, resolve

from accounts import services as account_services
from tasks import services as task_services
from tests.factories import PASSWORD, MemberFactory, UserFactory, staff_member
from tests.frontend import site_pages
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
AXE_RUN = """() => axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  resultTypes: ["violations"], iframes: false,
}).then(r => r.violations.filter(v => v.impact === "critical" || v.impact === "serious")
  .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))})))"""
# Started in one tab while the next page loads in another (the server and the browser then
# share the machine's cores); its result is collected afterwards.
AXE_START = f"() => {{ window.coopAxe = ({AXE_RUN})(); return true; }}"
AXE_RESULT = "() => window.coopAxe"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1200, "height": 900}
OVERFLOW = "document.scrollingElement.scrollWidth - window.innerWidth"
# The outermost elements reaching past the right edge, to name in a failure.
WIDE_ELEMENTS = """() => { const wide = [...document.body.querySelectorAll('*')].filter(
  e => e.getBoundingClientRect().right > window.innerWidth + 1);
  return wide.filter(e => !wide.includes(e.parentElement)).slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')); }"""


def _axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "the vendored axe-core changed: update the pin"
    return source.decode()


def _inject(page: Any, source: str) -> None:
    # Evaluated through the browser's debugging protocol, so the pages' strict
    # Content-Security-Policy (no inline scripts) stays as it is in production.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)


def _serious_violations(page: Any, source: str) -> list[dict[str, Any]]:
    _inject(page, source)
    return list(page.evaluate(AXE_RUN))


@pytest.fixture
def world(organisation, requester, worker) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One of each role and the objects their main pages show."""
    live = published_batch(organisation, title="Label animals", assignments_per_task=2, funds=50_000)
    done = task_services.assignment_accept(worker=worker, batch=live)
    task_services.assignment_submit(worker=worker, assignment=done, answers={"answer": "yes", "comment": ""})
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    return {
        "live": live,
        "done": done,
        "member": MemberFactory(),
        "treasurer": treasurer,
        "moderator": staff_member("moderator"),
    }


def test_every_route_is_a_visited_page_or_excluded() -> None:
    """A route added later is visited by the test below as every role the authorization
    matrix lets see it, or is listed in ``site_pages.NOT_PAGES`` with the reason."""
    names = {route.name for route in site_pages.all_routes()}
    unplaced = [
        f"{route.name} ({route.pattern})" for route in site_pages.page_routes() if not site_pages.roles_for(route)
    ]
    assert unplaced == [], "pages nobody visits: give them GET roles in MATRIX, or list them in NOT_PAGES"
    listed = set(site_pages.NOT_PAGES) | set(site_pages.THIRD_PARTY_PAGES)
    assert sorted(listed - names) == [], "NOT_PAGES names routes that no longer exist"
    assert sorted(set(site_pages.EXTRA_ROLES) - names) == []


def _signed_in_context(browser: Any, live_server: Any, role: str, person: Any) -> Any:
    """A browser context as ``person``: the session is made by Django's test client and
    handed to the browser (the sign-in form has its own journeys), except for
    ``signing_in``, who types the password and stops at the second step."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    if role == "signing_in":
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(person.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/accounts/login/verify/")
        page.close()
    elif person is not None:
        client = Client()
        client.force_login(person)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return context


def _overflowing(page: Any) -> list[str]:
    """At phone width: the elements reaching past the screen's right edge, when the page
    scrolls sideways."""
    page.set_viewport_size(PHONE)
    try:
        if page.evaluate(OVERFLOW) <= 0:
            return []
        return list(page.evaluate(WIDE_ELEMENTS))
    finally:
        page.set_viewport_size(DESKTOP)


def _route_of(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).url_name
    except Resolver404:
        return None


class _Sweep:
    """One tab per role, each signed in once; a page's axe run goes on in its tab while the
    other tabs load their next pages."""

    def __init__(self, browser: Any, live_server: Any, pages: site_pages.PageWorld, screenshot: Any) -> None:
        self.browser, self.live_server, self.pages, self.screenshot = browser, live_server, pages, screenshot
        self.source = _axe_source()
        self.tabs: dict[str, Any] = {}
        self.under_way: dict[str, str] = {}  # role -> the page whose axe run is under way in its tab
        self.on_phone: dict[str, int] = {}
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.overflows: dict[str, list[str]] = {}
        self.checked = 0

    def tab(self, role: str) -> Any:
        if role not in self.tabs:
            context = _signed_in_context(self.browser, self.live_server, role, self.pages.people[role])
            self.tabs[role] = context.new_page()
            self.tabs[role].set_default_timeout(15_000)
        return self.tabs[role]

    def start(self, role: str, where: str) -> None:
        _inject(self.tab(role), self.source)
        self.tab(role).evaluate(AXE_START)
        self.under_way[role] = where

    def finish(self, role: str) -> None:
        """Collects the axe run under way in ``role``'s tab, then measures the page at phone width."""
        where = self.under_way.pop(role, None)
        if where is None:
            return
        page = self.tab(role)
        if found := list(page.evaluate(AXE_RESULT)):
            self.violations[where] = found
        if wide := _overflowing(page):
            self.overflows[where] = wide
            self.screenshot(page, re.sub(r"\W+", "-", where).strip("-"))
        # Each role's first pages are also checked by axe at phone width: the folded menu and
        # the tables reflowed into cards must not add a violation.
        if self.on_phone.setdefault(role, 0) < 3:
            self.on_phone[role] += 1
            page.set_viewport_size(PHONE)
            if found := _serious_violations(page, self.source):
                self.violations[f"{where} (phone)"] = found
            page.set_viewport_size(DESKTOP)
        self.checked += 1

    def close(self) -> None:
        for tab in self.tabs.values():
            tab.context.close()


def test_axe_finds_no_serious_violation_and_no_page_overflows_a_phone_on_any_page_of_any_role(  # type: ignore[no-untyped-def]
    browser, live_server, settings, tmp_path, screenshot
) -> None:
    """Every page route of the URL conf as every role that may see it, in each state
    ``site_pages`` knows, then the pages only a form's answer shows and the error pages:
    axe-core finds no critical or serious violation, and at phone width nothing reaches past
    the screen's edge. Every page template is rendered on the way."""
    settings.MEDIA_ROOT = tmp_path  # the world's exports stay out of var/
    pages = site_pages.page_world_build()
    sweep = _Sweep(browser, live_server, pages, screenshot)
    problems: dict[str, str] = {}
    rendered: list[str] = []

    def _seen(sender: Any, template: Any, **kwargs: Any) -> None:
        rendered.append(template.name)

    assert set(site_pages.variants(pages)) <= {route.name for route in site_pages.page_routes()}
    planned = site_pages.visits(pages)
    assert len(planned) > 350
    queues: dict[str, deque[site_pages.Visit]] = {}
    for visit in planned:
        queues.setdefault(visit.role, deque()).append(visit)
    template_rendered.connect(_seen)
    try:
        # Round the roles' tabs: each loads its next page and starts axe on it, and collects
        # that run when its turn comes again.
        while any(queues.values()) or sweep.under_way:
            for role, queue in queues.items():
                sweep.finish(role)
                if not queue:
                    continue
                visit = queue.popleft()
                where = f"{visit.url} as {role}"
                response = sweep.tab(role).goto(visit.url)
                content_type = response.headers.get("content-type", "") if response else ""
                if response is None or response.status >= 500 or not content_type.startswith("text/html"):
                    problems[where] = f"answered {response and response.status} {content_type}"
                elif _route_of(sweep.tab(role).url) != visit.route:
                    problems[where] = f"redirected to {sweep.tab(role).url}"
                else:
                    sweep.start(role, where)
        for label, step in site_pages.STEP_PAGES.items():
            where = f"{label} as {step.role}"
            start = len(rendered)
            response = step.steps(sweep.tab(step.role), pages)
            if response is None or response.status != step.status or step.template not in rendered[start:]:
                problems[where] = f"answered {response and response.status} with {sorted(set(rendered[start:]))}"
            else:
                sweep.start(step.role, where)
                sweep.finish(step.role)
        # What is listed as not a page really is none: a download, JSON, a script or a redirect.
        for visit in site_pages.excluded_gets(pages):
            response = sweep.tab(visit.role).request.get(visit.url, max_redirects=0)
            if response.headers.get("content-type", "").startswith("text/html") and response.status < 300:
                problems[f"{visit.url} as {visit.role}"] = "listed as not a page, yet answers one"
        # axe really runs and reports: a nameless button and a low-contrast text are found.
        page = sweep.tab("anonymous")
        page.goto("/")
        page.evaluate(
            "() => { const b = document.createElement('button'); document.body.appendChild(b);"
            " const p = document.createElement('p'); p.textContent = 'faint'; p.style.color = '#eee';"
            " p.style.background = '#fff'; document.body.appendChild(p); }"
        )
        assert {v["id"] for v in _serious_violations(page, sweep.source)} >= {"button-name", "color-contrast"}
    finally:
        template_rendered.disconnect(_seen)
        sweep.close()
    assert problems == {}
    assert sweep.violations == {}
    assert sweep.overflows == {}
    assert sorted(site_pages.page_templates() - set(rendered)) == [], "page templates no visit rendered"
    assert sweep.checked == len(planned) + len(site_pages.STEP_PAGES)


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
