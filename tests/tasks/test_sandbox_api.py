"""The sandbox through the REST API (issue 24.6), with the web's rules: a sandbox batch is
created with ``"sandbox": true`` (documented in the schema), published with play money,
listed apart, never turned real or back by an edit (a clone is the way), and the play money
is read and topped up under the organisation's endpoints."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import organisation_staff_add
from ledger.models import Transfer
from tasks import play, services
from tasks.models import Batch, PlayBook
from tests.accounts.test_teams import key_client
from tests.factories import UserFactory
from tests.tasks.conftest import client_for
from tests.tasks.factories import ROWS_CSV, batch_fields, make_batch

pytestmark = pytest.mark.django_db


def _create(client: APIClient, organisation: Organisation, **overrides: object) -> dict:  # type: ignore[type-arg]
    response = client.post(f"/api/organisations/{organisation.slug}/batches/", batch_fields(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def test_a_sandbox_batch_is_created_published_and_paid_in_play_money(
    requester_api: APIClient, organisation: Organisation, requester: User
) -> None:
    created = _create(requester_api, organisation, sandbox=True)
    assert created["sandbox"] is True and created["status"] == "draft"
    batch = Batch.objects.get(pk=created["id"])
    assert batch.is_sandbox
    rows = requester_api.put(f"/api/batches/{batch.pk}/input/", {"format": "csv", "content": ROWS_CSV}, format="json")
    assert rows.status_code == 200
    transfers = Transfer.objects.count()
    published = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert published.status_code == 200, published.content  # unfunded: play money needs no real funds
    assert published.json()["sandbox"] is True
    assert Transfer.objects.count() == transfers

    balance = requester_api.get(f"/api/organisations/{organisation.slug}/sandbox/").json()
    held = 4 * (batch.reward + batch.reward // 10)
    assert balance == {
        "sandbox": True,
        "available": play.OPENING - held,
        "held": held,
        "paid": 0,
        "fees": 0,
        "issued": play.OPENING,
        "currency": "EUR",
        "testers": [],
    }
    # A real batch reads "sandbox": false, and the list filters by it.
    real = _create(requester_api, organisation)
    assert real["sandbox"] is False
    listed = requester_api.get(f"/api/organisations/{organisation.slug}/batches/?sandbox=true").json()
    assert [b["id"] for b in listed["results"]] == [batch.pk]
    listed = requester_api.get(f"/api/organisations/{organisation.slug}/batches/?sandbox=false").json()
    assert [b["id"] for b in listed["results"]] == [real["id"]]
    assert len(requester_api.get(f"/api/organisations/{organisation.slug}/batches/").json()["results"]) == 2
    bad = requester_api.get(f"/api/organisations/{organisation.slug}/batches/?sandbox=maybe")
    assert bad.status_code == 400 and "sandbox" in bad.json()["error"]["fields"]


def test_sandbox_batches_keep_the_webs_rules(
    requester_api: APIClient, organisation: Organisation, requester: User
) -> None:
    slug = organisation.slug
    # Bad fields are refused as for a real batch, and nothing is created.
    for bad, field in (
        ({"reward": 0}, "reward"),
        ({"purpose": " "}, "purpose"),
        ({"template_html": "<p>x</p>"}, "template_html"),
    ):
        refused = requester_api.post(
            f"/api/organisations/{slug}/batches/", batch_fields(sandbox=True, **bad), format="json"
        )
        assert refused.status_code == 400 and field in refused.json()["error"]["fields"], refused.content
    not_a_flag = requester_api.post(
        f"/api/organisations/{slug}/batches/", batch_fields(sandbox="perhaps"), format="json"
    )
    assert not_a_flag.status_code == 400
    # Finance may not prepare batches; a key needs the publish scope.
    finance = UserFactory()
    organisation_staff_add(organisation=organisation, user=finance, role="finance", actor=requester)
    assert (
        client_for(finance)
        .post(f"/api/organisations/{slug}/batches/", batch_fields(sandbox=True), format="json")
        .status_code
        == 403
    )
    review_key = key_client(organisation, requester, ["review"])
    assert (
        review_key.post(f"/api/organisations/{slug}/batches/", batch_fields(sandbox=True), format="json").status_code
        == 403
    )
    # A stranger does not even learn the organisation exists.
    assert (
        client_for(UserFactory())
        .post(f"/api/organisations/{slug}/batches/", batch_fields(sandbox=True), format="json")
        .status_code
        == 404
    )
    assert not Batch.objects.exists()
    publish_key = key_client(organisation, requester, ["publish"])
    assert publish_key.post(f"/api/organisations/{slug}/batches/", batch_fields(sandbox=True), format="json").json()[
        "sandbox"
    ]


def test_an_edit_never_changes_the_kind_but_a_clone_may(requester_api: APIClient, organisation: Organisation) -> None:
    sandbox = make_batch(organisation, sandbox=True)
    before = Batch.objects.filter(pk=sandbox.pk).values().get()
    refused = requester_api.patch(f"/api/batches/{sandbox.pk}/", {"sandbox": False, "title": "Real"}, format="json")
    assert refused.status_code == 400
    assert "clone it" in refused.json()["error"]["fields"]["sandbox"][0]
    assert Batch.objects.filter(pk=sandbox.pk).values().get() == before

    same = requester_api.post(f"/api/batches/{sandbox.pk}/clone/", {"copy_rows": True}, format="json").json()
    assert same["sandbox"] is True and same["tasks"] == 2
    real = requester_api.post(f"/api/batches/{sandbox.pk}/clone/", {"sandbox": False}, format="json").json()
    assert real["sandbox"] is False and Batch.objects.get(pk=real["id"]).is_sandbox is False
    back = requester_api.post(f"/api/batches/{real['id']}/clone/", {"sandbox": True}, format="json").json()
    assert back["sandbox"] is True


def test_the_schema_documents_the_sandbox_field_and_the_play_money(requester_api: APIClient) -> None:
    schema = requester_api.get("/api/schema/?format=json").json()
    create = schema["components"]["schemas"]["MarketBatchCreateInRequest"]["properties"]["sandbox"]
    assert create["type"] == "boolean" and "play money" in create["description"]
    assert "sandbox" in schema["components"]["schemas"]["MarketBatchDetailOut"]["properties"]
    assert "sandbox" in schema["components"]["schemas"]["CloneInRequest"]["properties"]
    paths = schema["paths"]
    body = paths["/api/organisations/{slug}/batches/"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/MarketBatchCreateInRequest")
    assert "post" in paths["/api/organisations/{slug}/sandbox/top-up/"]
    assert "get" in paths["/api/organisations/{slug}/sandbox/"]


def test_play_money_tops_up_through_the_api_once_per_token(
    requester_api: APIClient, organisation: Organisation, requester: User
) -> None:
    url = f"/api/organisations/{organisation.slug}/sandbox/top-up/"
    first = requester_api.post(url, {"amount": 250_00, "token": "k-1"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["available"] == play.OPENING + 250_00
    again = requester_api.post(url, {"amount": 250_00, "token": "k-1"}, format="json")
    assert again.json()["issued"] == play.OPENING + 250_00
    reused = requester_api.post(url, {"amount": 1, "token": "k-1"}, format="json")
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "token_reused"
    book = PlayBook.objects.values().get()
    for body in ({"amount": 0, "token": "k-2"}, {"amount": play.MAX_TOP_UP + 1, "token": "k-2"}, {"amount": 5}, {}):
        assert requester_api.post(url, body, format="json").status_code == 400, body
    finance = UserFactory()
    organisation_staff_add(organisation=organisation, user=finance, role="finance", actor=requester)
    assert client_for(finance).post(url, {"amount": 100, "token": "f"}, format="json").status_code == 403
    assert client_for(UserFactory()).post(url, {"amount": 100, "token": "s"}, format="json").status_code == 404
    assert PlayBook.objects.values().get() == book


def test_publishing_past_the_play_money_is_refused_with_how_to_top_up(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = make_batch(organisation, sandbox=True, reward=100_00, assignments_per_task=50, estimated_minutes=60,
                       time_allotted_minutes=60)  # fmt: skip
    refused = requester_api.post(f"/api/batches/{batch.pk}/publish/")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "insufficient_play_money" and "Sandbox page" in error["message"]
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT and not batch.assignments.exists()
    assert play.play_balance(organisation=organisation).held == 0


def test_a_sandbox_batch_and_qualification_do_not_exist_for_outsiders(
    requester_api: APIClient, organisation: Organisation, requester: User
) -> None:
    """The requester's test is shown only to its own people: to anyone else its preview,
    its dispatch and its sandbox qualification are not found, as a draft is."""
    batch = services.batch_publish(batch=make_batch(organisation, sandbox=True), actor=requester)
    assert batch.status == Batch.Status.PUBLISHED
    qualification = services.qualification_create(
        organisation=organisation, actor=requester, name="Play test", description="Testing", sandbox=True
    )
    outsider = APIClient()
    outsider.force_authenticate(UserFactory())
    for address in (
        f"/api/tasks/feed/{batch.pk}/",
        f"/api/tasks/feed/{batch.pk}/dispatch/",
        f"/api/qualifications/{qualification.pk}/",
        f"/api/qualifications/{qualification.pk}/test/",
    ):
        answer = outsider.get(address)
        assert answer.status_code == 404, address
        assert "Play test" not in answer.content.decode() and batch.title not in answer.content.decode()
    # The organisation's own people see both.
    assert requester_api.get(f"/api/tasks/feed/{batch.pk}/").status_code == 200
    assert requester_api.get(f"/api/qualifications/{qualification.pk}/").json()["sandbox"] is True
