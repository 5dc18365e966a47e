"""Issue 19, point 13: a person downloads all their data (JSON in a zip, page and API) and
can ask for erasure, which pseudonymises them everywhere while the ledger and the audit
trail stay intact; refused, with the reasons and nothing changed, while money or duties
are open."""

import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, User, WorkerProfile, WorkerProfileChange
from accounts.services import membership_join, worker_profile_update
from core.models import AuditEvent
from governance import services as governance_services
from ledger.models import Transfer
from ledger.selectors import ledger_check, worker_balance
from payouts import services as payout_services
from tasks import services as task_services
from tests.factories import PASSWORD, signed_in_now
from tests.governance.factories import members, policy
from tests.payouts.factories import VALID_IBAN, destination_settled, earn, worker_in
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db


def _zip(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_a_person_downloads_all_their_data(api: APIClient, organisation: Any) -> None:
    worker = worker_in("KE")
    worker_profile_update(user=worker, changes={"languages": ["sw", "en"]})
    batch = published_batch(organisation)
    assignment = task_services.assignment_accept(worker=worker, batch=batch)
    task_services.assignment_submit(worker=worker, assignment=assignment, answers={"answer": "yes", "comment": ""})
    api.force_authenticate(worker)
    response = api.get("/api/me/data/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    files = _zip(response.content)
    assert {"README.txt", "account.json", "work.json", "payouts.json", "disputes.json", "governance.json"} <= set(files)
    account = json.loads(files["account.json"])
    assert account["account"]["username"] == worker.username and account["account"]["email"] == worker.email
    assert account["profile"]["languages"] == ["sw", "en"]
    assert [row["field"] for row in account["profile"]["history"]] == ["languages"]
    work = json.loads(files["work.json"])
    assert [(row["id"], row["answers"]) for row in work["assignments"]] == [
        (assignment.pk, {"answer": "yes", "comment": ""})
    ]
    page = Client()
    page.force_login(worker)
    assert _zip(page.get("/account/data/download/").content).keys() == files.keys()


def _state(user: User) -> tuple[Any, ...]:
    user.refresh_from_db()
    return (
        user.username,
        user.email,
        user.is_active,
        list(WorkerProfile.objects.filter(user=user).values()),
        AuditEvent.objects.count(),
    )


def test_erasure_is_refused_while_the_person_has_money_to_be_paid(api: APIClient) -> None:
    worker = worker_in("DE")
    earn(worker, 2_500)
    api.force_authenticate(worker)
    before = _state(worker)
    status = api.get("/api/me/erasure/").json()
    assert status["can_erase"] is False and "balance" in status["reasons"][0]
    refused = api.post("/api/me/erasure/", {"password": PASSWORD}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "erasure_refused"
    assert refused.json()["error"]["details"]["reasons"] == status["reasons"]
    assert _state(worker) == before
    assert ledger_check() == []


def test_erasure_needs_the_password(api: APIClient) -> None:
    worker = worker_in("DE")
    api.force_authenticate(worker)
    before = _state(worker)
    assert api.post("/api/me/erasure/", {"password": "wrong"}, format="json").status_code == 403
    assert _state(worker) == before


def test_erasure_pseudonymises_everywhere_and_keeps_the_books(api: APIClient) -> None:
    worker = worker_in("DE")
    earn(worker, 2_500)
    payout_services.payout_method_set(
        user=worker,
        rail="sepa",
        details={"iban": VALID_IBAN, "account_holder": "Ana Worker"},
        fresh_sign_in=signed_in_now(worker),
    )
    destination_settled(worker)
    payout = payout_services.payout_request(user=worker)
    payout_services.payout_pay(payout_id=payout.pk)  # paid out: nothing left to lose
    membership_join(user=worker)
    worker_profile_update(user=worker, changes={"demographics": {"age_range": "30-39"}})
    (author,) = members(1)
    proposal = policy(author)
    governance_services.proposal_open_discussion(proposal=proposal, actor=author)
    mention = governance_services.comment_add(
        proposal=proposal, author=author, body=f"As {worker.username} said, pay must rise."
    )
    old_username, old_email, pk = worker.username, worker.email, worker.pk
    audit_rows = AuditEvent.objects.count()
    transfers = list(Transfer.objects.order_by("id").values_list("id", "amount"))

    api.force_authenticate(worker)
    erased = api.post("/api/me/erasure/", {"password": PASSWORD}, format="json")

    assert erased.status_code == 200, erased.json()
    worker = User.objects.get(pk=pk)
    label = f"erased-{worker.pseudonym.lower()}"
    assert (worker.username, worker.email, worker.is_active) == (label, f"{label}@erased.invalid", False)
    assert not worker.has_usable_password()
    profile = WorkerProfile.objects.get(user=worker)
    assert (profile.country, profile.languages, profile.demographics) == ("", [], {})
    assert set(WorkerProfileChange.objects.filter(profile=profile).values_list("old_value", "new_value")) == {
        (None, None)
    }
    assert Membership.objects.get(user=worker).status == Membership.Status.LEFT
    mention.refresh_from_db()
    assert mention.body == f"As {label} said, pay must rise."
    # Nothing identifying is left in the rows, the audit trail included.
    everything = json.dumps(list(AuditEvent.objects.values("before", "after")), default=str)
    assert old_username not in everything and old_email not in everything
    # The books and the audit trail are intact: every row kept, one more saying it happened.
    assert list(Transfer.objects.order_by("id").values_list("id", "amount")) == transfers
    assert AuditEvent.objects.count() == audit_rows + 1
    assert AuditEvent.objects.filter(action="person.erased", target_id=str(pk)).exists()
    assert worker_balance(user=worker) is not None and ledger_check() == []
    # The account cannot sign in any more.
    assert not Client().login(username=old_username, password=PASSWORD)
