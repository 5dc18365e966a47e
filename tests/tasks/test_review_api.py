"""The requester's review through the REST API: approve, bulk approve, reject with a
reason, bonus; and the rule that a requester reads only escrow-backed work and
exports only paid work, on every read path."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from core.models import AuditEvent
from ledger import accounts
from ledger.escrow import balance, escrow_status
from tasks import services
from tasks.models import Assignment, Batch, Bonus
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.tasks.factories import available, earnings, published_batch

pytestmark = pytest.mark.django_db


def submitted(batch: Batch, worker: User | None = None, answer: str = "yes") -> Assignment:
    worker = worker or UserFactory()
    assignment = services.assignment_accept(worker=worker, batch=batch)
    return services.assignment_submit(worker=worker, assignment=assignment, answers={"answer": answer})


def test_approve_pays_reward_to_worker_and_fee_to_coop(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    fees_before = balance(accounts.coop_fees()).posted
    response = requester_api.post(
        f"/api/batches/{batch.pk}/submissions/{work.pk}/approve/", {"feedback": "Thanks!"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert earnings(work.worker) == 50
    assert balance(accounts.coop_fees()).posted - fees_before == 5
    assert escrow_status([work.escrow_key]) == {work.escrow_key: "posted"}
    # Approving twice is refused and pays nothing more.
    again = requester_api.post(f"/api/batches/{batch.pk}/submissions/{work.pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert earnings(work.worker) == 50


def test_approve_before_submission_is_refused(
    requester_api: APIClient, organisation: Organisation, worker: User
) -> None:
    batch = published_batch(organisation)
    accepted = services.assignment_accept(worker=worker, batch=batch)
    response = requester_api.post(f"/api/batches/{batch.pk}/submissions/{accepted.pk}/approve/", {}, format="json")
    assert response.status_code == 404
    accepted.refresh_from_db()
    assert accepted.status == Assignment.Status.ACCEPTED and earnings(worker) == 0


def test_bulk_approve_is_all_or_nothing(requester_api: APIClient, organisation: Organisation, worker: User) -> None:
    batch = published_batch(organisation)
    first, second = submitted(batch), submitted(batch)
    open_slot = Assignment.objects.filter(batch=batch, status=Assignment.Status.OPEN).first()
    response = requester_api.post(
        f"/api/batches/{batch.pk}/approve/", {"assignment_ids": [first.pk, open_slot.pk]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"assignment_ids": [open_slot.pk]}
    assert Assignment.objects.filter(status=Assignment.Status.APPROVED).count() == 0
    response = requester_api.post(
        f"/api/batches/{batch.pk}/approve/", {"assignment_ids": [first.pk, second.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"approved": 2}
    assert earnings(first.worker) == 50 and earnings(second.worker) == 50
    assert AuditEvent.objects.filter(action="assignment.bulk_approved").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "incomplete", "text": " "}, "text"),
        ({"reason": "because", "text": "Bad."}, "reason"),
        ({"text": "Bad."}, "reason"),
    ],
)
def test_reject_needs_a_published_reason_and_text(
    requester_api: APIClient, organisation: Organisation, body: dict, field: str
) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    response = requester_api.post(f"/api/batches/{batch.pk}/submissions/{work.pk}/reject/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    work.refresh_from_db()
    assert work.status == Assignment.Status.SUBMITTED


def test_rejection_is_provisional_and_keeps_escrow(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    response = requester_api.post(
        f"/api/batches/{batch.pk}/submissions/{work.pk}/reject/",
        {"reason": "failed_gold_question", "text": "Item 3 is a known cat."},
        format="json",
    )
    assert response.status_code == 200, response.content
    work.refresh_from_db()
    assert work.status == Assignment.Status.REJECTED
    assert work.rejection_final_at == work.rejected_at + __import__("datetime").timedelta(days=7)
    assert escrow_status([work.escrow_key]) == {work.escrow_key: "pending"}
    assert earnings(work.worker) == 0
    # The worker sees the reason on their own assignment.
    from tests.tasks.conftest import client_for

    mine = client_for(work.worker).get(f"/api/assignments/{work.pk}/").json()
    assert (mine["rejection_reason"], mine["rejection_text"]) == ("failed_gold_question", "Item 3 is a known cat.")


def test_settle_outcome_and_finalise_for_disputes(organisation: Organisation) -> None:
    batch = published_batch(organisation)
    partly, upheld = submitted(batch), submitted(batch)
    owner = organisation.staff.get().user
    for work in (partly, upheld):
        services.assignment_reject(actor=owner, assignment=work, reason="incomplete", text="Half empty.")
    services.assignment_rejection_dispute(assignment=partly)
    services.assignment_settle_outcome(assignment=partly, share_bps=5_000)
    services.assignment_settle_outcome(assignment=upheld, share_bps=0)
    partly.refresh_from_db()
    upheld.refresh_from_db()
    assert (partly.status, partly.settled_share_bps) == ("settled", 5_000)
    assert upheld.status == Assignment.Status.REFUNDED
    assert earnings(partly.worker) == 25 and earnings(upheld.worker) == 0
    # Unclaimed 2 slots stay reserved; the unpaid half of one slot (55 - 25 - 3) and all of the other came back.
    assert available(organisation) == 27 + 55
    # Settling again is refused.
    with pytest.raises(Exception) as caught:
        services.assignment_settle_outcome(assignment=partly, share_bps=10_000)
    assert getattr(caught.value, "code", None) == "invalid_state"
    assert earnings(partly.worker) == 25


def test_bonus_is_paid_from_available_balance(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    url = f"/api/batches/{batch.pk}/submissions/{work.pk}/bonus/"
    response = requester_api.post(url, {"amount": 30, "reason": "Great comments.", "token": "t1"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert Bonus.objects.count() == 0
    fund(organisation, 30)
    response = requester_api.post(url, {"amount": 30, "reason": "Great comments.", "token": "t1"}, format="json")
    assert response.status_code == 201, response.content
    again = requester_api.post(url, {"amount": 30, "reason": "Great comments.", "token": "t1"}, format="json")
    assert again.status_code == 201 and again.json()["id"] == response.json()["id"]
    assert earnings(work.worker) == 30 and available(organisation) == 0
    assert requester_api.post(url, {"amount": -1, "reason": "x"}, format="json").status_code == 400
    assert requester_api.post(url, {"amount": 1, "reason": " "}, format="json").status_code == 400
    assert Bonus.objects.count() == 1


def test_submissions_list_shows_pseudonyms_and_only_escrow_backed_work(
    requester_api: APIClient, organisation: Organisation, worker: User
) -> None:
    batch = published_batch(organisation)
    approved, rejected, waiting = submitted(batch, worker), submitted(batch), submitted(batch)
    services.assignment_accept(worker=UserFactory(), batch=batch)  # accepted: nothing to read yet
    owner = organisation.staff.get().user
    services.assignment_approve(actor=owner, assignment=approved)
    services.assignment_reject(actor=owner, assignment=rejected, reason="incomplete", text="Empty.")
    response = requester_api.get(f"/api/batches/{batch.pk}/submissions/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["id"], r["status"]) for r in rows] == [
        (approved.pk, "approved"),
        (rejected.pk, "rejected"),
        (waiting.pk, "submitted"),
    ]
    assert rows[0]["worker"] == worker.pseudonym
    assert worker.username not in response.content.decode()
    services.assignment_rejection_finalise(assignment=rejected)
    rows = requester_api.get(f"/api/batches/{batch.pk}/submissions/").json()["results"]
    assert [r["id"] for r in rows] == [approved.pk, waiting.pk]
    assert requester_api.get(f"/api/batches/{batch.pk}/submissions/{rejected.pk}/").status_code == 404


def test_a_submission_whose_escrow_was_voided_is_never_shown(
    requester_api: APIClient, organisation: Organisation
) -> None:
    """Even if a row says "submitted", a slot without escrow behind it stays invisible."""
    from ledger.escrow import escrow_return

    batch = published_batch(organisation)
    work = submitted(batch)
    escrow_return(key=work.escrow_key)
    assert requester_api.get(f"/api/batches/{batch.pk}/submissions/").json()["results"] == []
    assert requester_api.get(f"/api/batches/{batch.pk}/submissions/{work.pk}/").status_code == 404
    assert requester_api.post(f"/api/batches/{batch.pk}/submissions/{work.pk}/approve/", {}).status_code == 404


def test_exports_contain_only_paid_work(requester_api: APIClient, organisation: Organisation, worker: User) -> None:
    batch = published_batch(organisation)
    owner = organisation.staff.get().user
    paid = submitted(batch, worker, answer="yes")
    rejected, waiting = submitted(batch, answer="no"), submitted(batch, answer="no")
    services.assignment_approve(actor=owner, assignment=paid, feedback="ok")
    services.assignment_reject(actor=owner, assignment=rejected, reason="incomplete", text="Empty.")

    response = requester_api.get(f"/api/batches/{batch.pk}/export/csv/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["AssignmentId"] == str(paid.pk)
    assert row["WorkerId"] == worker.pseudonym
    assert row["AssignmentStatus"] == "Approved"
    assert row["Input.animal"] in {"cat", "dog"}
    assert row["Answer.answer"] == "yes" and row["Answer.comment"] == ""
    assert row["RequesterFeedback"] == "ok"
    assert row["Reward"] == "0.50 EUR"

    data = requester_api.get(f"/api/batches/{batch.pk}/export/json/").json()
    assert [r["AssignmentId"] for r in data["results"]] == [str(paid.pk)]
    assert "Input.image_url" in data["columns"] and "Answer.answer" in data["columns"]
    assert str(rejected.pk) not in response.content.decode().split("\n", 1)[1].split(",")[11:12]
    assert waiting.pk != paid.pk


def test_other_requesters_cannot_review(organisation: Organisation, other_organisation: Organisation) -> None:
    from tests.tasks.conftest import client_for

    batch = published_batch(organisation)
    work = submitted(batch)
    outsider = client_for(other_organisation.staff.get().user)
    assert outsider.get(f"/api/batches/{batch.pk}/submissions/").status_code == 404
    assert outsider.post(f"/api/batches/{batch.pk}/submissions/{work.pk}/approve/", {}).status_code == 404
    assert outsider.get(f"/api/batches/{batch.pk}/export/csv/").status_code == 404
    assert client_for(work.worker).get(f"/api/batches/{batch.pk}/submissions/").status_code == 404
    work.refresh_from_db()
    assert work.status == Assignment.Status.SUBMITTED


def test_batch_completes_when_every_slot_is_reviewed(organisation: Organisation) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    owner = organisation.staff.get().user
    first, second = submitted(batch), submitted(batch)
    services.assignment_approve(actor=owner, assignment=first)
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.PUBLISHED
    services.assignment_reject(actor=owner, assignment=second, reason="incomplete", text="Empty.")
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED


def test_exports_trust_the_ledger_not_the_status(requester_api: APIClient, organisation: Organisation) -> None:
    """A row marked approved whose escrow was never posted is not paid work: not exported."""
    batch = published_batch(organisation)
    work = submitted(batch)
    Assignment.objects.filter(pk=work.pk).update(status=Assignment.Status.APPROVED)
    assert requester_api.get(f"/api/batches/{batch.pk}/export/json/").json()["results"] == []
    csv_rows = list(
        csv.DictReader(io.StringIO(requester_api.get(f"/api/batches/{batch.pk}/export/csv/").content.decode()))
    )
    assert csv_rows == []


def test_review_refusals_change_nothing(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    owner = organisation.staff.get().user
    approved = submitted(batch)
    services.assignment_approve(actor=owner, assignment=approved)
    base = f"/api/batches/{batch.pk}/submissions/{approved.pk}"
    response = requester_api.post(
        f"{base}/reject/", {"reason": "incomplete", "text": "Changed my mind."}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "invalid_state",
        "message": "This cannot be done to this assignment now. Its state: Approved.",
        "details": {"state": "approved", "action": "rejected"},
    }
    approved.refresh_from_db()
    assert approved.status == Assignment.Status.APPROVED and approved.rejected_at is None
    assert earnings(approved.worker) == 50
    # Input cannot be replaced once the batch is published.
    response = requester_api.put(
        f"/api/batches/{batch.pk}/input/", {"format": "csv", "content": "animal,image_url\nfox,u\n"}, format="json"
    )
    assert response.status_code == 409
    assert batch.tasks.count() == 2


def test_worker_cannot_return_submitted_work(organisation: Organisation, worker: User) -> None:
    from tests.tasks.conftest import client_for

    batch = published_batch(organisation)
    work = submitted(batch, worker)
    response = client_for(worker).post(f"/api/assignments/{work.pk}/return/")
    assert response.status_code == 409
    work.refresh_from_db()
    assert work.status == Assignment.Status.SUBMITTED and work.worker == worker
