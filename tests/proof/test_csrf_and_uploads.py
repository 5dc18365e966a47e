"""Every form a page shows that posts carries a CSRF token, and a POST without one is
refused and changes nothing. Uploaded input files are checked for size and type and a
refusal says what was wrong."""

import json
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, TestCase
from rest_framework.test import APIClient

from frontend.operations import access_operation
from tasks.models import Batch
from tests.proof.routes import fill, route_list
from tests.proof.test_authorization_matrix import MATRIX, changed, digest
from tests.proof.world import ROLES, World
from tests.tasks.factories import make_batch

pytestmark = pytest.mark.django_db


class _Forms(HTMLParser):
    """The POST forms of a page, each with the names of its inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "get").lower() == "post":
            self.forms.append((values.get("action") or "", []))
            self._open = True
        elif tag == "input" and self._open:
            self.forms[-1][1].append(values.get("name") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def _pages() -> list:
    return [route for route in route_list() if not route.pattern.startswith("api/")]


@pytest.mark.parametrize("role", ROLES)
def test_every_post_form_of_every_page_carries_a_csrf_token(role: str, world: World) -> None:
    client = Client()
    if world.people[role] is not None:
        client.force_login(world.people[role])
    missing, forms_seen = [], 0
    for route in _pages():
        if role not in MATRIX.get(route.name, {}).get("GET", frozenset()):
            continue
        response = client.get(fill(route, world))
        if "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Forms()
        parser.feed(response.content.decode())
        for action, names in parser.forms:
            forms_seen += 1
            if "csrfmiddlewaretoken" not in names:
                missing.append(f"{fill(route, world)} -> form posting to {action!r}")
    assert forms_seen > 0
    assert missing == []


# Page routes that take a POST without a CSRF token, each with why that is right.
CSRF_EXEMPT = {
    "notification_unsubscribe": "RFC 8058 one-click unsubscribe: the mail client posts without a session; "
    "the signed link is the authority and a tampered one changes nothing",
}


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    before = digest()
    refused = []
    for route in _pages():
        allowed = MATRIX.get(route.name, {}).get("POST")
        if not allowed or route.name in CSRF_EXEMPT:
            continue
        role = next(r for r in ROLES if r in allowed)
        url = fill(route, world)
        with transaction.atomic():
            client = Client(enforce_csrf_checks=True)
            if world.people[role] is not None:
                client.force_login(world.people[role])
            response = client.post(url, {})
            tables = changed(before, digest())
            transaction.set_rollback(True)
        assert (response.status_code, tables) == (403, []), f"POST {url} as {role} without a CSRF token"
        refused.append(url)
    assert len(refused) >= 30  # every form page of the platform


def _input_url(batch: Batch) -> str:
    return f"/api/batches/{batch.pk}/input/"


def _api_for(batch: Batch) -> APIClient:
    client = APIClient()
    client.force_authenticate(batch.organisation.staff.get(role="owner").user)
    return client


def test_an_oversize_input_file_is_refused_with_413_and_nothing_changes(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    batch = make_batch(world.organisation, rows=None)
    big = ("animal,image_url\n" + "cat,https://img.example/1.jpg\n" * 3000).encode()
    assert len(big) > 50_000
    before = digest()

    api = _api_for(batch).put(_input_url(batch), {"file": SimpleUploadedFile("rows.csv", big)}, format="multipart")
    page = Client()
    page.force_login(batch.organisation.staff.get(role="owner").user)
    form = page.post(
        f"/org/{batch.organisation.slug}/batches/{batch.pk}/input/", {"input_file": SimpleUploadedFile("rows.csv", big)}
    )

    for response in (api, form):
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "body_too_large"
        # The limit in the reader's units (50,000 bytes), not a raw byte count.
        assert response.json()["error"]["message"] == (
            "The request is too large: at most 48.8\xa0KB can be sent at once."
        )
    assert changed(before, digest()) == []
    assert batch.tasks.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "code", "words"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "invalid_input_file", "UTF-8"),
        # the first bytes of a real spreadsheet (a zip archive)
        (
            "sheet.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04",
            "invalid_input_file",
            "UTF-8",
        ),
        ("rows.json", b'{"animal": "cat"}', "invalid_input_file", ""),
        ("rows.json", b"[{]", "invalid_input_file", ""),
        ("notes.csv", b"just some words\nnot the columns\n", "invalid_input_file", "image_url"),
    ],
)
def test_an_input_file_of_the_wrong_type_or_shape_is_refused_clearly(
    world: World, name: str, content: bytes, code: str, words: str
) -> None:
    batch = make_batch(world.organisation, rows=None)
    before = digest()

    response = _api_for(batch).put(_input_url(batch), {"file": SimpleUploadedFile(name, content)}, format="multipart")

    assert response.status_code in (400, 422), response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert words in json.dumps(error)
    assert changed(before, digest()) == []


def test_a_binary_file_uploaded_on_the_page_is_refused_and_the_progress_page_says_why(world: World) -> None:
    batch = make_batch(world.organisation, rows=None)
    owner = batch.organisation.staff.get(role="owner").user
    page = Client()
    page.force_login(owner)
    before = batch.tasks.count()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = page.post(
            f"/org/{batch.organisation.slug}/batches/{batch.pk}/input/",
            {"input_file": SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
        )

    assert response.status_code == 302
    operation = access_operation(user=owner, operation_id=response["Location"].rstrip("/").split("/")[-1])
    assert operation["state"] == "failed"
    assert operation["errors"] or operation["message"]
    assert batch.tasks.count() == before == 0
