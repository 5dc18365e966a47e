"""Issue 19, point 11: sign-in is throttled per account as well as per address, with a
notice to the account's owner and the same answers for unknown names."""

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _three_failures_lock(settings: Any) -> None:
    settings.SIGNIN_ACCOUNT_FAILURES = 3
    settings.SIGNIN_LOCKOUT_SECONDS = 900


def _web(username: str, password: str, address: str) -> Any:
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def test_web_sign_in_locks_the_account_whatever_the_addresses(django_capture_on_commit_callbacks: Any) -> None:
    person: User = UserFactory()
    last_login = person.last_login
    with django_capture_on_commit_callbacks(execute=True):
        answers = [_web(person.username, "wrong guess", f"10.0.0.{n}") for n in range(1, 4)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    # Locked: even the right password, from yet another address, is refused and signs nobody in.
    right = _web(person.username, PASSWORD, "10.9.9.9")
    assert right.status_code == 429
    assert "Too many failed sign-in attempts for this account" in right.content.decode()
    assert "_auth_user_id" not in right.wsgi_request.session
    person.refresh_from_db()
    assert person.last_login == last_login
    # The owner is told once, at their own address.
    assert [message.to for message in mail.outbox] == [[person.email]]
    assert "locked" in mail.outbox[0].subject
    # Another account is not affected.
    other: User = UserFactory()
    assert _web(other.username, PASSWORD, "10.0.0.1").status_code == 302


def test_an_unknown_name_gets_the_same_answers_and_no_mail(django_capture_on_commit_callbacks: Any) -> None:
    person: User = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        real = [_web(person.username, "wrong", f"10.1.0.{n}") for n in range(1, 5)]
    assert len(mail.outbox) == 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        unknown = [_web("nobody-by-this-name", "wrong", f"10.2.0.{n}") for n in range(1, 5)]
    assert [a.status_code for a in unknown] == [a.status_code for a in real] == [200, 200, 429, 429]

    def errors(response: Any) -> list[str]:
        return [str(error) for error in response.context["form"].non_field_errors()]

    assert [errors(a) for a in unknown] == [errors(a) for a in real]
    assert mail.outbox == []


def test_the_token_endpoint_is_throttled_per_account(django_capture_on_commit_callbacks: Any) -> None:
    person: User = UserFactory()
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(1, 4):
            client = APIClient(REMOTE_ADDR=f"10.3.0.{n}")
            answers.append(client.post("/api/auth/token/", {"username": person.username, "password": "x"}))
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[-1].json()["error"]["code"] == "account_locked"
    right = APIClient(REMOTE_ADDR="10.3.9.9").post(
        "/api/auth/token/", {"username": person.username, "password": PASSWORD}
    )
    assert right.status_code == 429
    assert not Token.objects.filter(user=person).exists()
    assert [message.to for message in mail.outbox] == [[person.email]]
    # Unknown names: the same codes.
    unknown = [
        APIClient(REMOTE_ADDR=f"10.4.0.{n}").post("/api/auth/token/", {"username": "ghost", "password": "x"})
        for n in range(1, 5)
    ]
    assert [a.status_code for a in unknown] == [400, 400, 429, 429]
    assert {a.json()["error"]["code"] for a in unknown[2:]} == {"account_locked"}


def test_a_success_forgets_earlier_failures() -> None:
    person: User = UserFactory()
    for _ in range(2):
        _web(person.username, "wrong", "10.5.0.1")
    assert _web(person.username, PASSWORD, "10.5.0.1").status_code == 302
    for _ in range(2):
        assert _web(person.username, "wrong", "10.5.0.1").status_code == 200
    assert _web(person.username, PASSWORD, "10.5.0.1").status_code == 302
