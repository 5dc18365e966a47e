"""The routes outside the authorization matrix, which authenticate otherwise: the MTurk
endpoint (SigV4 with an organisation's key pair), MTurk's externalSubmit (the unguessable
assignment id) and the Stripe webhook (Stripe's signature). Unsigned or wrongly signed,
each is refused and changes nothing."""

import json

import pytest
from django.test import Client

from tests.proof.test_authorization_matrix import changed, digest
from tests.proof.world import World

pytestmark = pytest.mark.django_db

TARGET = "MTurkRequesterServiceV20170117."
CALLS = [
    ("CreateHIT", {"Title": "t", "Description": "d", "Reward": "0.50", "AssignmentDurationInSeconds": 600,
                   "LifetimeInSeconds": 3600, "MaxAssignments": 1, "Question": "<x/>"}),
    ("ListHITs", {}),
    ("ApproveAssignment", {"AssignmentId": "1"}),
    ("GetAccountBalance", {}),
]  # fmt: skip


@pytest.mark.parametrize(("operation", "body"), CALLS)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "AWS4-HMAC-SHA256 Credential=AKIAFAKE/20260101/us-east-1/mturk-requester/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    ],
)
def test_an_unsigned_or_forged_mturk_call_is_refused_and_changes_nothing(
    world: World, operation: str, body: dict, authorization: str | None
) -> None:
    before = digest()
    headers = {"HTTP_X_AMZ_TARGET": TARGET + operation, "HTTP_X_AMZ_DATE": "20260101T000000Z"}
    if authorization:
        headers["HTTP_AUTHORIZATION"] = authorization
    response = Client().post("/mturk/", json.dumps(body), content_type="application/x-amz-json-1.1", **headers)

    assert 400 <= response.status_code < 500
    error = json.loads(response.content)
    assert error["__type"] and error["Message"] and error["TurkErrorCode"]
    assert changed(before, digest()) == []


def test_an_external_submit_with_a_guessed_assignment_id_is_refused_and_changes_nothing(world: World) -> None:
    before = digest()
    for guess in ("", str(world.accepted.pk), "1", "A" * 30):
        response = Client().post("/mturk/externalSubmit", {"assignmentId": guess, "answer": "yes"})
        assert 400 <= response.status_code < 500, guess
    assert changed(before, digest()) == []


def test_an_unsigned_stripe_webhook_is_refused_and_changes_nothing(world: World, fake_stripe) -> None:  # type: ignore[no-untyped-def]
    before = digest()
    payload = json.dumps({"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {}}})
    for signature in (None, "t=1,v1=" + "0" * 64):
        extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
        response = Client().post("/webhooks/stripe/", payload, content_type="application/json", **extra)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "webhook_signature_invalid"
    assert changed(before, digest()) == []
