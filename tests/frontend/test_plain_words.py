"""No internal name reaches a page: every role's pages are rendered and their visible text
(not attributes, scripts or the task's own answers) must hold no snake_case name of a state,
rule or setting, no "minor units", no "rail:" and no "assignment:11"."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import User
from disputes import services as dispute_services
from tests.disputes.factories import rejected_work
from tests.factories import MemberFactory, UserFactory
from tests.tasks.factories import make_batch, published_batch

pytestmark = pytest.mark.django_db

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
LEAKS = (re.compile(r"minor units"), re.compile(r"\brail:"), re.compile(r"\b[a-z]+:\d+\b"), re.compile(r"basis points"))


class _VisibleText(HTMLParser):
    """The text a person reads: no attributes, scripts, styles, code samples or form values."""

    SKIP = {"script", "style", "code", "pre", "textarea", "option", "select"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def leaks_in(html: str) -> list[str]:
    text = visible_text(html)
    found = SNAKE.findall(text)
    for pattern in LEAKS:
        found += pattern.findall(text)
    return found


def test_the_checker_finds_what_it_must() -> None:
    assert leaks_in("<p>State: awaiting_response</p>") == ["awaiting_response"]
    assert leaks_in("<p>Limits: 0 to 100 minor units</p>") == ["minor units"]
    assert leaks_in("<p>rail: sepa, assignment:11</p>") == ["rail:", "assignment:11"]
    assert leaks_in('<p id="rule-payout_minimum_floor">Payout minimum floor</p><code>x_y</code>') == []


def test_no_role_sees_an_internal_name(client: Client, organisation, requester: User, worker: User) -> None:
    draft = make_batch(organisation)
    live = published_batch(organisation, title="Live batch")
    work = rejected_work(organisation=organisation)
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    member = MemberFactory()
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    slug = organisation.slug
    public = [
        "/",
        "/rules/",
        "/rules/minimum_hourly_wage/",
        "/rules/payout_minimum_floor/",
        "/rules/platform_fee_bps/",
        "/glossary/",
        "/payouts/coverage/",
        "/accounts/register/",
        "/accounts/login/",
        f"/requesters/{slug}/",
    ]
    pages = {
        None: public,
        worker: ["/work/", f"/work/batches/{live.pk}/", "/work/assignments/", "/work/earnings/", "/work/profile/",
                 "/work/payouts/", "/cases/", "/inbox/", "/inbox/settings/", "/messages/", "/work/searches/",
                 "/account/security/", "/account/data/"],
        work.worker: [f"/cases/{case.pk}/", f"/work/assignments/{work.pk}/", "/work/assignments/"],
        requester: [f"/org/{slug}/", f"/org/{slug}/profile/", f"/org/{slug}/keys/", f"/org/{slug}/funds/",
                    f"/org/{slug}/batches/new/", f"/org/{slug}/batches/{draft.pk}/",
                    f"/org/{slug}/batches/{live.pk}/", f"/org/{slug}/batches/{live.pk}/review/",
                    f"/org/{slug}/team/", f"/org/{slug}/verification/", f"/org/{slug}/webhooks/",
                    f"/cases/{case.pk}/"],
        member: ["/coop/proposals/", "/coop/staff/"],
        treasurer: ["/treasury/", "/treasury/payouts/"],
    }  # fmt: skip
    problems = {}
    for user, urls in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            found = leaks_in(response.content.decode())
            if found:
                problems[url] = sorted(set(found))
    assert problems == {}


def test_a_dispute_shows_its_state_in_words(client: Client, organisation) -> None:
    work = rejected_work(organisation=organisation)
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    client.force_login(work.worker)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Waiting for the requester&#x27;s answer" in html or "Waiting for the requester's answer" in html
    assert 'data-state="awaiting_response"' in html
