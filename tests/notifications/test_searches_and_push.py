"""Saved searches alert on publication (inbox, e-mail, Web Push) only the workers who may
take the batch; Web Push payloads are encrypted for the browser's key (no network)."""

import base64
import json
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from rest_framework.test import APIClient

from core.errors import AppError
from notifications.models import Notification, PushSubscription
from tasks import searches
from tasks import services as task_services
from tasks.models import SavedSearch
from tests.factories import OrganisationFactory, UserFactory
from tests.ledger.factories import fund
from tests.tasks.factories import make_batch, slot_cost

pytestmark = pytest.mark.django_db


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def publish(organisation, django_capture_on_commit_callbacks, **overrides):
    batch = make_batch(organisation, **overrides)
    fund(organisation, batch.tasks.count() * batch.assignments_per_task * slot_cost(batch))
    owner = organisation.staff.get(role="owner").user
    with django_capture_on_commit_callbacks(execute=True):
        return task_services.batch_publish(batch=batch, actor=owner)


def test_matching_searches_alert_by_the_chosen_channel_and_others_stay_quiet(
    django_capture_on_commit_callbacks,
) -> None:
    organisation = OrganisationFactory()
    inbox_only, by_mail, too_greedy, wrong_words, blocked = (UserFactory() for _ in range(5))
    searches.saved_search_create(worker=inbox_only, name="Animals", keywords="ANIMAL picture")
    searches.saved_search_create(worker=by_mail, name="Quick", max_minutes=5, alert="email")
    searches.saved_search_create(worker=too_greedy, name="Rich", min_hourly_pay=5000)
    searches.saved_search_create(worker=wrong_words, name="Audio", keywords="transcribe")
    searches.saved_search_create(worker=blocked, name="All")
    task_services.worker_block(
        organisation=organisation, actor=organisation.staff.get().user, worker=blocked, reason="Spam answers."
    )

    batch = publish(organisation, django_capture_on_commit_callbacks)

    told = dict(Notification.objects.filter(category="saved_search_match").values_list("user_id", "email"))
    assert told == {inbox_only.pk: "none", by_mail.pk: "sent"}
    entry = Notification.objects.get(user=inbox_only)
    assert entry.params["search"] == "Animals" and entry.url == f"/work/batches/{batch.pk}/"
    assert entry.params["hourly"] == "15.00 EUR"
    assert [m.to for m in mail.outbox] == [[by_mail.email]]
    assert mail.outbox[0].subject == "New work for your search “Quick”"

    # The job again (a retry) tells nobody twice.
    assert searches.saved_search_alerts(batch_id=batch.pk) == 0


def test_a_bad_search_is_refused_and_nothing_is_saved() -> None:
    worker = UserFactory()
    with pytest.raises(AppError) as raised:
        searches.saved_search_create(worker=worker, name="", alert="carrier-pigeon", requester="nobody")
    assert raised.value.code == "invalid"
    assert set(raised.value.fields) == {"name", "alert", "requester"}
    assert not SavedSearch.objects.exists()


