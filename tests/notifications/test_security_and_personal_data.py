"""Issue 19: account-security notices and team invitations go through the one notification
service (inbox + e-mail at once, never unsubscribable, not even into a digest), and the
notification service's data is in the personal-data download and gone after erasure."""

import io
import json
import zipfile
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from accounts.security_notices import security_notice_send
from core.errors import AppError
from notifications import services
from notifications.categories import CATEGORIES
from notifications.models import (
    EmailSuppression,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushSubscription,
)
from tasks.models import SavedSearch
from tasks.searches import saved_search_create
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_a_security_notice_is_an_inbox_entry_and_an_immediate_mail_without_unsubscribe(
    django_capture_on_commit_callbacks: Any,
) -> None:
    person: User = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        security_notice_send(user=person, category="two_factor_disabled", params={}, url="/account/security/")
    entry = Notification.objects.get(user=person)
    assert (entry.category, entry.url, entry.email) == ("two_factor_disabled", "/account/security/", "sent")
    assert [m.to for m in mail.outbox] == [[person.email]]
    assert mail.outbox[0].subject == "Two-factor authentication is off"
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers
    assert "cannot be turned off" in mail.outbox[0].body


def test_security_notices_ignore_a_digest_choice_and_cannot_be_changed(django_capture_on_commit_callbacks: Any) -> None:
    person: User = UserFactory()
    # A choice stored before the category became a security notice (or written directly)
    # does not delay the mail into a digest.
    NotificationPreference.objects.create(user=person, category="signin_locked", email="digest")
    with django_capture_on_commit_callbacks(execute=True):
        security_notice_send(
            user=person, category="signin_locked", params={"username": person.username, "failures": 10, "minutes": 15}
        )
    assert Notification.objects.get(user=person).email == "sent"
    assert len(mail.outbox) == 1 and "10 times" in mail.outbox[0].body
    for mode in ("digest", "off"):
        with pytest.raises(AppError) as refused:
            services.preference_set(user=person, category="signin_locked", email=mode)
        assert refused.value.code == "cannot_unsubscribe"
    assert NotificationPreference.objects.get(user=person, category="signin_locked").email == "digest"
    security = {key for key, spec in CATEGORIES.items() if spec.always_email}
    assert {"signin_locked", "payout_destination_changed", "two_factor_enabled", "passkey_added"} <= security
    assert not any(CATEGORIES[key].opt_out for key in security)


def test_security_notices_are_not_offered_on_the_settings_page(client: Any) -> None:
    person: User = UserFactory()
    client.force_login(person)
    page = client.get("/inbox/settings/").content.decode()
    assert 'name="email_rejection"' in page
    assert 'name="email_signin_locked"' not in page and 'name="email_team_invitation"' not in page


def test_a_notice_in_a_rolled_back_transaction_tells_nobody(django_capture_on_commit_callbacks: Any) -> None:
    from django.db import transaction

    person: User = UserFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        security_notice_send(user=person, category="two_factor_disabled", params={})
        raise RuntimeError("the change failed")
    assert not Notification.objects.exists() and mail.outbox == []


def _zip(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json")}


def _notification_data(person: User) -> None:
    services.notify(users=[person], category="juror_replaced", params={"case": 7}, url="/cases/7/")
    services.preference_set(user=person, category="rejection", email="digest")
    services.notification_settings_set(user=person, language="de", time_zone="Europe/Berlin")
    services.push_subscription_save(
        user=person, endpoint="https://push.example.org/send/abc", p256dh="BPublicKey", auth="secret"
    )
    saved_search_create(worker=person, name="long surveys", keywords="survey", min_hourly_pay=1_500)


def test_the_download_holds_the_inbox_settings_push_and_saved_searches(api: APIClient) -> None:
    person: User = UserFactory()
    _notification_data(person)
    api.force_authenticate(person)
    files = _zip(api.get("/api/me/data/").content)
    data = files["notifications.json"]
    assert [(row["category"], row["params"], row["url"]) for row in data["inbox"]] == [
        ("juror_replaced", {"case": 7}, "/cases/7/")
    ]
    assert data["email_preferences"] == [{"category": "rejection", "email": "digest"}]
    assert data["settings"] == {"language": "de", "time_zone": "Europe/Berlin", "mail_problem": ""}
    assert [row["endpoint"] for row in data["push_subscriptions"]] == ["https://push.example.org/send/abc"]
    assert "auth" not in data["push_subscriptions"][0]  # the browser's secret is not handed out
    searches = files["work.json"]["saved_searches"]
    assert [(row["name"], row["keywords"], row["min_hourly_pay"]) for row in searches] == [
        ("long surveys", "survey", 1_500)
    ]


def test_erasure_removes_the_notification_data_and_scrubs_mentions_elsewhere(api: APIClient) -> None:
    person: User = UserFactory()
    _notification_data(person)
    EmailSuppression.objects.create(address=person.email.lower(), reason="bounced")
    colleague: User = UserFactory()
    services.notify(
        users=[colleague],
        category="team_invitation",
        params={"inviter": person.username, "organisation": "Acme", "role": "reviewer", "days": 7, "link": "x"},
    )
    unrelated = services.notify(users=[colleague], category="juror_replaced", params={"case": 9})
    assert unrelated == 1
    old_username = person.username
    api.force_authenticate(person)
    erased = api.post("/api/me/erasure/", {"password": PASSWORD}, format="json")
    assert erased.status_code == 200, erased.content
    person.refresh_from_db()
    assert not Notification.objects.filter(user=person).exists()
    assert not NotificationPreference.objects.filter(user=person).exists()
    assert not NotificationSettings.objects.filter(user=person).exists()
    assert not PushSubscription.objects.filter(user=person).exists()
    assert not SavedSearch.objects.filter(worker=person).exists()
    assert not EmailSuppression.objects.exists()
    invitation = Notification.objects.get(user=colleague, category="team_invitation")
    assert invitation.params["inviter"] == person.username.lower() == f"erased-{person.pseudonym.lower()}"
    assert old_username not in json.dumps(list(Notification.objects.values_list("params", flat=True)))
    assert Notification.objects.get(user=colleague, category="juror_replaced").params == {"case": 9}
