"""The person's language: their saved choice, then the switch's cookie, then the browser;
numbers, money and times written their way, in their time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts.models import User
from frontend.templatetags.frontend import deadline, money, percent, when
from notifications.models import NotificationSettings
from notifications.services import notification_settings_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _lang(html: str) -> str:
    start = html.index('<html lang="') + len('<html lang="')
    return html[start : html.index('"', start)]


def test_the_browser_language_is_used_for_a_visitor(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="es-VE,es;q=0.9")
    assert _lang(page.content.decode()) == "es"
    assert page["Content-Language"] == "es"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()) == "pt-br"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="fil-PH").content.decode()) == "fil"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()) == "en"


def test_every_page_carries_the_language_switch_and_the_glossary_link(client: Client) -> None:
    html = client.get("/rules/").content.decode()
    assert 'id="language-switch"' in html and 'action="/language/"' in html
    for code in ("en", "de", "es", "pt-br", "fr", "hi", "fil"):
        assert f'<option value="{code}"' in html
    assert 'href="/glossary/"' in html
    assert client.get("/glossary/").status_code == 200


def test_the_switch_sets_the_cookie_for_a_visitor_and_saves_the_choice_of_a_signed_in_person(client: Client) -> None:
    response = client.post("/language/", {"language": "hi", "next": "/rules/"})
    assert response.status_code == 302 and response["Location"] == "/rules/"
    assert _lang(client.get("/rules/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()) == "hi"

    person = UserFactory()
    client.force_login(person)
    client.post("/language/", {"language": "fil", "next": "/"})
    assert NotificationSettings.objects.get(user=person).language == "fil"
    # On another device (no cookie) with a French browser, the saved choice still wins.
    other = Client()
    other.force_login(person)
    assert _lang(other.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()) == "fil"


def test_an_unknown_language_changes_nothing(client: Client) -> None:
    person: User = UserFactory()
    notification_settings_set(user=person, language="es", time_zone="America/Caracas")
    client.force_login(person)
    client.post("/language/", {"language": "xx", "next": "/"})
    assert NotificationSettings.objects.get(user=person).language == "es"


def test_money_and_percentages_are_written_the_readers_way() -> None:
    with translation.override("en"):
        assert money(125050, "EUR") == "1250.50 EUR"
        assert percent(9250) == "92.5%"
    with translation.override("fr"):
        assert money(125050, "EUR") == "1250,50\u00a0€"
        assert percent(9250) == "92,5%"
    with translation.override("pt-br"):
        assert money(1250, "eur") == "€\u00a012,50"
    with translation.override("hi"):
        assert money(1250, "EUR") == "€12.50"
    with translation.override("es"):
        assert money(None) == "-"
        assert percent(10000) == "100%"


def test_a_time_is_shown_in_the_readers_zone_with_the_zone_named() -> None:
    moment = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    with translation.override("en"), timezone.override("Asia/Kolkata"):
        shown = str(when(moment))
        assert "5:30 p.m. IST" in shown and 'datetime="2026-12-06T12:00:00+00:00"' in shown
    with translation.override("en"), timezone.override("America/Caracas"):
        assert "8 a.m. UTC-04" in str(when(moment))
    with translation.override("de"), timezone.override("Europe/Berlin"):
        assert "6. Dezember 2026 13:00 CET" in str(when(moment))


def test_a_deadline_also_says_how_far_away_it_is() -> None:
    with translation.override("en"), timezone.override("UTC"):
        assert str(deadline(timezone.now() + timedelta(days=2, minutes=5))).endswith("(in 2 days)")
        assert str(deadline(timezone.now() + timedelta(hours=5, minutes=1))).endswith("(in 5 hours)")
        assert str(deadline(timezone.now() - timedelta(minutes=30, seconds=5))).endswith("(30 minutes ago)")


def test_a_signed_in_persons_time_zone_is_used_on_their_pages(client: Client) -> None:
    person: User = UserFactory()
    notification_settings_set(user=person, language="en", time_zone="Asia/Tokyo")
    client.force_login(person)
    html = client.get("/inbox/settings/").content.decode()
    assert '<option value="Asia/Tokyo" selected>' in html


def test_each_roles_main_page_reads_in_the_chosen_language(client: Client, organisation, requester, worker) -> None:
    from accounts import services as account_services
    from tests.factories import MemberFactory

    member = MemberFactory()
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    main_pages = {
        worker: "/work/",
        requester: f"/org/{organisation.slug}/",
        member: "/coop/proposals/",
        treasurer: "/treasury/",
    }
    words = {
        "es": ("Buscar trabajo", "Cerrar sesión", "Idioma"),
        "hi": ("काम खोजें", "साइन आउट", "भाषा"),
        "pt-br": ("Encontrar trabalho", "Sair", "Idioma"),
        "fr": ("Trouver du travail", "Se déconnecter", "Langue"),
        "fil": ("Maghanap ng trabaho", "Mag-sign out", "Wika"),
    }
    for person, url in main_pages.items():
        client.force_login(person)
        for language, expected in words.items():
            html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            assert _lang(html) == language, (url, language)
            for word in expected:
                assert word in html, (url, language, word)
            assert ">Find work<" not in html and ">Sign out<" not in html


def test_every_governed_rule_has_a_translated_name_and_description() -> None:
    """A rule added by a migration without an entry in ``core.labels.RULE_TEXTS`` would be
    shown in English on the rules page whatever the reader's language."""
    from core.labels import RULE_TEXTS, rule_description, rule_name
    from governance.models import Rule

    keys = set(Rule.objects.values_list("key", flat=True))
    assert keys, "the founding migrations load the rules"
    assert sorted(keys - set(RULE_TEXTS)) == [], "add these rules' texts to core.labels.RULE_TEXTS"
    rule = Rule.objects.get(key="dividend_reserve_bps")
    with translation.override("es"):
        assert rule_name(rule) != rule.name and rule_description(rule) != rule.description
