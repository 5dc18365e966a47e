"""Every role's pages render for the people who may see them, with labelled controls
and a constant number of queries on the feed."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import User
from tests.factories import MemberFactory, UserFactory
from tests.tasks.factories import make_batch, published_batch

pytestmark = pytest.mark.django_db


def test_every_page_of_every_role_renders(client: Client, organisation, requester: User, worker: User) -> None:
    draft = make_batch(organisation)
    live = published_batch(organisation, title="Live batch")
    member = MemberFactory()
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    slug = organisation.slug
    pages = {
        worker: ["/", "/work/", f"/work/batches/{live.pk}/", "/work/assignments/", "/work/earnings/",
                 "/work/profile/", "/work/payouts/", "/cases/",
                 f"/requesters/{slug}/", "/rules/", "/rules/minimum_hourly_wage/"],
        requester: [f"/org/{slug}/", f"/org/{slug}/profile/", f"/org/{slug}/keys/", f"/org/{slug}/funds/",
                    f"/org/{slug}/batches/new/", f"/org/{slug}/batches/{draft.pk}/", f"/org/{slug}/batches/{live.pk}/",
                    f"/org/{slug}/batches/{live.pk}/review/"],
        member: ["/coop/proposals/"],
        treasurer: ["/treasury/", "/treasury/payouts/"],
    }  # fmt: skip
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:500])


def test_the_feed_costs_the_same_queries_however_many_requesters_it_lists(client: Client, worker: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.selectors import inbox_status
    from tests.factories import OrganisationFactory

    client.force_login(worker)
    published_batch(OrganisationFactory())
    inbox_status(user=worker)  # the menu's unread count is cached: both pages read it from the cache
    client.get("/work/")  # warms the rule cache (the feed reads former_name_days, former_staff_days)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/work/").status_code == 200
    for _ in range(4):
        published_batch(OrganisationFactory())
    with CaptureQueriesContext(connection) as five:
        page = client.get("/work/")
    assert page.content.decode().count('<li class="card">') == 5
    assert len(five.captured_queries) == len(one.captured_queries)


class _Controls(HTMLParser):
    """Form controls a person must be able to identify, and the labels on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label":
            self._in_label += 1
            if values.get("for"):
                self.labelled.add(values["for"] or "")
        elif tag in {"input", "select", "textarea"}:
            if values.get("type") in {"hidden", "submit", "button"}:
                return
            self.controls.append({**values, "_wrapped": "yes" if self._in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1


def test_every_form_control_has_a_label(client: Client, organisation, requester: User) -> None:
    live = published_batch(organisation)
    client.force_login(requester)
    slug = organisation.slug
    urls = ["/work/", "/work/profile/", "/work/payouts/", f"/requesters/{slug}/", f"/org/{slug}/funds/",
            f"/org/{slug}/keys/", f"/org/{slug}/batches/new/", f"/org/{slug}/batches/{live.pk}/review/"]  # fmt: skip
    for url in urls:
        parser = _Controls()
        parser.feed(client.get(url).content.decode())
        for control in parser.controls:
            named = control.get("aria-label") or control["_wrapped"] or control.get("id") in parser.labelled
            assert named, (url, control)


def test_earnings_come_from_the_ledger_statement(client: Client, organisation, requester: User, worker: User) -> None:
    from tasks import services

    batch = published_batch(organisation, assignments_per_task=1, funds=10_000)
    slot = services.assignment_accept(worker=worker, batch=batch)
    services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})
    services.assignment_approve(actor=requester, assignment=slot)
    slot.refresh_from_db()
    services.assignment_bonus(actor=requester, assignment=slot, amount=25, reason="Thanks")
    client.force_login(worker)
    page = client.get("/work/earnings/")
    assert page.context["earned_total"] == batch.reward + 25
    assert "Bonus from a requester" in page.content.decode()
    csv_text = client.get("/work/earnings/statement.csv").content.decode()
    assert csv_text.splitlines()[0] == "date,kind,description,amount,balance,currency,reference"
    assert len(csv_text.splitlines()) == 3
