"""API errors come in the caller's language (issue 25.1): the language a person chose, for
their token and their session alike; the browser's (``Accept-Language``) when they chose
none, for organisation API keys and for callers not signed in."""

from django.test import Client
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import api_key_create
from core.errors import NotFound
from core.models import AuditEvent
from notifications.services import notification_settings_set, notify
from tests.factories import UserFactory

MISSING = "/api/notifications/987654/read/"


def _no_such(what: str, language: str) -> str:
    with translation.override(language):
        return NotFound(what).message


def _token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_token_caller_reads_refusals_in_the_language_they_chose(db: None) -> None:
    person = UserFactory()
    notification_settings_set(user=person, language="es", time_zone="America/Caracas")
    client = _token_client(person)
    response = client.post(MISSING, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": _no_such("notification", "es")}
    assert _no_such("notification", "es") != _no_such("notification", "en")
    # The times a program reads stay in UTC: the token brings the language, not the zone.
    notify(users=[person], category="juror_drawn", params={"case": 7, "deadline": timezone.now()})
    [entry] = client.get("/api/notifications/").json()["results"]
    assert entry["created_at"].endswith("Z")
    # A new choice counts from the next request (the cached choice is forgotten).
    notification_settings_set(user=person, language="de", time_zone="Europe/Berlin")
    assert client.post(MISSING).json()["error"]["message"] == _no_such("notification", "de")


def test_a_session_caller_reads_them_in_their_choice_too(db: None) -> None:
    person = UserFactory()
    notification_settings_set(user=person, language="hi", time_zone="Asia/Kolkata")
    client = APIClient()
    client.force_login(person)
    response = client.post(MISSING, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["error"]["message"] == _no_such("notification", "hi")


def test_without_a_choice_the_browsers_language_is_used(db: None) -> None:
    person = UserFactory()
    response = _token_client(person).post(MISSING, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["error"]["message"] == _no_such("notification", "fr")
    anonymous = APIClient().get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert anonymous.status_code in (401, 403)
    with translation.override("pt-br"):
        expected = str(translation.gettext("Sign in or send an API key."))
    assert anonymous.json()["error"] == {"code": "not_authenticated", "message": expected}
    assert expected != "Sign in or send an API key."


def test_an_organisation_key_reads_refusals_in_the_callers_accept_language(
    organisation: Organisation, requester: User
) -> None:
    # The key's creator chose Spanish for themselves; the key is the organisation, not them.
    notification_settings_set(user=requester, language="es", time_zone="Europe/Madrid")
    created = api_key_create(organisation=organisation, created_by=requester)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {created.key.access_key_id}:{created.secret}")
    response = client.get("/api/batches/987654/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == _no_such("batch", "fr")
    wrong = APIClient().get(
        "/api/batches/987654/", HTTP_AUTHORIZATION=f"ApiKey {created.key.access_key_id}:nope", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert wrong.status_code in (401, 403)
    with translation.override("de"):
        expected = "{} ({})".format(
            translation.gettext("The credentials were not accepted."),
            translation.gettext("Unknown, revoked or wrong API key."),
        )
    assert wrong.json()["error"]["message"] == expected


def test_an_organisation_that_chose_a_language_has_its_keys_answered_in_it(
    organisation: Organisation, requester: User
) -> None:
    page = Client()
    page.force_login(requester)
    response = page.post(f"/org/{organisation.slug}/profile/", {"language": "hi"})
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.language == "hi"
    assert AuditEvent.objects.filter(action="organisation.language_set", target_id=str(organisation.pk)).count() == 1
    created = api_key_create(organisation=organisation, created_by=requester)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {created.key.access_key_id}:{created.secret}")
    answer = client.get("/api/batches/987654/", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.json()["error"]["message"] == _no_such("batch", "hi")
    # An unknown language is refused on the page and changes nothing.
    refused = page.post(f"/org/{organisation.slug}/profile/", {"language": "xx"})
    assert refused.status_code == 200
    organisation.refresh_from_db()
    assert organisation.language == "hi"
    # Back to the callers' own language.
    page.post(f"/org/{organisation.slug}/profile/", {"language": ""})
    answer = client.get("/api/batches/987654/", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.json()["error"]["message"] == _no_such("batch", "fr")


def test_a_language_the_site_does_not_speak_is_refused_by_name_for_people_and_organisations(db: None) -> None:
    """One check of a chosen language for a person's settings and an organisation's keys:
    the refusal lists the codes to choose from, in the caller's language, and changes nothing."""
    from accounts.services import organisation_language_set
    from core.errors import AppError
    from notifications.selectors import settings_for
    from tests.factories import OrganisationFactory

    person = UserFactory()
    notification_settings_set(user=person, language="fr", time_zone="Africa/Abidjan")
    response = _token_client(person).patch(
        "/api/notifications/settings/", {"language": "tlh"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"]["language"] == ["Choisissez l'un de : de, en, es, fil, fr, hi, pt-br."]
    assert settings_for(user=person).language == "fr"

    organisation = OrganisationFactory()
    Organisation.objects.filter(pk=organisation.pk).update(language="hi")
    try:
        with translation.override("en"):
            organisation_language_set(organisation=organisation, language="tlh", actor=person)
    except AppError as refused:
        assert (refused.code, refused.fields) == ("invalid", {"language": ["Unknown language."]})
        assert refused.message == "Choose one of: de, en, es, fil, fr, hi, pt-br."
    else:
        raise AssertionError("an unknown language was accepted")
    organisation.refresh_from_db()
    assert organisation.language == "hi"


def test_the_inbox_reads_in_the_callers_language_when_they_saved_none(db: None) -> None:
    """No saved language: the inbox is written the way the caller asks (it was English)."""
    person = UserFactory()
    notify(users=[person], category="juror_drawn", params={"case": 7, "deadline": timezone.now()})
    titles = _token_client(person).get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="es").json()["results"]
    with translation.override("es"):
        from notifications.render import words

        expected = words(category="juror_drawn", params={"case": 7, "deadline": timezone.now()}, language="es").title
    assert [row["title"] for row in titles] == [expected]
    assert expected != words(category="juror_drawn", params={"case": 7, "deadline": timezone.now()}).title
    page = Client()
    page.force_login(person)
    assert expected in page.get("/inbox/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
