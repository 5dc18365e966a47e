"""The words the scripts write come from Django's JavaScript catalog in the reader's language
(issue 25.1): served by the site itself, so the strict Content-Security-Policy (no inline
script) lets the page load it."""

import gettext
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from notifications.services import notification_settings_set
from tests.factories import UserFactory
from tests.frontend.test_translations import LANGUAGES, parse_po

LOCALE = Path(settings.BASE_DIR) / "locale"
SCRIPTS = Path(settings.BASE_DIR) / "frontend" / "static" / "frontend"
# A string literal, with the gettext( call in front of it if there is one.
LITERAL = re.compile(r"""(gettext\(\s*)?("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
# Words a script may hold as they are: names, not sentences.
NAMES = {"use strict", "Co-op crowdwork", "coop:answers", "coop:focus", "coop:height", "tbody tr"}


def _prose(source: str) -> list[str]:
    """The string literals in a script that read as words (two words, or one capitalised),
    outside gettext() and comments."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"^\s*//.*$", "", source, flags=re.M)
    found = []
    for match in LITERAL.finditer(source):
        text = match.group(2)[1:-1]
        if match.group(1) or text in NAMES:
            continue
        if re.search(r"[A-Za-z]{2,}[ ,.:!?] ?[A-Za-z]{2,}", text) or re.fullmatch(r"[A-Z][a-z]+", text):
            found.append(text)
    return found


def test_the_checker_finds_an_english_sentence() -> None:
    assert _prose('box.textContent = ok ? gettext("Saved.") : "time is up"; // "a comment"') == ["time is up"]


@pytest.mark.parametrize("script", sorted(path.name for path in SCRIPTS.glob("*.js")))
def test_no_script_writes_english_of_its_own(script: str) -> None:
    """Every word a script shows comes from the catalog (gettext) or from the page's own
    translated data attributes, never from an English fallback in the script."""
    assert _prose((SCRIPTS / script).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_script_word_is_translated(language: str) -> None:
    entries = parse_po(LOCALE / language / "LC_MESSAGES" / "djangojs.po")
    assert {entry["id"] for entry in entries} >= {"This browser cannot receive notifications."}
    for entry in entries:
        assert "fuzzy" not in entry["flags"] and all(entry["str"].values()), (language, entry["id"])
    with (LOCALE / language / "LC_MESSAGES" / "djangojs.mo").open("rb") as compiled:
        loaded = gettext.GNUTranslations(compiled)
    for entry in entries:  # the compiled catalog is the one translated
        assert loaded.gettext(entry["id"]) == entry["str"][0], (language, entry["id"])


def test_the_catalog_is_a_script_in_the_readers_language(client: Client, db: None) -> None:
    person = UserFactory()
    notification_settings_set(user=person, language="hi", time_zone="Asia/Kolkata")
    client.force_login(person)
    response = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    # The catalog is JSON inside the script (non-ASCII letters escaped).
    assert json.dumps("यह ब्राउज़र सूचनाएँ प्राप्त नहीं कर सकता।") in response.content.decode()
    anonymous = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Este navegador no puede recibir notificaciones." in anonymous.content.decode()
    assert "script-src 'self'" in anonymous["Content-Security-Policy"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_script_written_message_reads_in_spanish(open_page: Any, settings: Any) -> None:
    settings.VAPID_PUBLIC_KEY = (
        "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
    )
    worker = UserFactory()
    notification_settings_set(user=worker, language="es", time_zone="America/Caracas")
    page = open_page(worker)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    # A browser without Web Push: push.js says so, in the worker's language.
    page.add_init_script("delete window.PushManager;")
    page.goto("/work/searches/")
    status = page.locator("#push-status")
    status.wait_for(state="attached")
    page.wait_for_function("document.getElementById('push-status').textContent.length > 0")
    assert status.inner_text() == "Este navegador no puede recibir notificaciones."
    assert page.locator("#push-allow").is_disabled()
    assert not [error for error in errors if "Content Security Policy" in error], errors
