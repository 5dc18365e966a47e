"""The requester's pages added by issue 24 (offline review, the submissions table, the pages
for what was API-only, receipts and statements): they render for the team, refuse outsiders,
label every control, and the table sorts and filters in the database."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Organisation, User
from tasks import services as task_services
from tests.factories import UserFactory
from tests.frontend.test_smoke_pages import _Controls
from tests.tasks.conftest import Clock
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db


def _pages(slug: str, batch_id: int) -> list[str]:
    return [
        f"/org/{slug}/batches/{batch_id}/review/file/",
        f"/org/{slug}/batches/{batch_id}/review/table/",
    ]


def test_pages_render_with_labelled_controls_and_refuse_outsiders(
    client: Client, organisation: Organisation, requester: User
) -> None:
    live = published_batch(organisation)
    client.force_login(requester)
    for url in _pages(organisation.slug, live.pk):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        parser = _Controls()
        parser.feed(response.content.decode())
        for control in parser.controls:
            assert control.get("aria-label") or control["_wrapped"] or control.get("id") in parser.labelled, (
                url,
                control,
            )
    client.force_login(UserFactory())
    for url in _pages(organisation.slug, live.pk):
        assert client.get(url).status_code == 404, url


def test_table_sorts_by_work_time_and_filters(
    client: Client, organisation: Organisation, requester: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    batch = published_batch(organisation, funds=10_000)
    made = []
    for minutes in (7, 2, 4):
        worker = UserFactory()
        slot = task_services.assignment_accept(worker=worker, batch=batch)
        clock.advance(minutes=minutes)
        made.append(task_services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"}))
    client.force_login(requester)
    url = f"/org/{organisation.slug}/batches/{batch.pk}/review/table/"
    rows = client.get(url, {"sort": "-work_time"}).context["rows"]
    assert [row["assignment"].pk for row in rows] == [made[0].pk, made[2].pk, made[1].pk]
    assert [row["work_time"] for row in rows] == ["7 min 00 s", "4 min 00 s", "2 min 00 s"]
    quick = client.get(url, {"max_minutes": "3"}).context["rows"]
    assert [row["assignment"].pk for row in quick] == [made[1].pk]
    by_worker = client.get(url, {"worker": made[2].worker.pseudonym}).context["rows"]
    assert [row["assignment"].pk for row in by_worker] == [made[2].pk]
    # Unknown sort keys and statuses fall back rather than fail.
    assert client.get(url, {"sort": "salary", "status": "open"}).status_code == 200
