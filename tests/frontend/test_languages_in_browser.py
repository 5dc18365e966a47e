"""Each role's main page in two more languages, in real Chromium, the way a person gets there:
signed in, they pick their language in the footer's switch (issue 25: browser tests in two
languages for each role's main page). The choice is saved, so the next page keeps it."""

from typing import Any

import pytest

from accounts.models import Organisation, User
from accounts.services import membership_set_juror_opt_in
from tests.factories import MemberFactory, staff_member

pytestmark = pytest.mark.django_db(transaction=True)

# The menu's words each signed-in person sees, in the language chosen, and the English ones
# that must be gone.
WORDS = {
    "es": ("Buscar trabajo", "Cerrar sesión", "Idioma"),
    "hi": ("काम खोजें", "साइन आउट", "भाषा"),
}
ENGLISH = ("Find work", "Sign out", "Change language")


def _choose(page: Any, language: str) -> None:
    page.select_option("#language-choice", language)
    with page.expect_navigation():
        page.locator("#language-switch button[type=submit]").click()


def test_each_roles_main_page_in_spanish_and_hindi(
    open_page: Any, organisation: Organisation, requester: User, worker: User
) -> None:
    member = MemberFactory()
    juror = MemberFactory()
    membership_set_juror_opt_in(user=juror, opt_in=True)
    main_pages = {
        "worker": (worker, "/work/"),
        "requester": (requester, f"/org/{organisation.slug}/"),
        "member": (member, "/coop/proposals/"),
        "juror": (juror, "/cases/"),
        "treasurer": (staff_member("treasurer"), "/treasury/"),
        "verifier": (staff_member("verifier"), "/staff/verifications/"),
        "moderator": (staff_member("moderator"), "/staff/people/"),
    }
    for role, (person, url) in main_pages.items():
        page = open_page(person)
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "en", role
        english_main = page.locator("main").inner_text()
        for language, words in WORDS.items():
            _choose(page, language)
            assert page.url.endswith(url), (role, language, page.url)
            assert page.locator("html").get_attribute("lang") == language, (role, language)
            text = page.locator("body").inner_text()
            for word in words:
                assert word in text, (role, language, word)
            for word in ENGLISH:
                assert word not in text, (role, language, word)
            # The page's own words changed too, not only the menu's.
            assert page.locator("main").inner_text() != english_main, (role, language)
        # Saved with the person: a fresh visit to another page keeps the last choice.
        page.goto("/")
        assert page.locator("html").get_attribute("lang") == "hi", role
