"""The wire protocol: SigV4 verification, MTurk's error shape, the service model as the
contract. Through boto3 against a live server, and raw HTTP where boto3 cannot misbehave."""

import datetime as dt
import json

import botocore.auth
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from accounts import services as account_services
from accounts.models import ApiKey
from mturk import operations, protocol
from mturk.models import Hit, HitType
from tasks.models import Batch
from tests.ledger.factories import fund
from tests.mturk.conftest import client_for, live
from tests.mturk.helpers import available, error_of, hit_params

TARGET = "MTurkRequesterServiceV20170117."


def signed_post(url: str, key_id: str, secret: str, operation: str, body: bytes) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + operation},
    )
    SigV4Auth(Credentials(key_id, secret), "mturk-requester", "us-east-1").add_auth(request)
    return request


def send(request: AWSRequest, *, body: bytes | None = None) -> requests.Response:
    return requests.post(request.url, data=body if body is not None else request.body, headers=dict(request.headers))


def test_every_operation_of_the_service_model_has_a_handler() -> None:
    names = protocol.operation_names()
    assert len(names) == 39
    assert sorted(operations.HANDLERS) == sorted(names)


def test_output_members_outside_the_model_are_refused() -> None:
    operation = protocol.service_model().operation_model("GetAccountBalance")
    assert protocol.shape_output(operation, {"AvailableBalance": "1.00"}) == {"AvailableBalance": "1.00"}
    with pytest.raises(ValueError, match="'Currency' is not a member"):
        protocol.shape_output(operation, {"AvailableBalance": "1.00", "Currency": "EUR"})


def test_timestamps_leave_as_epoch_seconds() -> None:
    operation = protocol.service_model().operation_model("GetHIT")
    moment = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    assert protocol.shape_output(operation, {"HIT": {"CreationTime": moment}}) == {
        "HIT": {"CreationTime": moment.timestamp()}
    }


@live
def test_a_signed_call_works_and_records_the_key_use(mturk, organisation, keys) -> None:
    fund(organisation, 12_345)
    answer = mturk.get_account_balance()
    assert answer.pop("ResponseMetadata")["HTTPStatusCode"] == 200
    assert answer == {"AvailableBalance": "123.45", "OnHoldBalance": "0.00"}
    assert ApiKey.objects.get(access_key_id=keys[0]).last_used_at is not None


@live
def test_a_wrong_secret_is_refused_and_creates_nothing(live_server, organisation, keys) -> None:
    fund(organisation, 1_000)
    client = client_for(live_server.url, keys[0], keys[1][:-1] + ("x" if keys[1][-1] != "x" else "y"))

    with pytest.raises(ClientError) as excinfo:
        client.create_hit(**hit_params())

    error = error_of(excinfo)
    assert error["type"] == "RequestError"
    assert error["turk"] == "AWS.MechanicalTurk.InvalidSignature"
    assert error["status"] == 400
    assert "signature we calculated does not match" in error["message"]
    assert (Hit.objects.count(), HitType.objects.count(), Batch.objects.count()) == (0, 0, 0)
    assert available(organisation) == 1_000


@live
def test_an_unknown_or_revoked_key_is_refused(live_server, organisation, owner, keys) -> None:
    with pytest.raises(ClientError) as excinfo:
        client_for(live_server.url, "CKUNKNOWNUNKNOWN2345", keys[1]).get_account_balance()
    assert error_of(excinfo)["turk"] == "AWS.NotAuthorized"

    account_services.api_key_revoke(key=ApiKey.objects.get(access_key_id=keys[0]), actor=owner)
    with pytest.raises(ClientError) as excinfo:
        client_for(live_server.url, *keys).get_account_balance()
    error = error_of(excinfo)
    assert error["turk"] == "AWS.NotAuthorized"
    assert "unknown or revoked" in error["message"]


