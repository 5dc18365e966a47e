"""The task feed: filters, sorting, qualification fit (hidden with reasons on request),
block lists, and a constant number of queries per page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import worker_profile_update
from tasks import services
from tasks.models import Assignment, QualificationTestAttempt
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.conftest import client_for
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db


def titles(client: APIClient, query: str = "") -> list[str]:
    response = client.get(f"/api/tasks/feed/{query}")
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def test_filters_and_sorting(worker_api: APIClient, organisation: Organisation) -> None:
    other = OrganisationFactory()
    published_batch(organisation, title="cheap", reward=50, estimated_minutes=2)
    published_batch(organisation, title="rich", reward=200, estimated_minutes=10)
    published_batch(other, title="quick", reward=30, estimated_minutes=1)
    assert titles(worker_api, "?ordering=-reward") == ["rich", "cheap", "quick"]
    assert titles(worker_api, "?ordering=-hourly_pay") == ["quick", "cheap", "rich"]  # 18.00, 15.00, 12.00 per hour
    assert titles(worker_api, "?ordering=minutes") == ["quick", "cheap", "rich"]
    assert titles(worker_api, "?min_reward=40&ordering=reward") == ["cheap", "rich"]
    assert titles(worker_api, "?max_minutes=2&ordering=reward") == ["quick", "cheap"]
    assert titles(worker_api, "?min_hourly_pay=1600") == ["quick"]
    assert titles(worker_api, f"?requester={other.slug}") == ["quick"]
    response = worker_api.get("/api/tasks/feed/?min_reward=lots")
    assert response.status_code == 400
    assert "min_reward" in response.json()["error"]["fields"]


def test_full_ended_and_draft_batches_are_not_listed(worker_api: APIClient, organisation: Organisation) -> None:
    from tests.tasks.factories import make_batch

    full = published_batch(organisation, title="full", assignments_per_task=1)
    for _ in range(2):
        services.assignment_accept(worker=UserFactory(), batch=full)
    paused = published_batch(organisation, title="paused")
    services.batch_pause(batch=paused, actor=organisation.staff.get().user)
    make_batch(organisation, title="draft")
    published_batch(organisation, title="open")
    assert titles(worker_api) == ["open"]
    row = worker_api.get("/api/tasks/feed/").json()["results"][0]
    assert row["open_slots"] == 4


def test_unqualified_batches_are_hidden_and_the_preview_says_why(worker: User, organisation: Organisation) -> None:
    client = client_for(worker)
    owner = organisation.staff.get().user
    worker_profile_update(user=worker, changes={"country": "KE"})
    published_batch(organisation, title="anyone")
    local = published_batch(
        organisation,
        title="alpine",
        requirements=[{"kind": "locale", "countries": ["DE", "AT"], "reason": "Photos of Alpine dialect signs."}],
    )
    veteran = published_batch(organisation, title="veteran", requirements=[{"kind": "approved_count", "value": 100}])
    qualification = services.qualification_create(
        organisation=organisation,
        actor=owner,
        name="Bird expert",
        description="Tells a buzzard from a kite.",
        test_questions=[{"name": "q1", "question": "Forked tail?", "options": ["kite", "buzzard"]}],
        answer_key={"q1": "kite"},
    )
    birds = published_batch(
        organisation,
        title="birds",
        requirements=[{"kind": "qualification", "qualification_id": qualification.pk}],
    )
    assert titles(client, "?ordering=newest") == ["anyone"]
    assert titles(client, "?qualified_only=false&ordering=newest") == ["birds", "veteran", "alpine", "anyone"]

    preview = client.get(f"/api/tasks/feed/{local.pk}/").json()
    assert preview["can_accept"] is False
    assert preview["reasons"] == [
        "Needs Located in AT, DE. The requester's reason: Photos of Alpine dialect signs. Yours: KE."
    ]
    assert "At least 100 approved assignments" in client.get(f"/api/tasks/feed/{veteran.pk}/").json()["reasons"][0]
    response = client.post(f"/api/tasks/feed/{local.pk}/accept/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_eligible"
    assert not Assignment.objects.filter(worker=worker).exists()

    # The qualification test: the answer key is never shown; a wrong answer grants nothing.
    shown = client.get(f"/api/qualifications/{qualification.pk}/").json()
    assert "answer_key" not in shown and shown["test_questions"][0]["question"] == "Forked tail?"
    wrong = client.post(f"/api/qualifications/{qualification.pk}/test/", {"answers": {"q1": "buzzard"}}, format="json")
    assert (wrong.json()["score_bps"], wrong.json()["pass_bps"], wrong.json()["granted"]) == (0, 10_000, False)
    assert "kite" not in wrong.content.decode()  # the score and the pass mark, never the key
    assert titles(client) == ["anyone"]
    # A retake waits for the governed cooldown (issue 27.4).
    QualificationTestAttempt.objects.filter(worker=worker).update(submitted_at=timezone.now() - timedelta(days=2))
    right = client.post(f"/api/qualifications/{qualification.pk}/test/", {"answers": {"q1": "kite"}}, format="json")
    assert (right.json()["score_bps"], right.json()["attempt"], right.json()["granted"]) == (10_000, 2, True)
    assert titles(client, "?ordering=newest") == ["birds", "anyone"]
    assert client.post(f"/api/tasks/feed/{birds.pk}/accept/", {}, format="json").status_code == 201


def test_approval_rate_requirement_counts_only_final_rejections(organisation: Organisation, worker: User) -> None:
    owner = organisation.staff.get().user
    practice = published_batch(organisation, title="practice", assignments_per_task=1)
    slots = []
    for _ in range(2):
        slot = services.assignment_accept(worker=worker, batch=practice)
        slots.append(services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "y"}))
    services.assignment_approve(actor=owner, assignment=slots[0])
    services.assignment_reject(actor=owner, assignment=slots[1], reason="incomplete", text="Empty.")
    strict = published_batch(organisation, title="strict", requirements=[{"kind": "approval_rate", "value": 9_000}])
    client = client_for(worker)
    # A provisional rejection does not count yet.
    assert client.get("/api/tasks/approval-rate/").json()["rate_bps"] == 10_000
    assert "strict" in titles(client)
    services.assignment_rejection_finalise(assignment=slots[1])
    rate = client.get("/api/tasks/approval-rate/").json()
    assert (rate["rate_bps"], rate["approved"], rate["final_rejections"], rate["window_days"]) == (5_000, 1, 1, 90)
    assert "finally rejected" in rate["formula"]
    assert "strict" not in titles(client)
    assert "Yours is 50%" in client.get(f"/api/tasks/feed/{strict.pk}/").json()["reasons"][0]


def test_block_list_affects_only_that_requester(worker: User, organisation: Organisation) -> None:
    other = OrganisationFactory()
    published_batch(organisation, title="blocked")
    published_batch(other, title="elsewhere")
    requester = client_for(organisation.staff.get().user)
    response = requester.post(
        f"/api/organisations/{organisation.slug}/blocks/",
        {"worker": worker.pseudonym, "reason": "Copied answers between items."},
        format="json",
    )
    assert response.status_code == 201
    client = client_for(worker)
    assert titles(client) == ["elsewhere"]
    assert client.get("/api/tasks/approval-rate/").json()["rate_bps"] == 10_000
    blocked = organisation.batches.get()
    assert client.get(f"/api/tasks/feed/{blocked.pk}/").json()["reasons"] == [
        "This requester has blocked you from its batches: Copied answers between items."
    ]
    assert requester.delete(f"/api/organisations/{organisation.slug}/blocks/{worker.pseudonym}/").status_code == 204
    assert sorted(titles(client)) == ["blocked", "elsewhere"]


def _feed_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/tasks/feed/?qualified_only=true").status_code == 200
    return len(captured)


def test_feed_query_count_is_constant(worker: User, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = client_for(worker)
    organisation = OrganisationFactory()
    qualification = services.qualification_create(
        organisation=organisation, actor=organisation.staff.get().user, name="Q", description="Granted by hand."
    )
    services.qualification_grant(qualification=qualification, worker=worker, actor=None)
    requirements = [
        {"kind": "approval_rate", "value": 5000},
        {"kind": "qualification", "qualification_id": qualification.pk},
    ]
    published_batch(organisation, requirements=requirements)
    _feed_queries(client)  # warms the rule cache
    few = _feed_queries(client)
    for index in range(6):
        published_batch(OrganisationFactory(), title=f"more {index}", requirements=requirements[:1])
    assert len(titles(client)) == 7
    # Uncached (the suite's FEED_SNAPSHOT_SECONDS is 0): the worker's profile, approval rate,
    # grants, blocks and the organisations they are (or recently were) staff of; the live batches,
    # their requirements, the qualifications named, the requesters' recent former names, and their
    # measured pay and decisions (two queries for all requesters: the figures their pages show).
    with django_assert_num_queries(11):
        client.get("/api/tasks/feed/")
    assert _feed_queries(client) == few


def test_a_cached_market_costs_no_query_and_lags_by_at_most_its_age(  # type: ignore[no-untyped-def]
    worker: User, organisation: Organisation, settings, django_assert_num_queries
) -> None:
    """In production each process keeps the market and each worker's standing for
    FEED_SNAPSHOT_SECONDS: a page then costs no query; a new batch shows once the copy is
    older than that; accepting from a stale page still decides on the live rows."""
    from django.core.cache import cache

    from tasks import selectors

    settings.FEED_SNAPSHOT_SECONDS = 60
    cache.clear()
    selectors._market = (float("-inf"), [])
    client = client_for(worker)
    full = published_batch(organisation, title="soon full", assignments_per_task=1)
    assert titles(client) == ["soon full"]
    with django_assert_num_queries(0):
        client.get("/api/tasks/feed/?ordering=-reward")
    for _ in range(2):
        services.assignment_accept(worker=UserFactory(), batch=full)
    published_batch(organisation, title="new")
    assert titles(client) == ["soon full"]  # the copy is younger than a minute
    refused = client.post(f"/api/tasks/feed/{full.pk}/accept/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_open_slot"
    assert not Assignment.objects.filter(worker=worker).exists()
    built_at, batches = selectors._market
    selectors._market = (built_at - 61, batches)  # a minute later
    cache.clear()
    assert titles(client) == ["new"]


def test_hand_granted_qualification_and_revocation(worker: User, organisation: Organisation) -> None:
    owner = organisation.staff.get().user
    requester = client_for(owner)
    created = requester.post(
        f"/api/organisations/{organisation.slug}/qualifications/",
        {"name": "Trusted", "description": "Worked with us before."},
        format="json",
    )
    assert created.status_code == 201
    qualification_id = created.json()["id"]
    published_batch(
        organisation,
        title="trusted only",
        requirements=[{"kind": "qualification", "qualification_id": qualification_id}],
    )
    client = client_for(worker)
    assert titles(client) == []
    no_test = client.post(f"/api/qualifications/{qualification_id}/test/", {"answers": {}}, format="json")
    assert no_test.status_code == 409 and no_test.json()["error"]["code"] == "no_test"
    base = f"/api/organisations/{organisation.slug}/qualifications/{qualification_id}/grants/"
    granted = requester.post(base, {"worker": worker.pseudonym}, format="json")
    assert granted.json() == {"qualification": qualification_id, "worker": worker.pseudonym, "value": 1}
    assert titles(client) == ["trusted only"]
    assert requester.delete(f"{base}{worker.pseudonym}/").status_code == 204
    assert titles(client) == []
    # Another organisation cannot grant it.
    outsider = client_for(OrganisationFactory().staff.get().user)
    assert outsider.post(base, {"worker": worker.pseudonym}, format="json").status_code == 404
    assert titles(client) == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "ordering=-reward",
        "ordering=sideways",
        "min_reward=40&max_minutes=2&min_hourly_pay=1600&requester=lab-1",
        "min_reward=lots&max_minutes=-3",
        "min_reward=&requester=",
        "qualified_only=false",
        "qualified_only=true",
        "qualified_only=0",
        "qualified_only=2",
        "qualified_only=unknown",
        "qualified_only=perhaps",
        "unknown_filter=1&ordering=newest",
    ],
)
def test_feed_filters_are_read_as_a_bound_form_reads_them(query: str) -> None:
    from django.http import QueryDict

    from core.errors import AppError
    from tasks.api import FeedQuery

    data = QueryDict(query)
    form = FeedQuery(data=data)
    if form.is_valid():
        expected = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
        assert FeedQuery.params(data) == expected
    else:
        with pytest.raises(AppError) as refused:
            FeedQuery.params(data)
        assert refused.value.fields == {name: list(errors) for name, errors in form.errors.items()}