def test_saved_searches_through_the_api(api) -> None:
    organisation = OrganisationFactory()
    worker = UserFactory()
    api.force_authenticate(worker)
    created = api.post(
        "/api/saved-searches/",
        {"name": "Lab only", "requester": organisation.slug, "min_hourly_pay": 1200, "alert": "push"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["requester"] == organisation.slug
    assert [s["name"] for s in api.get("/api/saved-searches/").json()] == ["Lab only"]
    unknown = api.post("/api/saved-searches/", {"name": "x", "colour": "red"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["error"]["fields"] == {"colour": ["Unknown field."]}
    other = UserFactory()
    api.force_authenticate(other)
    assert api.delete(f"/api/saved-searches/{created.json()['id']}/").status_code == 404
    assert SavedSearch.objects.count() == 1


@pytest.fixture
def vapid(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    settings.VAPID_PRIVATE_KEY = b64(raw)
    settings.VAPID_PUBLIC_KEY = b64(public)
    settings.VAPID_SUBJECT = "mailto:ops@coop.example.org"
    return key


class RecordingSession:
    """Stands in for requests.Session: records the push service post instead of sending it."""

    def __init__(self) -> None:
        self.posts: list[dict] = []

    def post(self, url, data=None, headers=None, timeout=None, **kwargs):
        self.posts.append({"url": url, "data": data, "headers": headers})

        class Response:
            status_code = 201
            text = ""
            headers: dict = {}

        return Response()


def test_web_push_payload_is_encrypted_for_the_browser_key(vapid, monkeypatch, django_capture_on_commit_callbacks):
    browser_key = ec.generate_private_key(ec.SECP256R1())
    browser_public = browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth_secret = os.urandom(16)
    worker = UserFactory()
    client_api = APIClient()
    client_api.force_authenticate(worker)
    saved = client_api.post(
        "/api/notifications/push-subscription/",
        {
            "endpoint": "https://push.example.net/send/abc123",
            "keys": {"p256dh": b64(browser_public), "auth": b64(auth_secret)},
            "expirationTime": None,
        },
        format="json",
    )
    assert saved.status_code == 201
    searches.saved_search_create(worker=worker, name="Everything", alert="push")
    session = RecordingSession()
    monkeypatch.setattr("notifications.push.requests_session", lambda: session)

    batch = publish(OrganisationFactory(), django_capture_on_commit_callbacks)

    [post] = session.posts
    assert post["url"] == "https://push.example.net/send/abc123"
    assert post["headers"]["content-encoding"] == "aes128gcm"
    assert post["headers"]["Authorization"].startswith("vapid t=")
    assert b"Everything" not in post["data"]  # the body is ciphertext
    plain = http_ece.decrypt(post["data"], private_key=browser_key, auth_secret=auth_secret, version="aes128gcm")
    payload = json.loads(plain)
    assert payload["title"] == "New work for your search “Everything”"
    assert payload["url"].endswith(f"/inbox/{Notification.objects.get(user=worker).pk}/")
    assert batch.title in payload["body"]


def test_a_gone_subscription_is_deleted(vapid, monkeypatch) -> None:
    worker = UserFactory()
    subscription = PushSubscription.objects.create(
        user=worker,
        endpoint="https://push.example.net/gone",
        p256dh=b64(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        ),
        auth=b64(os.urandom(16)),
    )

    class GoneSession(RecordingSession):
        def post(self, url, data=None, headers=None, timeout=None, **kwargs):
            class Response:
                status_code = 410
                text = "gone"
                reason = "Gone"
                headers: dict = {}

            return Response()

    monkeypatch.setattr("notifications.push.requests_session", lambda: GoneSession())
    from notifications.push import push_send

    assert push_send(subscription=subscription, payload={"title": "x"}) is False
    assert not PushSubscription.objects.exists()


def test_saved_search_page_saves_the_feed_filters_and_refuses_bad_ones(client) -> None:
    worker = UserFactory()
    client.force_login(worker)
    page = client.get("/work/searches/?min_hourly_pay=15.00&max_minutes=10").content.decode()
    assert 'value="15.00"' in page and 'value="10"' in page
    saved = client.post(
        "/work/searches/", {"name": "Quick", "min_hourly_pay": "15.00", "max_minutes": "10", "alert": "email"}
    )
    assert saved.status_code == 302
    search = SavedSearch.objects.get()
    assert (search.min_hourly_pay, search.max_minutes, search.alert) == (1500, 10, "email")
    refused = client.post("/work/searches/", {"name": "Quick", "alert": "inbox"})
    assert refused.status_code == 400 and "already have a search with this name" in refused.content.decode()
    assert SavedSearch.objects.count() == 1
    client.post(f"/work/searches/{search.pk}/delete/")
    assert not SavedSearch.objects.exists()


def test_settings_page_sets_language_and_mail_per_event(client) -> None:
    from notifications.models import NotificationPreference, NotificationSettings

    worker = UserFactory()
    client.force_login(worker)
    assert client.get("/inbox/settings/").status_code == 200
    response = client.post(
        "/inbox/settings/", {"language": "es", "time_zone": "America/Lima", "email_payout_paid": "off"}
    )
    assert response.status_code == 302
    assert NotificationSettings.objects.values_list("language", "time_zone").get() == ("es", "America/Lima")
    assert NotificationPreference.objects.values_list("category", "email").get() == ("payout_paid", "off")
