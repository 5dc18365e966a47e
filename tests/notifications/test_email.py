"""E-mail: a real SMTP server (aiosmtpd) receives the message; one-click unsubscribe round
trip; digests by the person's clock; bounces from the provider's verified webhook."""

import base64
import email
import socket
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from core.errors import AppError
from notifications import jobs, services
from notifications.models import (
    DigestSent,
    EmailSuppression,
    Notification,
    NotificationPreference,
    NotificationSettings,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEADLINE = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_an_immediate_email_goes_through_a_real_smtp_server_with_one_click_unsubscribe(
    smtp_server, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SITE_URL = "https://coop.example.org"
    juror = UserFactory(email="juror@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            users=[juror], category="juror_drawn", params={"case": 42, "deadline": DEADLINE}, url="/cases/42/"
        )

    [message] = smtp_server.messages
    entry = Notification.objects.get()
    assert message["To"] == "juror@example.org"
    assert message["Subject"] == "You were drawn as a juror for case 42"
    body = message.get_payload(decode=True).decode()
    assert f"https://coop.example.org/inbox/{entry.pk}/" in body
    assert "Dec. 8, 2026, noon UTC" in body
    unsubscribe = "".join(message["List-Unsubscribe"].split())  # unfolded
    assert unsubscribe.startswith("<https://coop.example.org/notifications/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (entry.email, entry.emailed_at is not None) == ("sent", True)


def test_a_case_against_the_person_has_no_unsubscribe_header(django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[user], category="dispute_opened", params={"batch": "Labels", "deadline": DEADLINE})
    [message] = mail.outbox
    assert "List-Unsubscribe" not in message.extra_headers
    assert "cannot be turned off" in message.body


def test_the_email_is_written_in_the_persons_language_and_time_zone(django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    services.notification_settings_set(user=user, language="de", time_zone="Europe/Berlin")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[user], category="juror_drawn", params={"case": 9, "deadline": DEADLINE})
    [message] = mail.outbox
    assert message.subject == "Du wurdest als Geschworene*r für Fall 9 ausgelost"
    assert "8. Dezember 2026 13:00 CET" in message.body


def _unsubscribe_path(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    return header.strip("<>").removeprefix("http://127.0.0.1:8000")


def test_unsubscribe_round_trip_by_one_click_post(client, django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[user], category="juror_drawn", params={"case": 1, "deadline": DEADLINE})
    path = _unsubscribe_path(mail.outbox[0])

    page = client.get(path)
    assert page.status_code == 200 and b"Stop these e-mails?" in page.content
    assert not NotificationPreference.objects.exists()  # a GET (a mail scanner) changes nothing

    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=user, category="juror_drawn").email == "off"

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[user], category="juror_drawn", params={"case": 2, "deadline": DEADLINE})
    assert mail.outbox == []
    assert Notification.objects.filter(user=user).count() == 2  # still in the inbox


def test_a_tampered_unsubscribe_link_is_refused_and_changes_nothing(client) -> None:
    user = UserFactory()
    token = services.unsubscribe_token(user_id=user.pk, category="juror_drawn")
    other = UserFactory()
    forged = services.unsubscribe_token(user_id=other.pk, category="juror_drawn")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    spliced = token.split(":")[0] + ":" + forged.split(":", 1)[1]
    for bad in (tampered, spliced, "not-a-token"):
        response = client.post(f"/notifications/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert b"not valid" in response.content
    assert not NotificationPreference.objects.exists()
    with pytest.raises(AppError) as raised:
        services.unsubscribe_apply(token=tampered)
    assert raised.value.code == "invalid_link"


def test_a_link_for_a_category_one_cannot_leave_is_refused(client) -> None:
    user = UserFactory()
    token = services.unsubscribe_token(user_id=user.pk, category="suspension")
    response = client.post(f"/notifications/unsubscribe/{token}/")
    assert response.status_code == 409
    assert not NotificationPreference.objects.exists()


def test_the_digest_goes_once_at_seven_in_the_persons_time_zone() -> None:
    tokyo = UserFactory()
    services.notification_settings_set(user=tokyo, language="en", time_zone="Asia/Tokyo")
    services.notify(users=[tokyo], category="proposal_voting", params={"proposal": "Wage 13", "deadline": DEADLINE})
    services.notify(users=[tokyo], category="payout_paid", params={"amount": "5.00 EUR", "destination": "IBAN ..42"})
    assert set(Notification.objects.values_list("email", flat=True)) == {"digest"}

    six_in_tokyo = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)  # 06:00 the next day in Tokyo
    assert jobs.digests_send(now=six_in_tokyo) == 0
    seven_in_tokyo = six_in_tokyo + timedelta(hours=1)
    assert jobs.digests_send(now=seven_in_tokyo) == 1
    assert jobs.digests_send(now=seven_in_tokyo + timedelta(minutes=30)) == 0

    [digest] = mail.outbox
    assert digest.subject == "Your daily co-op summary: 2 new"
    assert "Voting opened: Wage 13" in digest.body and "Payout paid: 5.00 EUR" in digest.body
    assert "Dec. 8, 2026, 9 p.m. JST" in digest.body
    # Each unsubscribe line names the kind of notice in words, not by its internal name.
    assert "Stop e-mail about “A payout arrived”: " in digest.body and "payout_paid”" not in digest.body
    assert DigestSent.objects.get(user=tokyo).local_date.isoformat() == "2026-12-07"
    assert set(Notification.objects.values_list("email", flat=True)) == {"sent"}


def _postmark_bounce(client, address: str, auth: str):
    payload = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "ID": 4323372036854775807,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Email": address,
        "BouncedAt": "2026-12-06T16:33:54.9070259Z",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 user unknown",
        "Inactive": True,
    }
    return client.post(
        "/webhooks/anymail/postmark/tracking/",
        data=payload,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(auth.encode()).decode(),
    )


def test_a_bounce_from_the_verified_webhook_stops_mail_and_tells_the_person(
    client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    user = UserFactory(email="gone@example.org")
    services.notify(users=[user], category="payout_paid", params={"amount": "1.00 EUR", "destination": "x"})

    refused = _postmark_bounce(client, "gone@example.org", "hook:wrong")
    assert refused.status_code in (400, 403)
    assert not EmailSuppression.objects.exists()

    assert _postmark_bounce(client, "gone@example.org", "hook:s3cret").status_code == 200
    assert EmailSuppression.objects.get().reason == "bounced"
    assert NotificationSettings.objects.get(user=user).mail_problem == "bounced"
    assert Notification.objects.get().email == "suppressed"  # the waiting digest entry

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[user], category="juror_drawn", params={"case": 3, "deadline": DEADLINE})
    assert mail.outbox == []
    assert Notification.objects.filter(category="juror_drawn").get().email == "suppressed"

    client.force_login(user)
    page = client.get("/inbox/")
    assert b"bounced, so we stopped sending e-mail there" in page.content
    client.post("/inbox/mail-problem/seen/", {"next": "/inbox/"})
    assert b"so we stopped sending e-mail there" not in client.get("/inbox/").content


def test_a_refused_message_stays_pending_and_the_retry_job_sends_it(
    settings, clock, django_capture_on_commit_callbacks
) -> None:
    user = UserFactory()
    settings.EMAIL_BACKEND = "tests.notifications.test_email.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[user], category="juror_drawn", params={"case": 4, "deadline": DEADLINE})
    assert Notification.objects.get().email == "pending"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert jobs.resend_pending() == 0  # not yet five minutes old
    clock.advance(minutes=6)
    assert jobs.resend_pending() == 1
    assert jobs.resend_pending() == 0
    assert [m.subject for m in mail.outbox] == ["You were drawn as a juror for case 4"]


class RefusingBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise ConnectionRefusedError("the mail server is down")