@live
def test_a_stale_signature_is_refused(live_server, keys, monkeypatch) -> None:
    stale = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: stale)

    with pytest.raises(ClientError) as excinfo:
        client_for(live_server.url, *keys).get_account_balance()

    error = error_of(excinfo)
    assert error["turk"] == "AWS.MechanicalTurk.RequestExpired"
    assert "more than 15 minutes" in error["message"]


@live
def test_a_body_changed_after_signing_is_refused(live_server, organisation, keys) -> None:
    fund(organisation, 1_000)
    url = live_server.url + "/mturk/"
    body = json.dumps(hit_params(MaxAssignments=1)).encode()
    request = signed_post(url, *keys, "CreateHIT", body)

    response = send(request, body=json.dumps(hit_params(MaxAssignments=9)).encode())

    assert response.status_code == 400
    assert response.json()["__type"] == "RequestError"
    assert response.json()["TurkErrorCode"] == "AWS.MechanicalTurk.InvalidSignature"
    assert Batch.objects.count() == 0
    assert available(organisation) == 1_000
    # The untouched request is accepted: the refusal was the tampering.
    assert send(request).status_code == 200
    assert Batch.objects.count() == 1


@live
def test_unsigned_requests_and_other_methods_get_the_error_shape(live_server) -> None:
    url = live_server.url + "/mturk/"
    unsigned = requests.post(url, data=b"{}", headers={"X-Amz-Target": TARGET + "GetAccountBalance"})
    assert unsigned.status_code == 400
    assert unsigned.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert unsigned.json()["TurkErrorCode"] == "AWS.NotAuthorized"

    fetched = requests.get(url)
    assert fetched.status_code == 400
    assert fetched.json()["__type"] == "RequestError"


@live
def test_unknown_operations_and_bad_parameters_are_refused_by_the_model(live_server, keys) -> None:
    url = live_server.url + "/mturk/"
    unknown = send(signed_post(url, *keys, "LaunchRockets", b"{}"))
    assert unknown.status_code == 400
    assert "Unknown operation" in unknown.json()["Message"]

    missing = send(signed_post(url, *keys, "GetHIT", b"{}"))
    assert missing.status_code == 400
    assert "Missing required parameter" in missing.json()["Message"]
    assert "HITId" in missing.json()["Message"]

    wrong_type = send(signed_post(url, *keys, "GetHIT", json.dumps({"HITId": 12}).encode()))
    assert wrong_type.status_code == 400
    assert "Invalid type for parameter HITId" in wrong_type.json()["Message"]

    not_json = send(signed_post(url, *keys, "GetAccountBalance", b"{not json"))
    assert not_json.json()["Message"] == "The request body is not JSON."


@live
def test_a_missing_object_answers_with_the_error_shape_never_a_500(mturk) -> None:
    with pytest.raises(ClientError) as excinfo:
        mturk.get_hit(HITId="123456")
    error = error_of(excinfo)
    assert error == {
        "type": "RequestError",
        "message": "No such HIT (or it is not yours).",
        "turk": "AWS.MechanicalTurk.ObjectDoesNotExist",
        "status": 400,
    }


@live
@pytest.mark.parametrize("token", [{}, {"UniqueRequestToken": "fault"}])
def test_an_unexpected_failure_is_a_service_fault_and_rolls_back(mturk, organisation, monkeypatch, token) -> None:
    fund(organisation, 1_000)

    def broken(caller, params):
        operations.create_hit(caller, params)
        raise RuntimeError("bug after the HIT was written")

    monkeypatch.setitem(operations.HANDLERS, "CreateHIT", broken)
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(**token))

    error = error_of(excinfo)
    assert (error["type"], error["status"], error["turk"]) == ("ServiceFault", 500, "AWS.ServiceUnavailable")
    assert "bug" not in error["message"]
    assert (Batch.objects.count(), HitType.objects.count()) == (0, 0)
    assert available(organisation) == 1_000
