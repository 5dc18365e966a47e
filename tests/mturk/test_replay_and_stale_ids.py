"""Issue 19 point 3: an external page's AssignmentId is bound to the holder's attempt (a
stale one submits nothing), and a captured signed money call replayed within the skew
window gets the first answer again and pays nothing twice."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError
from django.test import override_settings

from ledger import accounts
from ledger.escrow import balance
from ledger.models import Transfer
from ledger.selectors import ledger_check
from mturk.external import external_task_url
from mturk.ids import assignment_attempt_public_id, assignment_public_id
from mturk.models import Hit
from tasks import services as task_services
from tasks.models import Assignment, AssignmentAttempt, Bonus
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import EXTERNAL_QUESTION, available, error_of, hit_params

pytestmark = [live]


def _page_assignment_id(slot: Assignment, live_server: Any) -> str:
    with override_settings(SITE_URL=live_server.url):
        url = external_task_url(assignment=slot)
    return parse_qs(urlsplit(url).query)["assignmentId"][0]


def test_a_stale_assignment_id_after_the_slot_changed_hands_submits_nothing(mturk, organisation, live_server) -> None:
    fund(organisation, 1_000)
    hit = Hit.objects.get(
        hit_id=mturk.create_hit(**hit_params(Question=EXTERNAL_QUESTION, MaxAssignments=1))["HIT"]["HITId"]
    )
    first, second = UserFactory(), UserFactory()
    slot = task_services.assignment_accept(worker=first, batch=hit.batch)
    stale_id = _page_assignment_id(slot, live_server)
    task_services.assignment_return(worker=first, assignment=slot)
    retaken = task_services.assignment_accept(worker=second, batch=hit.batch)
    assert retaken.pk == slot.pk  # the same slot, now someone else's
    current_id = _page_assignment_id(retaken, live_server)
    assert current_id != stale_id
    attempts_before = list(AssignmentAttempt.objects.order_by("pk").values_list("pk", "worker_id", "outcome"))

    response = requests.post(
        live_server.url + "/mturk/externalSubmit", data={"assignmentId": stale_id, "q1": "overwritten"}
    )

    assert response.status_code == 409
    assert "earlier attempt" in response.text
    retaken.refresh_from_db()
    assert (retaken.status, retaken.worker_id, retaken.answers) == ("accepted", second.pk, {})
    assert list(AssignmentAttempt.objects.order_by("pk").values_list("pk", "worker_id", "outcome")) == attempts_before

    # The holder's own id still works.
    ok = requests.post(live_server.url + "/mturk/externalSubmit", data={"assignmentId": current_id, "q1": "mine"})
    assert ok.status_code == 200
    retaken.refresh_from_db()
    assert (retaken.status, retaken.answers) == ("submitted", {"q1": "mine"})


def test_the_requesters_assignment_id_cannot_submit_for_the_worker(mturk, organisation, worker, live_server) -> None:
    fund(organisation, 1_000)
    hit = Hit.objects.get(hit_id=mturk.create_hit(**hit_params(Question=EXTERNAL_QUESTION))["HIT"]["HITId"])
    slot = task_services.assignment_accept(worker=worker, batch=hit.batch)
    forged = assignment_attempt_public_id(slot.pk, 999_999)[:-1] + "8"  # a tag that does not match

    for assignment_id in (assignment_public_id(slot.pk), forged):
        response = requests.post(live_server.url + "/mturk/externalSubmit", data={"assignmentId": assignment_id})
        assert response.status_code == 404
    slot.refresh_from_db()
    assert (slot.status, slot.answers) == ("accepted", {})
    # The page's attempt-bound id submits, and names the slot in the requester's own calls.
    page_id = _page_assignment_id(slot, live_server)
    assert (
        requests.post(live_server.url + "/mturk/externalSubmit", data={"assignmentId": page_id, "q1": "x"}).status_code
        == 200
    )
    assert mturk.get_assignment(AssignmentId=page_id)["HIT"]["HITId"] == hit.hit_id


class _Capture:
    """Keeps the signed bytes of each request boto3 sends, as an eavesdropper would."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, request: Any, **kwargs: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        self.requests.append((request.url, dict(request.headers.items()), body))

    def replay(self, index: int = -1) -> requests.Response:
        url, headers, body = self.requests[index]
        return requests.post(url, data=body, headers=headers)


