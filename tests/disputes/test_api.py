"""The REST surface: who sees a case and what they see. A non-party gets nothing and
changes nothing; jurors and parties see each other only under labels."""

import json

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from disputes import jobs, services
from disputes.models import Case, Evidence, Juror, Vote
from tests.disputes.factories import jurors, rejected_work
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def case():
    work = rejected_work()
    return services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="My labels were right.")


def owner(case: Case):
    return case.organisation.staff.get(role="owner").user


@pytest.fixture
def contested(case):
    jurors(6)
    services.case_respond(case=case, actor=owner(case), action="contest", text="They were random.")
    return Case.objects.get(pk=case.pk)


def url(case: Case, action: str = "") -> str:
    return f"/api/disputes/cases/{case.pk}/" + (f"{action}/" if action else "")


def snapshot(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return (
        case.state,
        case.round,
        case.outcome,
        case.response_text,
        Evidence.objects.filter(case=case).count(),
        Vote.objects.filter(juror__case=case).count(),
        AuditEvent.objects.count(),
    )


def test_a_worker_opens_a_dispute_through_the_api():
    work = rejected_work()
    response = client_for(work.worker).post(
        "/api/disputes/cases/", {"assignment_id": work.pk, "statement": "I followed them."}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["role"], body["state"], body["kind"]) == ("worker", "awaiting_response", "rejection")
    assert body["items"][0]["assignment_id"] == work.pk


def test_unknown_fields_are_refused_and_nothing_opens():
    work = rejected_work()
    response = client_for(work.worker).post(
        "/api/disputes/cases/", {"assignment_id": work.pk, "statement": "x", "share": 1}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["fields"] == {"share": ["Unknown field."]}
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "action", "payload"),
    [
        ("get", "", None),
        ("post", "respond", {"action": "accept"}),
        ("post", "offer", {"accept": True}),
        ("post", "evidence", {"text": "I saw it."}),
        ("post", "vote", {"share_bps": 0, "reason": "No."}),
        ("post", "appeal", {"reason": "Unfair."}),
        ("post", "split", {"statement": "Mine."}),
    ],
)
@pytest.mark.parametrize("who", ["stranger", "other_requester", "member"])
def test_a_non_party_gets_nothing_and_nothing_changes(contested, method, action, payload, who):
    outsider = {
        "stranger": UserFactory,
        "other_requester": lambda: OrganisationFactory().staff.get().user,
        "member": lambda: jurors(1)[0],
    }[who]()
    before = snapshot(contested)

    response = getattr(client_for(outsider), method)(url(contested, action), payload, format="json")

    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"
    assert snapshot(contested) == before
    assert client_for(outsider).get("/api/disputes/cases/").json()["results"] == []
    assert client_for(outsider).get("/api/disputes/juror/cases/").json() == []


def test_a_juror_sees_no_identities(contested):
    juror = Juror.objects.filter(case=contested).first()
    response = client_for(juror.user).get(url(contested))
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "juror" and "requester" not in body
    assert body["items"][0]["worker"] == "Worker"
    assert body["items"][0]["answers"] == {"label": "cat"}
    text = json.dumps(body)
    worker, organisation = contested.worker, contested.organisation
    for secret in (worker.username, worker.pseudonym, worker.email, organisation.display_name, organisation.slug):
        assert secret not in text
    for seat in Juror.objects.filter(case=contested):
        assert seat.user.username not in text and seat.user.pseudonym not in text


def test_parties_see_jurors_only_as_labels(contested):
    body = client_for(contested.worker).get(url(contested)).json()
    assert [seat["label"] for seat in body["panel"]] == ["Juror 1", "Juror 2", "Juror 3"]
    text = json.dumps(body)
    for seat in Juror.objects.filter(case=contested):
        assert (
            seat.user.username not in text
            and seat.user.pseudonym not in text
            and str(seat.user.pk) not in [str(v) for v in body["panel"]]
        )
    assert client_for(owner(contested)).get(url(contested)).json()["role"] == "requester"


def test_votes_stay_sealed_until_the_decision(contested, clock):
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    first, second, third = Juror.objects.filter(case=contested).order_by("id")
    response = client_for(first.user).post(url(contested, "vote"), {"share_bps": 0, "reason": "Spam."}, format="json")
    assert response.status_code == 201
    own = next(seat for seat in response.json()["panel"] if seat["label"] == first.label)
    assert own["share_bps"] == 0
    for reader in (second.user, contested.worker, owner(contested)):
        panel = client_for(reader).get(url(contested)).json()["panel"]
        assert all("share_bps" not in seat and "reason" not in seat for seat in panel)

    for juror in (second, third):
        client_for(juror.user).post(url(contested, "vote"), {"share_bps": 0, "reason": "Spam."}, format="json")
    panel = client_for(contested.worker).get(url(contested)).json()["panel"]
    assert [seat["share_bps"] for seat in panel] == [0, 0, 0]


