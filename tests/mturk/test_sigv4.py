"""SigV4 verification on its own, with requests built by Django's RequestFactory."""

import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.test import RequestFactory

from accounts import services as account_services
from mturk.protocol import MTurkError
from mturk.sigv4 import verify_request
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def signed_request(
    key_id: str, secret: str, body: bytes, *, host_header: bool = True, scope_service: str = "mturk-requester"
):
    aws = AWSRequest(
        method="POST",
        url="http://testserver/mturk/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "MTurkRequesterServiceV20170117.ListHITs",
        },
    )
    SigV4Auth(Credentials(key_id, secret), scope_service, "eu-central-1").add_auth(aws)
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in aws.headers.items()}
    meta.pop("HTTP_CONTENT_TYPE")
    if host_header:
        meta["HTTP_HOST"] = "testserver"
    return RequestFactory().post("/mturk/", data=body, content_type="application/x-amz-json-1.1", **meta)


@pytest.fixture
def key_and_secret():
    organisation = OrganisationFactory()
    created = account_services.api_key_create(organisation=organisation, created_by=organisation.staff.get().user)
    return created.key, created.secret


def test_a_signature_made_by_botocore_verifies_in_any_region(key_and_secret) -> None:
    key, secret = key_and_secret
    signed = verify_request(signed_request(key.access_key_id, secret, b"{}"), b"{}")
    assert (signed.key, signed.region) == (key, "eu-central-1")


def test_a_client_without_a_host_header_is_verified_against_the_server_name(key_and_secret) -> None:
    key, secret = key_and_secret
    request = signed_request(key.access_key_id, secret, b"{}", host_header=False)
    assert "HTTP_HOST" not in request.META
    assert verify_request(request, b"{}").key == key


def test_another_service_scope_or_body_is_refused(key_and_secret) -> None:
    key, secret = key_and_secret
    with pytest.raises(MTurkError, match="credential scope must be"):
        verify_request(signed_request(key.access_key_id, secret, b"{}", scope_service="s3"), b"{}")
    with pytest.raises(MTurkError, match="does not match"):
        verify_request(signed_request(key.access_key_id, secret, b"{}"), b'{"MaxResults": 1}')


def test_a_key_over_its_rate_is_throttled_in_a_shape_botocore_retries(key_and_secret, settings) -> None:
    from django.test import Client

    from accounts.models import ApiKey

    settings.MTURK_RATE_PER_KEY = "2/m"
    key, secret = key_and_secret
    client = Client()

    def call():  # type: ignore[no-untyped-def]
        request = signed_request(key.access_key_id, secret, b"{}")
        headers = {k: v for k, v in request.META.items() if k.startswith("HTTP_")}
        return client.post("/mturk/", data=b"{}", content_type="application/x-amz-json-1.1", **headers)

    assert [call().status_code for _ in range(2)] == [200, 200]
    used = ApiKey.objects.get(pk=key.pk).last_used_at
    throttled = call()
    answer = json.loads(throttled.content)
    assert throttled.status_code == 400
    assert answer["__type"] == "ThrottlingException"
    assert answer["TurkErrorCode"] == "AWS.MechanicalTurk.Throttled"
    assert ApiKey.objects.get(pk=key.pk).last_used_at == used  # refused before anything was done


def test_botocore_treats_the_throttling_answer_as_retryable() -> None:
    from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

    context = RetryContext(attempt_number=1, parsed_response={"Error": {"Code": "ThrottlingException"}})
    assert ThrottledRetryableChecker().is_retryable(context)
