"""Offline review by CSV (issue 24 point 4): the file of submissions awaiting review in
MTurk's batch-results shape, applied all or nothing through the review services; bonuses
from a CSV, idempotent; the submissions table's filters and sorting. Through the API."""

import csv
import io
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from core.models import AuditEvent
from ledger.escrow import escrow_status
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


def download(client: APIClient, batch: Batch) -> tuple[list[str], list[dict[str, str]]]:
    response = client.get(f"/api/batches/{batch.pk}/review-file/")
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}-review.csv"'
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    return list(reader.fieldnames or []), list(reader)


def to_csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def upload(client: APIClient, batch: Batch, content: str, kind: str = "review") -> dict:
    response = client.post(f"/api/batches/{batch.pk}/{kind}-file/", {"content": content}, format="json")
    body = response.json()
    return {"status": response.status_code, **body.get("error", body)}


def statuses(batch: Batch) -> dict[int, str]:
    return dict(Assignment.objects.filter(batch=batch).exclude(worker=None).values_list("id", "status"))


def test_download_has_batch_results_shape_and_only_work_awaiting_review(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = published_batch(organisation)
    first, second, third = submitted(batch, answer="yes"), submitted(batch, answer="no"), submitted(batch)
    services.assignment_approve(actor=None, assignment=third)
    columns, rows = download(requester_api, batch)
    assert columns[:3] == ["HITId", "HITTypeId", "Title"]
    assert columns[-2:] == ["Approve", "Reject"]
    assert {"AssignmentId", "WorkerId", "WorkTimeInSeconds", "Input.animal", "Answer.answer"} <= set(columns)
    assert [int(r["AssignmentId"]) for r in rows] == [first.pk, second.pk]
    assert [r["Answer.answer"] for r in rows] == ["yes", "no"]
    assert {r["AssignmentStatus"] for r in rows} == {"Submitted"}
    assert {r["Approve"] + r["Reject"] for r in rows} == {""}
    assert rows[0]["WorkerId"] == first.worker.pseudonym


def test_round_trip_approves_and_rejects_through_the_services(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = published_batch(organisation)
    first, second = submitted(batch), submitted(batch)
    columns, rows = download(requester_api, batch)
    rows[0]["Approve"] = "x"
    rows[1]["Reject"] = "The answer contradicts the picture."
    result = upload(requester_api, batch, to_csv(columns, rows))
    assert result == {"status": 200, "approved": 1, "rejected": 1, "undecided": 0}
    assert statuses(batch) == {first.pk: "approved", second.pk: "rejected"}
    assert earnings(first.worker) == 50
    second.refresh_from_db()
    assert (second.rejection_reason, second.rejection_text) == ("other", "The answer contradicts the picture.")
    # The rejected work's pay stays in escrow until the rejection is final.
    assert escrow_status([second.escrow_key]) == {second.escrow_key: "pending"}
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"assignment.bulk_approved", "assignment.rejected", "assignment.review_file_applied"} <= actions


def test_feedback_and_reason_columns(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    first, second = submitted(batch), submitted(batch)
    content = (
        "AssignmentId,Approve,Reject,RejectionReason\n"
        f"{first.pk},Great work thank you,,\n"
        f"{second.pk},,Half the answers are missing.,incomplete\n"
    )
    assert upload(requester_api, batch, content)["status"] == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.requester_feedback == "Great work thank you"
    assert (second.rejection_reason, second.rejection_text) == ("incomplete", "Half the answers are missing.")


def test_bad_file_lists_every_row_and_applies_nothing(
    requester_api: APIClient, organisation: Organisation, other_organisation: Organisation
) -> None:
    batch = published_batch(organisation, funds=10_000, assignments_per_task=3)
    good, decided, no_reason, duplicated, both = (submitted(batch) for _ in range(5))
    services.assignment_approve(actor=None, assignment=decided)
    foreign = submitted(published_batch(other_organisation))
    before = statuses(batch)
    balance_before, earned_before = available(organisation), earnings(good.worker)
    content = (
        "AssignmentId,Approve,Reject\n"
        f"{good.pk},x,\n"  # row 2: fine on its own
        "999999,x,\n"  # row 3: unknown
        f"{foreign.pk},x,\n"  # row 4: another organisation's
        f"{decided.pk},x,\n"  # row 5: already decided
        f"{no_reason.pk},,x\n"  # row 6: a mark is not a reason
        f"{duplicated.pk},x,\n"  # row 7 and 8: twice
        f"{duplicated.pk},,Wrong.\n"
        f"{both.pk},x,Wrong.\n"  # row 9: both columns
        "abc,x,\n"  # row 10: not an id
    )
    result = upload(requester_api, batch, content)
    assert result["status"] == 400
    assert result["code"] == "review_file_invalid"
    problems = [(e["row"], e["column"]) for e in result["details"]["errors"]]
    assert problems == [
        (3, "AssignmentId"),
        (4, "AssignmentId"),
        (5, "AssignmentId"),
        (6, "Reject"),
        (7, "AssignmentId"),
        (8, "AssignmentId"),
        (9, "Approve"),
        (10, "AssignmentId"),
    ]
    messages = {e["row"]: e["message"] for e in result["details"]["errors"]}
    assert messages[3] == "There is no assignment 999999 in this batch."
    assert messages[4] == f"There is no assignment {foreign.pk} in this batch."
    assert (
        messages[5] == f"Assignment {decided.pk} is already decided; it cannot be decided again. Its state: Approved."
    )
    assert "appears more than once (rows 7, 8)" in messages[7]
    # Nothing applied: the good row neither.
    assert statuses(batch) == before
    assert (available(organisation), earnings(good.worker)) == (balance_before, earned_before)
    assert not AuditEvent.objects.filter(action="assignment.review_file_applied").exists()


def test_missing_columns_unknown_reason_and_empty_decisions_are_refused(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    missing = upload(requester_api, batch, f"AssignmentId,Approve\n{work.pk},x\n")
    assert (missing["status"], missing["code"]) == (400, "invalid_file")
    assert "Reject" in missing["message"]
    reason = upload(requester_api, batch, f"AssignmentId,Approve,Reject,RejectionReason\n{work.pk},,Bad.,lazy\n")
    assert reason["details"]["errors"][0]["column"] == "RejectionReason"
    empty = upload(requester_api, batch, f"AssignmentId,Approve,Reject\n{work.pk},,\n")
    assert (empty["status"], empty["code"]) == (400, "review_file_empty")
    assert upload(requester_api, batch, "")["code"] == "invalid_file"
    assert statuses(batch) == {work.pk: "submitted"}


def test_a_service_refusal_inside_the_file_rolls_everything_back(
    requester_api: APIClient, organisation: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work decided between the check and the apply (a race): the rejection service refuses
    and the approvals already made in the same file roll back."""
    batch = published_batch(organisation)
    first, second = submitted(batch), submitted(batch)
    from tasks.services import review_files

    real_reject = review_files.assignment_reject

    def reject_after_race(**kwargs):  # type: ignore[no-untyped-def]
        services.assignment_approve(actor=None, assignment=kwargs["assignment"])
        return real_reject(**kwargs)

    monkeypatch.setattr(review_files, "assignment_reject", reject_after_race)
    content = f"AssignmentId,Approve,Reject\n{first.pk},x,\n{second.pk},,Wrong animal.\n"
    result = upload(requester_api, batch, content)
    assert (result["status"], result["code"]) == (409, "review_file_conflict")
    assert result["details"]["errors"][0]["row"] == 3
    assert statuses(batch) == {first.pk: "submitted", second.pk: "submitted"}
    assert earnings(first.worker) == 0


def test_multipart_upload_and_outsiders(
    requester_api: APIClient, organisation: Organisation, other_organisation: Organisation
) -> None:
    batch = published_batch(organisation)
    work = submitted(batch)
    file = io.BytesIO(f"\ufeffAssignmentId,Approve,Reject\n{work.pk},x,\n".encode())
    file.name = "review.csv"
    response = requester_api.post(f"/api/batches/{batch.pk}/review-file/", {"file": file}, format="multipart")
    assert response.status_code == 200, response.content
    assert statuses(batch) == {work.pk: "approved"}
    outsider = APIClient()
    outsider.force_authenticate(other_organisation.staff.get().user)
    assert outsider.get(f"/api/batches/{batch.pk}/review-file/").status_code == 404


def test_bonus_file_pays_once_and_a_reupload_pays_nothing(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation, funds=10_000)
    first, second = submitted(batch), submitted(batch)
    services.assignment_approve(actor=None, assignment=first)
    content = (
        "AssignmentId,WorkerId,BonusAmount,Reason\n"
        f"{first.pk},{first.worker.pseudonym},0.25,Careful work.\n"
        f"{second.pk},{second.worker.pseudonym},$1.00,Extra effort.\n"
    )
    before = available(organisation)
    result = upload(requester_api, batch, content, kind="bonus")
    assert result == {"status": 200, "paid": 2, "already_paid": 0, "amount": 125}
    assert available(organisation) == before - 125
    assert (earnings(first.worker), Bonus.objects.get(assignment=second).amount) == (50 + 25, 100)
    again = upload(requester_api, batch, content, kind="bonus")
    assert again == {"status": 200, "paid": 0, "already_paid": 2, "amount": 0}
    assert available(organisation) == before - 125
    assert Bonus.objects.count() == 2


def test_bad_bonus_file_pays_nothing(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation, funds=10_000)
    first, second = submitted(batch), submitted(batch)
    content = (
        "AssignmentId,WorkerId,BonusAmount,Reason\n"
        f"{first.pk},{first.worker.pseudonym},0.25,Fine.\n"
        f"{second.pk},{first.worker.pseudonym},0.25,Wrong worker.\n"  # row 3
        f"{second.pk},,20000.00,Too much.\n"  # row 4: above the bound
        f"{second.pk},,-1,Negative.\n"  # row 5
        f"{second.pk},,0.10,\n"  # row 6: no reason
        "424242,,0.10,Unknown.\n"  # row 7
        f"{first.pk},,0.30,Twice.\n"  # rows 8, 9: the same bonus twice
        f"{first.pk},,0.30,Twice.\n"
    )
    before = available(organisation)
    result = upload(requester_api, batch, content, kind="bonus")
    assert (result["status"], result["code"]) == (400, "bonus_file_invalid")
    assert [(e["row"], e["column"]) for e in result["details"]["errors"]] == [
        (3, "WorkerId"),
        (4, "BonusAmount"),
        (5, "BonusAmount"),
        (6, "Reason"),
        (7, "AssignmentId"),
        (8, "AssignmentId"),
        (9, "AssignmentId"),
    ]
    assert available(organisation) == before and Bonus.objects.count() == 0


def test_bonus_file_beyond_the_balance_pays_none(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)  # funded with exactly the escrow: nothing left
    fund(organisation, 30)
    first, second = submitted(batch), submitted(batch)
    content = f"AssignmentId,BonusAmount,Reason\n{first.pk},0.20,Good.\n{second.pk},0.20,Good.\n"
    result = upload(requester_api, batch, content, kind="bonus")
    assert (result["status"], result["code"]) == (409, "insufficient_funds")
    assert Bonus.objects.count() == 0 and available(organisation) == 30


def test_submissions_table_filters_and_sorts_by_work_time(
    requester_api: APIClient, organisation: Organisation, clock
) -> None:  # type: ignore[no-untyped-def]
    batch = published_batch(organisation, funds=10_000)
    made = []
    for minutes in (5, 1, 3):
        worker = UserFactory()
        slot = services.assignment_accept(worker=worker, batch=batch)
        clock.advance(minutes=minutes)
        made.append(services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"}))
    services.assignment_approve(actor=None, assignment=made[0])
    url = f"/api/batches/{batch.pk}/submissions/"
    by_time = requester_api.get(url, {"ordering": "work_time"}).json()
    assert [r["id"] for r in by_time["results"]] == [made[1].pk, made[2].pk, made[0].pk]
    assert [r["work_seconds"] for r in by_time["results"]] == [60, 180, 300]
    longest = requester_api.get(url, {"ordering": "-work_time", "status": "submitted"}).json()
    assert (longest["count"], [r["id"] for r in longest["results"]]) == (2, [made[2].pk, made[1].pk])
    quick = requester_api.get(url, {"max_work_seconds": "200"}).json()
    assert sorted(r["id"] for r in quick["results"]) == [made[1].pk, made[2].pk]
    one = requester_api.get(url, {"worker": made[0].worker.pseudonym}).json()
    assert [r["id"] for r in one["results"]] == [made[0].pk]
    assert requester_api.get(url, {"ordering": "salary"}).status_code == 400
    assert timedelta(seconds=by_time["results"][0]["work_seconds"]) == timedelta(minutes=1)
