"""The browser-test harness: headless Debian Chromium driven by Playwright against
pytest-django's live server.

Tests marked ``browser`` use the ``browser`` fixture. Without /usr/bin/chromium they are
skipped with the reason, unless ``REQUIRE_BROWSER=1`` (CI) makes that a failure.
Screenshots of each journey's key pages go to ``screenshots/`` (git-ignored).
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.fakes.fixtures import fake_stripe, fake_wise  # noqa: F401  (card top-up pages, Wise payouts)

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous code, so Django may allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _founding_rules(request: pytest.FixtureRequest) -> None:
    """A live-server test runs on a database flushed by the transactional test before it,
    which took the founding rules (loaded by a data migration) with it: write them back."""
    if "live_server" not in request.fixturenames:
        return
    from django.core.cache import cache

    from tests.governance.factories import founding_rules_reload

    request.getfixturevalue("transactional_db")
    founding_rules_reload()
    cache.clear()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        _unavailable("Playwright for Python is not installed")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    except Exception as error:  # a broken browser install: say so rather than error deep inside a test
        playwright.stop()
        _unavailable(f"Chromium did not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def open_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """``open_page(user=None)``: a page in its own browser context (its own cookies),
    signed in through the real sign-in form when ``user`` is given."""
    contexts: list[Any] = []

    def _open(user: Any = None, password: str | None = None) -> Any:
        from tests.factories import PASSWORD

        context = browser.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        if user is not None:
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(password or PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(live_server.url + "/")
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``screenshot(page, "name")`` writes screenshots/<test>-<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    prefix = request.node.name.removeprefix("test_")

    def _take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{prefix}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _take


def nav(page: Any, name: str) -> None:
    """Follows a link of the main navigation (the same words can appear in the page)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
