"""The MTurk endpoint in-process on PostgreSQL: SigV4-signed calls (signature check,
dispatch over the service model, the operation, the answer shaped by the model) through
Django's test client, against the trivial /ping/ view through the same client.

Figures are the median time per call over a fixed number of calls.
"""

import json
import statistics
import time
from typing import Any

CALLS = 200
HITS = 150  # ListHITs answers pages of 100 HITs


def _seed() -> tuple[Any, str, str]:
    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from ledger.accounts import external_bank, org_available
    from ledger.services import transfer

    def person(name: str, staff: bool = False) -> User:
        user = User.objects.create_user(username=name, email=f"{name}@mturk.bench", password="x" * 20, is_staff=staff)
        WorkerProfile.objects.create(user=user)
        return user

    staff = person("mturk-bench-staff", staff=True)
    owner = person("mturk-bench-owner")
    organisation = accounts_services.organisation_create(
        owner=owner, legal_name="MTurk Bench", display_name="MTurk Bench", country="DE", contact_email="m@b.example"
    )
    accounts_services.organisation_verify(organisation=organisation, verified_by=staff, legal_name="MTurk Bench")
    transfer(
        transfer_id="mturk-bench:deposit",
        debit=external_bank(),
        credit=org_available(organisation),
        amount=1_000_000_000,
        code="deposit",
    )
    created = accounts_services.api_key_create(organisation=organisation, created_by=owner)
    return organisation, created.key.access_key_id, created.secret


def _hit_params(index: int) -> dict[str, Any]:
    return {
        "MaxAssignments": 3,
        "LifetimeInSeconds": 86_400,
        "AssignmentDurationInSeconds": 600,
        "Reward": "0.50",
        "Title": f"Bench HIT {index % 5}",
        "Keywords": "bench, estimated-minutes:2",
        "Description": "Bench.\nPurpose: measuring the endpoint.\nData use: discarded after the run.",
        "Question": (
            "<HTMLQuestion><HTMLContent><![CDATA[<form><input name='a' required></form>]]></HTMLContent>"
            "<FrameHeight>400</FrameHeight></HTMLQuestion>"
        ),
    }


def _timed(call: Any, count: int) -> float:
    samples = []
    for index in range(count):
        started = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def run() -> list[dict[str, str]]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from django.test import Client

    _, key_id, secret = _seed()
    client = Client()
    credentials = Credentials(key_id, secret)

    def signed(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(params).encode()
        request = AWSRequest(
            method="POST",
            url="http://testserver/mturk/",
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"MTurkRequesterServiceV20170117.{operation}",
            },
        )
        SigV4Auth(credentials, "mturk-requester", "us-east-1").add_auth(request)
        extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in request.headers.items()}
        extra.pop("HTTP_CONTENT_TYPE", None)
        extra["HTTP_HOST"] = "testserver"
        response = client.post("/mturk/", data=body, content_type="application/x-amz-json-1.1", **extra)
        if response.status_code != 200:
            raise RuntimeError(f"{operation}: {response.content!r}")
        return dict(json.loads(response.content))

    ping = _timed(lambda _: client.get("/ping/"), CALLS)
    balance = _timed(lambda _: signed("GetAccountBalance", {}), CALLS)
    create = _timed(lambda index: signed("CreateHIT", _hit_params(index)), HITS)
    listing = _timed(lambda _: signed("ListHITs", {"MaxResults": 100}), 50)

    def row(what: str, figure: float, goal: str) -> dict[str, str]:
        return {
            "what": what,
            "figure": f"{figure:.2f} ms",
            "reference": f"/ping/ {ping:.2f} ms",
            "ratio": f"{figure / ping:.1f}x",
            "goal": goal,
        }

    return [
        row("MTurk GetAccountBalance (SigV4 verify + dispatch), median", balance, "< 20 ms"),
        row("MTurk CreateHIT, 3 assignments escrowed, median", create, "< 300 ms (MTurk: a few hundred ms)"),
        row("MTurk ListHITs, page of 100 HITs, median", listing, "< 150 ms"),
    ]
