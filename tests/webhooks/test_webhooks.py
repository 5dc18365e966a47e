"""Requesters' webhooks: registration (API and page), refusals of unsafe URLs, signed
deliveries from the event outbox to the right organisation only, retries, the log."""

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.keys import decrypt_secret
from accounts.models import Organisation, User
from core.delivery import MAX_ATTEMPTS, signature_header, signature_valid
from core.models import AuditEvent
from tasks import services as task_services
from tests.factories import OrganisationFactory, UserFactory
from tests.mturk.receiver import Receiver
from tests.tasks.factories import published_batch
from webhooks import jobs, services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def owner(organisation: Organisation) -> User:
    return organisation.staff.get(role="owner").user


@pytest.fixture
def api(owner: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner)
    return client


def registered(organisation: Organisation, owner: User, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    return services.webhook_endpoint_create(organisation=organisation, actor=owner, url=url, events=events)


def submit(organisation: Organisation) -> int:
    batch = published_batch(organisation)
    worker = UserFactory()
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    task_services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})
    return slot.pk


def test_an_endpoint_is_registered_through_the_api_with_a_secret_shown_once(api, organisation) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/organisations/{organisation.slug}/webhooks/"
    response = api.post(
        url, {"url": "https://hooks.example.org/coop", "events": ["submitted", "decided"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert (body["id"], body["url"], body["events"]) == (
        endpoint.pk,
        "https://hooks.example.org/coop",
        ["submitted", "decided"],
    )
    assert decrypt_secret(endpoint.secret_encrypted) == body["secret"]
    listed = api.get(url).json()
    assert [item["id"] for item in listed] == [endpoint.pk]
    assert "secret" not in listed[0]


@pytest.mark.parametrize(
    ("target", "events", "field"),
    [
        ("http://hooks.example.org/coop", ["submitted"], "url"),
        ("https://10.0.0.7/coop", ["submitted"], "url"),
        ("https://192.168.1.1/coop", ["submitted"], "url"),
        ("https://169.254.169.254/latest", ["submitted"], "url"),
        ("ftp://hooks.example.org/coop", ["submitted"], "url"),
        ("https://hooks.example.org/coop", ["submitted", "paid"], "events"),
        ("https://hooks.example.org/coop", [], "events"),
    ],
)
def test_unsafe_urls_and_unknown_events_are_refused_and_nothing_is_written(
    api, organisation, target, events, field
) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        f"/api/organisations/{organisation.slug}/webhooks/", {"url": target, "events": events}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="webhook.registered").exists()


def test_a_loopback_url_is_refused_in_production(api, organisation, settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    response = api.post(
        f"/api/organisations/{organisation.slug}/webhooks/",
        {"url": "https://127.0.0.1/coop", "events": ["submitted"]},
        format="json",
    )
    assert response.status_code == 400
    assert "loopback" in response.json()["error"]["fields"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_another_organisation_cannot_see_or_remove_an_endpoint(organisation, owner) -> None:  # type: ignore[no-untyped-def]
    endpoint, _created = registered(organisation, owner, "https://hooks.example.org/a", ["submitted"])
    stranger = OrganisationFactory()
    client = APIClient()
    client.force_authenticate(stranger.staff.get(role="owner").user)
    assert client.get(f"/api/organisations/{organisation.slug}/webhooks/").status_code == 404
    assert client.delete(f"/api/organisations/{stranger.slug}/webhooks/{endpoint.pk}/").status_code == 404
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).active


def test_events_are_delivered_signed_to_the_organisation_that_chose_them(  # type: ignore[no-untyped-def]
    organisation, owner, receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, secret = registered(organisation, owner, receiver.url, ["submitted"])
    other = OrganisationFactory()
    registered(other, other.staff.get(role="owner").user, receiver.url + "/other", ["submitted"])
    slot_id = submit(organisation)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.collect.delay().get() == 1
    assert len(receiver.received) == 1
    received = receiver.received[0]
    assert received.path == "/hook"
    assert signature_valid(secret, received.body, received.headers["X-Coop-Signature"])
    assert not signature_valid("another secret", received.body, received.headers["X-Coop-Signature"])
    assert (received.headers["X-Coop-Event"], received.headers["X-Coop-Webhook-Id"]) == ("submitted", str(endpoint.pk))
    body = json.loads(received.body)
    assert (body["type"], body["organisation"], body["data"]["assignment_id"]) == (
        "submitted",
        organisation.slug,
        slot_id,
    )
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
    # Read once: running again delivers nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.collect.delay().get() == 0
    assert len(receiver.received) == 1


def test_an_old_signature_is_refused_by_the_receiver_check() -> None:
    body = b'{"type":"submitted"}'
    stale = int((timezone.now() - timedelta(minutes=10)).timestamp())
    assert not signature_valid("s", body, signature_header("s", body, stale))


def test_a_failed_delivery_is_retried_with_growing_delays_then_given_up(  # type: ignore[no-untyped-def]
    organisation, owner, receiver, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    url = receiver.url
    receiver.stop()
    registered(organisation, owner, url, ["submitted"])
    submit(organisation)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.collect.delay().get()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_wait <= timedelta(seconds=60)
    # Not yet due: the next run leaves it alone.
    jobs.collect.delay().get()
    assert WebhookDelivery.objects.get().attempts == 1
    for attempt in range(2, MAX_ATTEMPTS + 1):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        jobs.collect.delay().get()
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
    assert delivery.status == WebhookDelivery.Status.FAILED


def test_a_delivery_that_fails_once_arrives_on_the_retry(  # type: ignore[no-untyped-def]
    organisation, owner, receiver, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from core import delivery as signed

    registered(organisation, owner, receiver.url, ["submitted"])
    submit(organisation)
    real = signed.post_signed
    calls = []

    def flaky(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return "HTTP 503" if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(signed, "post_signed", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.collect.delay().get()
    assert WebhookDelivery.objects.get().last_error == "HTTP 503"
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    jobs.collect.delay().get()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
    assert len(receiver.received) == 1


def test_the_page_registers_an_endpoint_and_shows_the_log(
    organisation, owner, receiver, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    page = f"/org/{organisation.slug}/webhooks/"
    refused = client.post(page, {"url": "http://hooks.example.org/x", "events": ["submitted"]})
    assert refused.status_code == 200
    assert "https://" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()
    created = client.post(page, {"url": receiver.url, "events": ["submitted"]})
    assert "shown only this once" in created.content.decode()
    submit(organisation)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.collect.delay().get()
    shown = client.get(page).content.decode()
    assert receiver.url in shown and "Delivered" in shown  # the state by its label (i18n)
    endpoint = WebhookEndpoint.objects.get()
    client.post(f"/org/{organisation.slug}/webhooks/{endpoint.pk}/remove/")
    assert not WebhookEndpoint.objects.get().active


def test_a_team_member_without_review_may_see_but_not_register_or_remove_endpoints(
    organisation, owner, receiver
) -> None:  # type: ignore[no-untyped-def]
    """The pages ask the same capability as the API (``review``): a finance member once
    registered and removed endpoints through them (issue 18's permission audit)."""
    from accounts import services as account_services
    from accounts.models import OrganisationStaff

    endpoint, _created = registered(organisation, owner, receiver.url, ["submitted"])
    finance = UserFactory()
    account_services.organisation_staff_add(
        organisation=organisation, user=finance, role=OrganisationStaff.Role.FINANCE, actor=owner
    )
    client = Client()
    client.force_login(finance)
    page = f"/org/{organisation.slug}/webhooks/"
    assert client.get(page).status_code == 200
    refused = client.post(page, {"url": receiver.url, "events": ["submitted"]})
    assert refused.status_code == 403
    removal = client.post(f"/org/{organisation.slug}/webhooks/{endpoint.pk}/remove/")
    assert removal.status_code == 403
    assert list(WebhookEndpoint.objects.values_list("pk", "active")) == [(endpoint.pk, True)]
    assert not AuditEvent.objects.filter(action__startswith="webhook.", actor=finance).exists()
