"""Batches through the REST API: create, input, publish with escrow, pause, resume,
cancel, grow, extend; every refusal changes nothing."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import api_key_create
from core.models import AuditEvent
from governance.models import RuleVersion
from ledger.escrow import escrow_status
from tasks.models import Assignment, Batch, Task
from tests.ledger.factories import fund
from tests.tasks.conftest import client_for
from tests.tasks.factories import (
    ROWS_CSV,
    TEMPLATE,
    available,
    batch_fields,
    make_batch,
    published_batch,
    slot_cost,
)

pytestmark = pytest.mark.django_db


def test_create_batch_and_upload_input(requester_api: APIClient, organisation: Organisation) -> None:
    body = batch_fields(
        content_warnings="Some pictures show injured animals.",
        requirements=[{"kind": "locale", "countries": ["de", "AT"], "reason": "The photos are of Alpine wildlife."}],
    )
    response = requester_api.post(f"/api/organisations/{organisation.slug}/batches/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft"
    assert data["placeholders"] == ["animal", "image_url"]
    assert data["answer_fields"] == [{"name": "answer", "required": True}, {"name": "comment", "required": False}]
    assert data["estimated_hourly_pay"] == 1500
    assert data["requirements"][0]["countries"] == ["AT", "DE"]
    assert "The requester's reason: The photos are of Alpine wildlife." in data["requirements"][0]["text"]

    upload = SimpleUploadedFile("rows.csv", ROWS_CSV.encode(), content_type="text/csv")
    response = requester_api.put(f"/api/batches/{data['id']}/input/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json() == {"rows": 2}
    assert list(Task.objects.filter(batch_id=data["id"]).values_list("row_number", "input")) == [
        (1, {"animal": "cat", "image_url": "https://img.example/1.jpg"}),
        (2, {"animal": "dog", "image_url": "https://img.example/2.jpg"}),
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reward": -5}, "reward"),
        ({"reward": 0}, "reward"),
        ({"assignments_per_task": 0}, "assignments_per_task"),
        ({"purpose": " "}, "purpose"),
        ({"data_use": ""}, "data_use"),
        ({"time_allotted_minutes": 1}, "time_allotted_minutes"),
        ({"external_url": "https://tasks.example/x"}, "template_html"),
        ({"template_html": "<p>${x}</p>"}, "template_html"),
        ({"template_html": "", "external_url": "http://insecure.example"}, "external_url"),
        ({"auto_approval_hours": 10_000}, "auto_approval_hours"),
        ({"requirements": [{"kind": "locale", "countries": ["US"]}]}, "requirements[0]"),
        ({"requirements": [{"kind": "approval_rate", "value": 20_000}]}, "requirements[0]"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_batch_input_is_refused_and_creates_nothing(
    requester_api: APIClient, organisation: Organisation, overrides: dict, field: str
) -> None:
    response = requester_api.post(
        f"/api/organisations/{organisation.slug}/batches/", batch_fields(**overrides), format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert Batch.objects.count() == 0


def test_bad_input_file_lists_row_errors_and_creates_nothing(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = make_batch(organisation)
    content = "animal,image_url\ncat,https://a\n,https://b\n"
    response = requester_api.put(
        f"/api/batches/{batch.pk}/input/", {"format": "csv", "content": content}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input_file"
    assert error["details"]["errors"] == [
        {"row": 2, "column": "animal", "message": "“animal” is empty; the template needs a value."}
    ]
    # The earlier rows are untouched.
    assert list(batch.tasks.values_list("input__animal", flat=True)) == ["cat", "dog"]


def test_template_placeholder_missing_from_input_is_refused(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = make_batch(organisation, rows=None)
    response = requester_api.put(
        f"/api/batches/{batch.pk}/input/", {"format": "json", "content": '[{"animal": "cat"}]'}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["errors"][0]["column"] == "image_url"
    assert batch.tasks.count() == 0


def test_publish_reserves_escrow_per_slot_and_records_rules(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = make_batch(organisation)
    fund(organisation, 4 * 55 + 7)
    response = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "published"
    assert data["fee_per_assignment"] == 5
    assert data["counts"] == {"open": 4}
    assert set(data["rule_versions"]) == {
        "minimum_hourly_wage",
        "platform_fee_bps",
        "auto_approval_hours",
        "contest_window_days",
        "approval_rate_window_days",
        "fair_pay_fast_share_bps",
    }
    wage_version = RuleVersion.objects.get(rule__key="minimum_hourly_wage")
    assert data["rule_versions"]["minimum_hourly_wage"] == {"version_id": wage_version.pk, "value": 1200}
    keys = [a.escrow_key for a in Assignment.objects.filter(batch=batch)]
    assert escrow_status(keys) == dict.fromkeys(keys, "pending")
    assert available(organisation) == 7
    assert AuditEvent.objects.filter(action="batch.published", target_id=str(batch.pk)).count() == 1


def test_publish_below_minimum_wage_is_refused_and_changes_nothing(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = make_batch(organisation, reward=30, estimated_minutes=2)  # 9.00/h < 12.00/h
    fund(organisation, 1000)
    response = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "below_minimum_wage"
    assert error["details"] == {"minimum_hourly_wage": 1200, "minimum_reward": 40}
    assert "Raise the reward to at least 0.40 EUR" in error["message"]
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT and batch.rule_versions == {}
    assert Assignment.objects.count() == 0
    assert available(organisation) == 1000


def test_publish_without_funds_is_refused_and_changes_nothing(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = make_batch(organisation)
    fund(organisation, 4 * 55 - 1)
    response = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_funds"
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT
    assert Assignment.objects.count() == 0
    assert available(organisation) == 4 * 55 - 1


def test_publish_twice_is_refused(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation, funds=1000)
    response = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"
    assert Assignment.objects.filter(batch=batch).count() == 4
    assert available(organisation) == 1000 - 4 * 55


def test_template_without_rows_cannot_be_published(requester_api: APIClient, organisation: Organisation) -> None:
    batch = make_batch(organisation, rows=None)
    fund(organisation, 1000)
    response = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_input"
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DRAFT


def test_external_url_batch_is_one_task(requester_api: APIClient, organisation: Organisation) -> None:
    batch = make_batch(organisation, rows=None, template_html="", external_url="https://survey.example/s/1")
    fund(organisation, 2 * 55)
    response = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert response.status_code == 200, response.content
    assert batch.tasks.count() == 1
    assert response.json()["counts"] == {"open": 2}


def test_pause_resume_and_cancel_returns_unclaimed_escrow(
    requester_api: APIClient, organisation: Organisation, worker: User
) -> None:
    from tasks import services

    batch = published_batch(organisation)
    accepted = services.assignment_accept(worker=worker, batch=batch)
    assert requester_api.post(f"/api/batches/{batch.pk}/pause/").json()["status"] == "paused"
    assert requester_api.post(f"/api/batches/{batch.pk}/pause/").status_code == 409
    assert requester_api.post(f"/api/batches/{batch.pk}/resume/").json()["status"] == "published"
    response = requester_api.post(f"/api/batches/{batch.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["counts"] == {"withdrawn": 3, "accepted": 1}
    assert available(organisation) == 3 * 55
    assert escrow_status([accepted.escrow_key]) == {accepted.escrow_key: "pending"}
    # The accepted slot can still be submitted; a cancelled batch cannot resume.
    services.assignment_submit(worker=worker, assignment=accepted, answers={"answer": "yes"})
    assert requester_api.post(f"/api/batches/{batch.pk}/resume/").status_code == 409


def test_add_assignments_and_extend(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    response = requester_api.post(f"/api/batches/{batch.pk}/add-assignments/", {"per_task": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert Assignment.objects.filter(batch=batch).count() == 4
    fund(organisation, 2 * slot_cost(batch))
    response = requester_api.post(f"/api/batches/{batch.pk}/add-assignments/", {"per_task": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assignments_per_task"] == 3
    assert response.json()["counts"] == {"open": 6}
    assert available(organisation) == 0
    before = Batch.objects.get(pk=batch.pk).expires_at
    response = requester_api.post(f"/api/batches/{batch.pk}/extend/", {"hours": 24}, format="json")
    assert response.status_code == 200
    assert Batch.objects.get(pk=batch.pk).expires_at - before == __import__("datetime").timedelta(hours=24)
    assert requester_api.post(f"/api/batches/{batch.pk}/extend/", {"hours": 0}, format="json").status_code == 400


def test_other_organisations_cannot_see_or_act_on_a_batch(
    organisation: Organisation, other_organisation: Organisation, worker: User
) -> None:
    batch = make_batch(organisation)
    outsider = client_for(other_organisation.staff.get().user)
    assert outsider.get(f"/api/batches/{batch.pk}/").status_code == 404
    assert outsider.post(f"/api/batches/{batch.pk}/publish/").status_code == 404
    assert client_for(worker).get(f"/api/batches/{batch.pk}/").status_code == 404
    assert outsider.get(f"/api/organisations/{organisation.slug}/batches/").status_code == 404
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DRAFT


def test_api_key_must_belong_to_the_batch_organisation(
    organisation: Organisation, other_organisation: Organisation
) -> None:
    owner = organisation.staff.get().user
    # The owner also staffs the other organisation, but a key is bound to its own organisation.
    from accounts.services import organisation_staff_add

    organisation_staff_add(organisation=other_organisation, user=owner, role="owner", actor=owner)
    batch = make_batch(organisation)
    other_key = api_key_create(organisation=other_organisation, created_by=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {other_key.key.access_key_id}:{other_key.secret}")
    assert client.get(f"/api/batches/{batch.pk}/").status_code == 404
    own_key = api_key_create(organisation=organisation, created_by=owner)
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {own_key.key.access_key_id}:{own_key.secret}")
    assert client.get(f"/api/batches/{batch.pk}/").status_code == 200


def test_list_batches_of_organisation(requester_api: APIClient, organisation: Organisation) -> None:
    make_batch(organisation)
    make_batch(organisation, title="Second")
    response = requester_api.get(f"/api/organisations/{organisation.slug}/batches/")
    assert response.status_code == 200
    assert [b["title"] for b in response.json()["results"]] == ["Second", "Label animals"]
    assert TEMPLATE in response.json()["results"][0]["template_html"]


def test_the_batch_list_shows_each_batch_as_its_detail_does(
    requester_api: APIClient, organisation: Organisation
) -> None:
    requirements = [
        {"kind": "approval_rate", "value": 9000},
        {"kind": "locale", "countries": ["DE", "AT"], "reason": "German dialect recordings."},
    ]
    batches = [make_batch(organisation, requirements=requirements), make_batch(organisation, title="Plain")]
    listed = requester_api.get(f"/api/organisations/{organisation.slug}/batches/").json()["results"]
    for batch, item in zip(reversed(batches), listed, strict=True):
        detail = requester_api.get(f"/api/batches/{batch.pk}/").json()
        assert item == {k: v for k, v in detail.items() if k not in ("counts", "tasks")}
    assert [r["kind"] for r in listed[1]["requirements"]] == ["approval_rate", "locale"]
    assert listed[1]["requirements"][1]["countries"] == ["AT", "DE"]
    assert listed[0]["requirements"] == []
    assert {item["organisation"] for item in listed} == {organisation.slug}


def test_batch_representations_equal_drfs_field_by_field_walk(organisation: Organisation) -> None:
    """MarketBatchOut builds its output directly for speed; DRF's generic walk over the
    declared fields (which the OpenAPI schema describes) must give the same, for every
    kind of batch and through both ways of reading requirements."""
    from django.utils import timezone
    from rest_framework import serializers

    from tasks import selectors, services
    from tasks.api import MarketBatchDetailOut, MarketBatchOut

    owner = organisation.staff.get(role="owner").user
    qualification = services.qualification_create(
        organisation=organisation, actor=owner, name="Bird expert", description="Tells a buzzard from a kite."
    )
    requirements = [
        {"kind": "qualification", "qualification_id": qualification.pk, "value": 1},
        {"kind": "locale", "countries": ["DE"], "reason": "German speech."},
    ]
    draft = make_batch(organisation, rows=None, auto_approval_hours=12)
    published = published_batch(organisation, requirements=requirements)
    paused = services.batch_pause(batch=published_batch(organisation, title="Paused"), actor=owner)
    cancelled = services.batch_cancel(batch=published_batch(organisation, title="Cancelled"), actor=owner)
    fetched = selectors.attach_requirements(list(selectors.batches_for_organisation(organisation=organisation)))
    assert all("requirement_list" in batch.__dict__ for batch in fetched)  # the attached way in
    for zone in ["UTC", "Europe/Berlin"]:  # the times are given in the current time zone
        with timezone.override(zone):
            for batch in [draft, published, paused, cancelled, *fetched]:
                for serializer_class in (MarketBatchOut, MarketBatchDetailOut):
                    direct = serializer_class(batch).data
                    walked = serializers.ModelSerializer.to_representation(serializer_class(batch), batch)
                    assert direct == walked
                    assert list(direct) == list(walked)  # the same keys, in the same order
    with timezone.override("Europe/Berlin"):
        assert MarketBatchOut(published).data["published_at"].endswith(("+01:00", "+02:00"))
    assert [r["kind"] for r in MarketBatchOut(published).data["requirements"]] == ["qualification", "locale"]
    assert MarketBatchOut(cancelled).data["ended_at"] is not None
    assert MarketBatchOut(draft).data["published_at"] is None


def test_the_batch_list_costs_the_same_queries_for_two_or_six_batches(api, organisation) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.tasks.factories import make_batch

    owner = organisation.staff.get(role="owner").user
    api.force_authenticate(owner)
    url = f"/api/organisations/{organisation.slug}/batches/"

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url)
        assert response.status_code == 200
        return len(captured.captured_queries)

    for _ in range(2):
        make_batch(organisation)
    two = queries_for_list()
    for _ in range(4):
        make_batch(organisation)
    six = queries_for_list()
    assert api.get(url).json()["count"] == 6
    assert six == two


def test_attached_requirements_are_each_batchs_own_in_the_order_set(
    organisation: Organisation, django_assert_num_queries: Any, monkeypatch: Any
) -> None:
    """``attach_requirements`` reads every batch's requirements at once (in chunks of ids),
    the qualifications they name with them, and gives each batch exactly its own."""
    from tasks import selectors, services
    from tasks.api import MarketBatchOut

    owner = organisation.staff.get(role="owner").user
    qualification = services.qualification_create(
        organisation=organisation, actor=owner, name="Bird expert", description="Tells a buzzard from a kite."
    )
    named = {"kind": "qualification", "qualification_id": qualification.pk, "value": 1}
    locale = {"kind": "locale", "countries": ["DE"], "reason": "German speech."}
    rate = {"kind": "approval_rate", "value": 9000}
    plans = [[named, locale], [], [rate], [locale, rate, named], []]
    batches = [make_batch(organisation, requirements=plan) for plan in plans]
    expected = [[(r.kind, r.qualification_id) for r in batch.requirements.order_by("id")] for batch in batches]
    monkeypatch.setattr(selectors, "_REQUIREMENTS_CHUNK", 2)  # three statements for five batches
    fresh = [Batch.objects.get(pk=batch.pk) for batch in batches]
    with django_assert_num_queries(4):  # the chunks, then the one qualification named
        selectors.attach_requirements(fresh)
    with django_assert_num_queries(0):  # what the output reads is all there
        attached = [[(r.kind, r.qualification_id) for r in batch.requirement_rows] for batch in fresh]
        names = [r.qualification.name for batch in fresh for r in batch.requirement_rows if r.qualification]
    assert attached == expected
    assert names == ["Bird expert", "Bird expert"]
    # The same output as the model's own read of each batch's requirements:
    assert [MarketBatchOut(batch).data["requirements"] for batch in fresh] == [
        MarketBatchOut(batch).data["requirements"] for batch in batches
    ]
    with django_assert_num_queries(0):
        assert selectors.attach_requirements([]) == []