def test_a_party_cannot_vote_and_a_juror_cannot_answer_for_the_requester(contested, clock):
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    before = snapshot(contested)
    assert (
        client_for(contested.worker).post(url(contested, "vote"), {"share_bps": 10_000, "reason": "Me!"}).status_code
        == 403
    )
    juror = Juror.objects.filter(case=contested).first()
    assert client_for(juror.user).post(url(contested, "respond"), {"action": "accept"}).status_code == 403
    assert client_for(juror.user).post(url(contested, "evidence"), {"text": "I know."}).status_code == 403
    assert snapshot(contested) == before


def test_a_replaced_juror_loses_access(contested, clock):
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    late = Juror.objects.filter(case=contested).first()
    clock.advance(hours=73)
    jobs.run_deadlines.delay()
    assert client_for(late.user).get(url(contested)).status_code == 404
    assert client_for(late.user).get("/api/disputes/juror/cases/").json() == []


def test_the_juror_queue_lists_the_jurors_cases(contested, django_assert_max_num_queries):
    juror = Juror.objects.filter(case=contested).first()
    with django_assert_max_num_queries(2):
        queue = client_for(juror.user).get("/api/disputes/juror/cases/").json()
    assert [row["id"] for row in queue] == [contested.pk]
    assert client_for(contested.worker).get("/api/disputes/juror/cases/").json() == []


def test_my_cases_list_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    worker = UserFactory()
    for _ in range(5):
        work = rejected_work(worker=worker)
        services.dispute_open(worker=worker, assignment_id=work.pk, statement="Right.")
    client = client_for(worker)
    with django_assert_max_num_queries(6):
        response = client.get("/api/disputes/cases/")
    assert [row["kind"] for row in response.json()["results"]] == ["rejection"] * 5


def test_precedents_are_public_and_anonymous(contested, clock, django_assert_max_num_queries):
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    for juror in Juror.objects.filter(case=contested):
        services.case_vote(case=contested, juror_user=juror.user, share_bps=10_000, reason="Labels were right.")
    clock.advance(hours=73)
    jobs.run_deadlines.delay()

    reader = OrganisationFactory().staff.get().user
    with django_assert_max_num_queries(4):
        response = client_for(reader).get("/api/disputes/precedents/")
    (precedent,) = response.json()["results"]
    assert (precedent["outcome"], precedent["share_bps"], precedent["rejection_reason"]) == (
        "pay_full",
        10_000,
        "did_not_follow_instructions",
    )
    assert [r["reason"] for r in precedent["juror_reasons"]] == ["Labels were right."] * 3
    text = json.dumps(precedent)
    assert contested.worker.pseudonym not in text and contested.organisation.display_name not in text

    record = client_for(reader).get(f"/api/disputes/requesters/{contested.organisation.slug}/record/").json()
    assert record == {"overturned": 1, "upheld": 0}


def test_an_api_key_answers_only_for_its_own_organisation(case):
    from accounts.services import api_key_create

    own_key = api_key_create(organisation=case.organisation, created_by=owner(case))
    other = OrganisationFactory()
    other_key = api_key_create(organisation=other, created_by=other.staff.get().user)
    before = snapshot(case)

    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"ApiKey {other_key.key.access_key_id}:{other_key.secret}")
    assert outsider.post(url(case, "respond"), {"action": "accept"}, format="json").status_code == 404
    assert snapshot(case) == before

    requester = APIClient()
    requester.credentials(HTTP_AUTHORIZATION=f"ApiKey {own_key.key.access_key_id}:{own_key.secret}")
    assert [row["id"] for row in requester.get("/api/disputes/cases/").json()["results"]] == [case.pk]
    response = requester.post(url(case, "respond"), {"action": "accept"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["outcome"]) == ("closed", "pay_full")


def test_co_op_staff_audit_the_draws_and_parties_cannot(contested):
    staff = UserFactory(is_staff=True)
    (row,) = client_for(staff).get(url(contested, "draws")).json()
    assert (row["round"], row["purpose"], row["reproduced"]) == (1, "panel", True)
    assert sorted(row["chosen"]) == sorted(Juror.objects.filter(case=contested).values_list("user_id", flat=True))
    for party in (contested.worker, owner(contested)):
        response = client_for(party).get(url(contested, "draws"))
        assert response.status_code == 403 and "pool" not in response.content.decode()
