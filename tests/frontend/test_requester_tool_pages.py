"""The requester's pages added by issue 24 (offline review, the submissions table, the pages
for what was API-only, receipts and statements): they render for the team, refuse outsiders,
label every control, and the table sorts and filters in the database."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Organisation, User
from tasks import services as task_services
from tests.factories import OrganisationFactory, UserFactory
from tests.frontend.test_smoke_pages import _Controls
from tests.tasks.conftest import Clock
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db


def _pages(slug: str, batch_id: int) -> list[str]:
    return [
        f"/org/{slug}/batches/{batch_id}/review/file/",
        f"/org/{slug}/batches/{batch_id}/review/table/",
        f"/org/{slug}/batches/{batch_id}/grow/",
        f"/org/{slug}/blocks/",
        f"/org/{slug}/withdrawals/",
        f"/org/{slug}/notices/",
        f"/org/{slug}/statements/",
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


# --- Pages for what was API-only (point 5) ---------------------------------------------------------


def test_block_list_page_adds_and_removes_through_the_service(
    client: Client, organisation: Organisation, requester: User, worker: User
) -> None:
    from core.models import AuditEvent
    from tasks.models import BlockedWorker

    client.force_login(requester)
    url = f"/org/{organisation.slug}/blocks/"
    assert client.get(url).status_code == 200
    unknown = client.post(url, {"worker": "nobody-here", "reason": "Spam."})
    assert unknown.status_code == 200
    assert "No worker is called nobody-here." in unknown.content.decode()
    no_reason = client.post(url, {"worker": worker.pseudonym, "reason": ""})
    assert no_reason.status_code == 200 and not BlockedWorker.objects.exists()
    response = client.post(url, {"worker": worker.pseudonym, "reason": "Copied answers from another worker."})
    assert response.status_code == 302
    block = BlockedWorker.objects.get()
    assert (block.organisation, block.worker, block.reason) == (
        organisation,
        worker,
        "Copied answers from another worker.",
    )
    assert AuditEvent.objects.filter(action="worker.blocked").count() == 1
    assert worker.pseudonym in client.get(url).content.decode()
    assert client.post(f"{url}{worker.pseudonym}/remove/").status_code == 302
    assert not BlockedWorker.objects.exists()
    assert AuditEvent.objects.filter(action="worker.unblocked").count() == 1
    # Another organisation's team cannot see or change this list.
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_batch_grow_page_adds_slots_with_escrow_and_extends(
    client: Client, organisation: Organisation, requester: User
) -> None:
    from tests.ledger.factories import fund
    from tests.tasks.factories import available, slot_cost

    batch = published_batch(organisation)  # funded for exactly its slots: nothing left
    client.force_login(requester)
    url = f"/org/{organisation.slug}/batches/{batch.pk}/grow/"
    assert client.get(url).status_code == 200
    slots_before = batch.assignments.count()
    refused = client.post(url, {"action": "add", "add-per_task": "1"})
    assert refused.status_code == 200
    assert "available balance is short by 1.10 EUR" in refused.content.decode()
    assert batch.assignments.count() == slots_before
    fund(organisation, 2 * slot_cost(batch))
    assert client.post(url, {"action": "add", "add-per_task": "1"}).status_code == 302
    batch.refresh_from_db()
    assert (batch.assignments_per_task, batch.assignments.count()) == (3, slots_before + 2)
    assert available(organisation) == 0
    expires = batch.expires_at
    assert client.post(url, {"action": "extend", "extend-hours": "24"}).status_code == 302
    batch.refresh_from_db()
    assert (batch.expires_at - expires).total_seconds() == 24 * 3600
    bad = client.post(url, {"action": "extend", "extend-hours": "0"})
    assert bad.status_code == 200
    batch.refresh_from_db()
    assert (batch.expires_at - expires).total_seconds() == 24 * 3600


def test_withdrawal_page_requests_through_the_service(
    client: Client, organisation: Organisation, requester: User
) -> None:
    from payments.models import Withdrawal
    from tests.ledger.factories import fund
    from tests.tasks.factories import available

    fund(organisation, 5_000)
    client.force_login(requester)
    url = f"/org/{organisation.slug}/withdrawals/"
    assert client.get(url).status_code == 200
    missing = client.post(url, {"method": "bank", "amount": "10.00", "token": "t1"})
    assert missing.status_code == 200
    assert missing.context["form"].errors["iban"] == ["Required."]
    assert not Withdrawal.objects.exists()
    too_much = client.post(
        url,
        {"method": "bank", "amount": "99.00", "iban": "DE89370400440532013000", "account_holder": "Lab", "token": "t2"},
    )
    assert too_much.status_code == 200 and not Withdrawal.objects.exists()
    form = {
        "method": "bank",
        "amount": "10.00",
        "iban": "DE89370400440532013000",
        "account_holder": "Lab",
        "token": "t3",
    }
    assert client.post(url, form).status_code == 302
    # The same form sent twice (a double click) is one withdrawal.
    assert client.post(url, form).status_code == 302
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.method, withdrawal.amount) == ("bank", 1000)
    assert available(organisation) == 4_000
    assert "10.00" in client.get(url).content.decode()


def test_notices_page_shows_the_organisations_inbox_entries(
    client: Client, organisation: Organisation, requester: User
) -> None:
    from notifications.services import notify

    other = OrganisationFactory()
    notify(
        users=[requester],
        category="verification",
        params={"organisation": "Ours", "decision": "approved", "reason": "All in order."},
        organisation=organisation,
    )
    notify(
        users=[requester],
        category="verification",
        params={"organisation": "Theirs", "decision": "approved", "reason": "Not this one."},
        organisation=other,
    )
    client.force_login(requester)
    page = client.get(f"/org/{organisation.slug}/notices/")
    assert page.status_code == 200
    titles = [row["title"] for row in page.context["rows"]]
    assert titles[0] == "Verification of Ours: approved"
    assert "Verification of Theirs: approved" not in titles
