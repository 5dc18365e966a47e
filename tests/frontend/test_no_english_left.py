"""No page shows English of the platform's own to a reader of another language (issue 25.1):
every page of every role, in the states ``site_pages`` knows, rendered in Spanish, and what is
left of its text once the people's own words (everything stored) are taken out holds no
English. Catches words written in Python or a template without gettext, which the catalog
tests cannot see: they only know the marked strings."""

import logging
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from tests.frontend import site_pages

pytestmark = pytest.mark.django_db(transaction=True)

# Words of English that are no words of Spanish.
ENGLISH = re.compile(
    r"\b(the|your|you|and|with|this|that|is|are|was|were|yet|not|of|to|for|from|has|have|will|can|be|been|"
    r"there|here|what|which|who|when|no one|nothing|none|only|each|every|before|after|until|per|or)\b",
    re.IGNORECASE,
)
# Words of the language itself that look like English ones ("se o trabalho for rejeitado").
FALSE_FRIENDS = {"pt-br": {"for"}}
# Names that stay as they are in every language: the tz database's zones, MTurk's own.
KEPT = re.compile(
    r"\b(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)/[\w/+-]+(?: [\w/+-]+)*"
    r"|\b(?:MTurk|Mechanical Turk|UniqueRequestToken|AssignmentId|Accept-Language)\b"
)
# A page that shows what a job wrote in the language of the page that started it (the world's
# operations were started without a page, so in English).
STARTED_ELSEWHERE = {"operation"}
SKIPPED_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "template"}
SHOWN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


class _Text(HTMLParser):
    """The words a person reads: text outside code and scripts, and the labels of controls."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.parts.append(data.strip())


def _stored_words() -> list[str]:
    """Every text stored in the database (names, titles, instructions, typed reasons, ...):
    the people's own words, shown as they wrote them. Longest first, so a long one is taken
    out before a shorter one inside it."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if len(value.strip()) > 1:
                found.add(value.strip())
                found.update(line.strip() for line in value.splitlines() if len(line.strip()) > 1)
            if "<" in value:  # a requester's task page: its words are theirs too
                parser = _Text()
                parser.feed(value)
                found.update(part for part in parser.parts if len(part) > 1)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for model in apps.get_models():
        texts = (models.CharField, models.TextField, models.JSONField)
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, texts)]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for value in row:
                walk(value)
    return sorted(found, key=len, reverse=True)


def _pattern(stored: list[str]) -> re.Pattern[str]:
    """The stored words as whole words (a name "cat" is not taken out of "location")."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(words) for words in stored) + r")(?!\w)")


def english_left(html: str, stored: list[str], language: str = "es") -> list[str]:
    parser = _Text()
    parser.feed(html)
    theirs = _pattern(stored) if stored else None
    left = []
    for part in parser.parts:
        if theirs is not None:
            part = theirs.sub(" ", part)
        part = KEPT.sub(" ", part)
        if any(word.lower() not in FALSE_FRIENDS.get(language, set()) for word in ENGLISH.findall(part)):
            left.append(part)
    return left


def test_the_scan_finds_english_and_leaves_stored_words_alone() -> None:
    html = '<p>Ganancias por día: nothing to show yet.</p><p title="Label the cats">Etiqueta</p><code>the</code>'
    assert english_left(html, ["Label the cats"]) == ["Ganancias por día: nothing to show yet."]


# Filipino is left out: its catalog keeps the English words Filipino workers use (Taglish).
@pytest.mark.parametrize("language", ["es", "pt-br", "fr", "hi"])
def test_no_page_of_any_role_shows_english_of_its_own(language: str, settings: Any, tmp_path: Any, caplog: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    pages = site_pages.page_world_build()
    stored = _stored_words()
    clients: dict[str, Client] = {}
    leaks: dict[str, list[str]] = {}
    checked = 0
    caplog.set_level(logging.WARNING, logger="core.labels")
    for visit in site_pages.visits(pages):
        if visit.role == "signing_in" or visit.route in STARTED_ELSEWHERE:
            continue
        if visit.role not in clients:
            clients[visit.role] = Client()
            person = pages.people.get(visit.role)
            if person is not None:
                clients[visit.role].force_login(person)
        response = clients[visit.role].get(visit.url, HTTP_ACCEPT_LANGUAGE=language)
        if not response.get("Content-Type", "").startswith("text/html") or response.status_code != 200:
            continue
        html = response.content.decode()
        if f'<html lang="{language}"' not in html:  # the task frame: the requester's own page, in their language
            continue
        checked += 1
        if found := english_left(html, stored, language):
            leaks[f"{visit.url} as {visit.role}"] = found[:5]
    assert checked > 300
    # Every stored name a page showed had a label (a missing one reads as English words).
    assert sorted({record.getMessage() for record in caplog.records if record.name == "core.labels"}) == []
    assert leaks == {}, "\n".join(f"{where}: {found}" for where, found in sorted(leaks.items()))
