"""Registration, sign-in and password reset through the server-rendered pages."""

import re

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_register_page_creates_and_signs_in(client: Client) -> None:
    page = client.get("/accounts/register/")
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(
        "/accounts/register/", {"username": "kiran", "email": "kiran@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    home = client.get("/")
    assert b"kiran" in home.content
    assert User.objects.get(username="kiran").check_password(PASSWORD)


def test_register_page_shows_errors_next_to_fields_and_saves_nothing(client: Client) -> None:
    response = client.post("/accounts/register/", {"username": "kiran", "email": "nope", "password": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert User.objects.count() == 0


def test_login_and_logout(client: Client, worker: User) -> None:
    response = client.post("/accounts/login/", {"username": worker.username, "password": PASSWORD})
    assert response.status_code == 302
    assert worker.username.encode() in client.get("/").content
    client.post("/accounts/logout/")
    assert b"Sign in" in client.get("/").content


def test_password_reset_by_email(client: Client, worker: User, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    client.post("/accounts/password-reset/", {"email": worker.email})
    assert len(mailoutbox) == 1
    link = re.search(r"(/accounts/reset/[^\s]+/)", mailoutbox[0].body)
    assert link
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    new_password = "a brand new long passphrase"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password(new_password)


def test_the_reset_email_is_the_sites_own_in_the_account_holders_language(  # type: ignore[no-untyped-def]
    client: Client, worker: User, mailoutbox
) -> None:
    """Django's own reset e-mail was English in Filipino and half English in Hindi; ours is in
    the language the account holder saved, whatever the asking browser speaks."""
    from notifications.services import notification_settings_set

    notification_settings_set(user=worker, language="fil", time_zone="Asia/Manila")
    client.post("/accounts/password-reset/", {"email": worker.email}, HTTP_ACCEPT_LANGUAGE="de")
    (mail,) = mailoutbox
    assert mail.subject.startswith("Pumili ng bagong password para sa ")
    assert f"“{worker.username}”" in mail.body and "/accounts/reset/" in mail.body
    assert "You're receiving" not in mail.body and "password" in mail.body
    # Nobody saved a language: the asking page's.
    other = UserFactory(email="ana@example.org")
    client.post("/accounts/password-reset/", {"email": other.email}, HTTP_ACCEPT_LANGUAGE="es")
    assert mailoutbox[1].subject.startswith("Elige una contraseña nueva para ")


def test_health_reports_ok(client: Client) -> None:
    assert client.get("/health/").json()["status"] == "ok"


def test_sign_in_is_rate_limited_per_address(client: Client, worker: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEB_CREDENTIALS_RATE = "3/m"
    for _ in range(3):
        assert client.post("/accounts/login/", {"username": worker.username, "password": "wrong"}).status_code == 200
    refused = client.post("/accounts/login/", {"username": worker.username, "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session


def test_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
