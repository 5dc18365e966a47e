"""The inbox through the API and the pages: paginated, mark read (one, all), the menu's
cached unread count, links to the thing concerned, and nobody reaching another's entries."""

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from rest_framework.test import APIClient

from notifications import services
from notifications.models import Notification
from notifications.selectors import inbox_status
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

DEADLINE = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def tell(user, count: int = 1, category: str = "juror_drawn", url: str = "/cases/5/") -> None:
    for case in range(count):
        services.notify(users=[user], category=category, params={"case": case, "deadline": DEADLINE}, url=url)


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_lists_the_inbox_paginated_newest_first_in_the_readers_language() -> None:
    user, other = UserFactory(), UserFactory()
    tell(user, 3)
    tell(other, 1)
    services.notification_settings_set(user=user, language="de", time_zone="UTC")
    page = api_for(user).get("/api/notifications/?page_size=2").json()
    assert page["count"] == 3
    assert [row["title"] for row in page["results"]] == [
        "Du wurdest als Geschworene*r für Fall 2 ausgelost",
        "Du wurdest als Geschworene*r für Fall 1 ausgelost",
    ]
    assert page["results"][0]["url"] == "/cases/5/" and page["results"][0]["read_at"] is None
    assert page["next"] is not None
    assert api_for(user).get("/api/notifications/status/").json() == {"unread": 3, "mail_problem": ""}


def test_mark_one_and_all_read_through_the_api() -> None:
    user = UserFactory()
    tell(user, 3)
    first = Notification.objects.filter(user=user).order_by("id").first()
    client = api_for(user)
    assert client.post(f"/api/notifications/{first.pk}/read/").json()["read_at"] is not None
    assert client.get("/api/notifications/status/").json()["unread"] == 2
    assert client.get("/api/notifications/?unread=1").json()["count"] == 2
    client.post("/api/notifications/read-all/")
    assert client.get("/api/notifications/status/").json()["unread"] == 0


def test_another_persons_entry_is_not_found_and_stays_unread() -> None:
    owner, intruder = UserFactory(), UserFactory()
    tell(owner)
    entry = Notification.objects.get()
    response = api_for(intruder).post(f"/api/notifications/{entry.pk}/read/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    entry.refresh_from_db()
    assert entry.read_at is None
    assert api_for(intruder).get("/api/notifications/").json()["count"] == 0


def test_the_unread_count_is_one_cached_query_and_follows_changes(django_assert_num_queries) -> None:
    user = UserFactory()
    tell(user, 2)
    with django_assert_num_queries(2):  # the indexed count and the mail-problem flag
        assert inbox_status(user=user).unread == 2
    with django_assert_num_queries(0):
        assert inbox_status(user=user).unread == 2
    tell(user, 1)
    assert inbox_status(user=user).unread == 3
    services.notifications_mark_all_read(user=user)
    assert inbox_status(user=user).unread == 0


def test_the_menu_shows_the_unread_count_and_the_inbox_page_marks_read(client) -> None:
    user = UserFactory()
    tell(user, 2)
    client.force_login(user)
    page = client.get("/work/").content.decode()
    assert re.search(r'id="nav-inbox">Inbox <span class="badge" aria-label="2 unread">2</span>', page)
    inbox = client.get("/inbox/").content.decode()
    assert inbox.count('class="card unread"') == 2
    entry = Notification.objects.filter(user=user).order_by("id").first()
    client.post(f"/inbox/{entry.pk}/read/")
    assert client.get("/inbox/").content.decode().count('class="card unread"') == 1
    client.post("/inbox/read-all/")
    assert 'class="card unread"' not in client.get("/inbox/").content.decode()
    assert 'aria-label="0 unread"' not in client.get("/work/").content.decode()


def test_an_entry_link_never_leaves_the_site(client) -> None:
    user = UserFactory()
    services.notify(users=[user], category="juror_replaced", params={"case": 1}, url="//evil.example/x")
    client.force_login(user)
    entry = Notification.objects.get()
    assert client.get(f"/inbox/{entry.pk}/")["Location"] == "/inbox/"


def test_a_juror_told_only_by_email_reaches_the_case_after_signing_in(client, django_capture_on_commit_callbacks):
    from disputes import services as dispute_services
    from disputes.models import Juror
    from tests.disputes.factories import jurors, rejected_work

    jurors(4)
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    owner = case.organisation.staff.get(role="owner").user
    with django_capture_on_commit_callbacks(execute=True):
        dispute_services.case_respond(case=case, actor=owner, action="contest", text="Random answers.")
    juror = Juror.objects.filter(case=case).first().user
    [message] = [m for m in mail.outbox if m.to == [juror.email]]
    link = re.search(r"http://127\.0\.0\.1:8000(/inbox/\d+/)", message.body).group(1)

    response = client.get(link)  # not signed in: to the sign-in page, then back
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    signed_in = client.post(response["Location"], {"username": juror.username, "password": PASSWORD}, follow=True)
    assert signed_in.redirect_chain[-1][0] == f"/cases/{case.pk}/"
    assert signed_in.status_code == 200
    assert Notification.objects.get(user=juror, category="juror_drawn").read_at is not None


def test_settings_api_sets_language_zone_and_refuses_turning_off_a_case_against_you() -> None:
    user = UserFactory()
    client = api_for(user)
    body = client.patch(
        "/api/notifications/settings/",
        {"language": "fr", "time_zone": "Africa/Nairobi", "email": {"payout_paid": "off"}},
        format="json",
    ).json()
    assert (body["language"], body["time_zone"], body["email"]["payout_paid"]) == ("fr", "Africa/Nairobi", "off")
    refused = client.patch("/api/notifications/settings/", {"email": {"dispute_opened": "off"}}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "cannot_unsubscribe"
    assert client.get("/api/notifications/settings/").json()["email"]["dispute_opened"] == "immediate"
    bad = client.patch("/api/notifications/settings/", {"time_zone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["time_zone"]