def _submitted(mturk: Any, worker: Any) -> tuple[Hit, Assignment]:
    hit = Hit.objects.get(hit_id=mturk.create_hit(**hit_params())["HIT"]["HITId"])
    slot = task_services.assignment_accept(worker=worker, batch=hit.batch)
    slot = task_services.assignment_submit(worker=worker, assignment=slot, answers={"cat": "yes"})
    return hit, slot


def test_a_replayed_send_bonus_without_token_gets_the_first_answer_and_pays_once(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    _, slot = _submitted(mturk, worker)
    capture = _Capture()
    mturk.meta.events.register("before-send.mturk.SendBonus", capture)

    first = mturk.send_bonus(
        WorkerId=worker.pseudonym, BonusAmount="1.25", AssignmentId=assignment_public_id(slot.pk), Reason="Thanks"
    )
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    paid = (balance(accounts.worker_earnings(worker)).posted, available(organisation), Transfer.objects.count())

    for _ in range(3):
        again = capture.replay()
        assert again.status_code == 200
        assert again.json() == {}

    assert Bonus.objects.count() == 1
    assert (balance(accounts.worker_earnings(worker)).posted, available(organisation), Transfer.objects.count()) == paid
    assert paid[0] == 125
    assert ledger_check() == []


def test_a_replayed_approve_gets_the_first_answer_not_an_error_and_pays_once(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    _, slot = _submitted(mturk, worker)
    capture = _Capture()
    mturk.meta.events.register("before-send.mturk.ApproveAssignment", capture)
    mturk.approve_assignment(AssignmentId=assignment_public_id(slot.pk))
    earned = balance(accounts.worker_earnings(worker)).posted
    transfers = Transfer.objects.count()

    again = capture.replay()

    assert (again.status_code, again.json()) == (200, {})
    assert balance(accounts.worker_earnings(worker)).posted == earned == 50
    assert Transfer.objects.count() == transfers
    assert ledger_check() == []


def test_a_refused_call_is_not_remembered_so_its_retry_runs_once(mturk, organisation, worker) -> None:
    fund(organisation, 110)  # exactly the HIT's escrow: nothing left for a bonus
    _, slot = _submitted(mturk, worker)
    capture = _Capture()
    mturk.meta.events.register("before-send.mturk.SendBonus", capture)
    with pytest.raises(ClientError) as excinfo:
        mturk.send_bonus(
            WorkerId=worker.pseudonym, BonusAmount="1.00", AssignmentId=assignment_public_id(slot.pk), Reason="x"
        )
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.InsufficientFunds"
    assert Bonus.objects.count() == 0
    fund(organisation, 100)
    assert capture.replay().status_code == 200  # the retry of a refusal runs
    assert capture.replay().status_code == 200  # and its replay is answered, not paid again
    assert Bonus.objects.count() == 1
    assert balance(accounts.worker_earnings(worker)).posted == 100
    assert ledger_check() == []


def test_a_send_bonus_of_1e3_or_2_pow_63_is_a_request_error_naming_the_field(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    _, slot = _submitted(mturk, worker)
    before = (available(organisation), Transfer.objects.count())
    for amount, message in (
        ("1e3", "BonusAmount: '1e3' is not an amount; write it like 12.50."),
        (str(2**63), "BonusAmount: '9223372036854775808' is not an amount; write it like 12.50."),
        ("10000.01", "BonusAmount must be between 0.01 EUR and 10000.00 EUR."),
    ):
        with pytest.raises(ClientError) as excinfo:
            mturk.send_bonus(
                WorkerId=worker.pseudonym, BonusAmount=amount, AssignmentId=assignment_public_id(slot.pk), Reason="x"
            )
        assert (error_of(excinfo)["status"], error_of(excinfo)["message"]) == (400, message)
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(Reward="1e3"))
    assert error_of(excinfo)["message"].startswith("Reward: '1e3' is not an amount")
    assert Bonus.objects.count() == 0
    assert (available(organisation), Transfer.objects.count()) == before
