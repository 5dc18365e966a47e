"""The site's own error pages (issue 25.1 and 25.6): a missing page, a form that expired, a
request Django could not read and a server error are shown in the site's layout and the
reader's language, with what to do next; the API keeps its JSON errors."""

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import translation

from core.handlers import server_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_missing_page_says_so_in_the_readers_language_with_the_menu(client: Client) -> None:
    client.force_login(UserFactory())
    page = client.get("/work/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 404
    text = page.content.decode()
    assert '<html lang="es"' in text and "<h1>Esta página no existe</h1>" in text
    assert 'aria-label="Principal"' in text  # the signed-in person's menu, as on every page
    assert "Resolver404" not in text
    # The API answers in its own shape.
    assert client.get("/api/no-such-thing/").json()["error"]["code"] == "not_found"


def test_a_form_sent_without_its_token_is_refused_with_what_to_do() -> None:
    guarded = Client(enforce_csrf_checks=True)
    page = guarded.post("/accounts/login/", {"username": "someone", "password": "x"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 403
    text = page.content.decode()
    assert '<html lang="fr"' in text and "<h1>Ce formulaire a expiré</h1>" in text
    assert "rechargez la page" in text
    assert "CSRF" not in text


def test_a_request_with_too_many_fields_is_refused_in_plain_words(client: Client) -> None:
    fields = {f"field{number}": "x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    page = client.post("/accounts/login/", fields)
    assert page.status_code == 400
    assert "<h1>We could not read that request</h1>" in page.content.decode()


def test_the_server_error_page_needs_neither_the_person_nor_the_database() -> None:
    request = RequestFactory().get("/work/")
    with translation.override("hi"):
        page = server_error(request)
    text = page.content.decode()
    assert page.status_code == 500
    assert '<html lang="hi"' in text and "<h1>हमारी ओर से कुछ गड़बड़ हो गई</h1>" in text
    assert 'href="/"' in text
    # Under /api/ the same handler answers in the API's shape.
    assert server_error(RequestFactory().get("/api/batches/")).status_code == 500
