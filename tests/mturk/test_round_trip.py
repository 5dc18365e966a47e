"""The full MTurk workflow through boto3 against a live server: create, work, submit,
list, approve, export — with the co-op's escrow behind every step."""

from ledger import accounts
from ledger.escrow import balance, escrow_status
from mturk import selectors as mturk_selectors
from mturk.ids import assignment_public_id
from mturk.models import Hit
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import Batch
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import SLOT_COST, available, hit_params

pytestmark = [live]


def test_create_work_submit_list_approve_export(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)

    created = mturk.create_hit(**hit_params(RequesterAnnotation="batch-7"))["HIT"]

    hit = Hit.objects.get(hit_id=created["HITId"])
    assert created["HITStatus"] == "Assignable"
    assert created["MaxAssignments"] == 2
    assert created["Reward"] == "0.50"
    assert created["NumberOfAssignmentsAvailable"] == 2
    assert created["RequesterAnnotation"] == "batch-7"
    assert created["AssignmentDurationInSeconds"] == 600
    assert available(organisation) == 1_000 - 2 * SLOT_COST
    assert hit.batch.status == Batch.Status.PUBLISHED

    slot = task_services.assignment_accept(worker=worker, batch=hit.batch)
    got = mturk.get_hit(HITId=hit.hit_id)["HIT"]
    assert got["NumberOfAssignmentsPending"] == 1
    assert got["NumberOfAssignmentsAvailable"] == 1
    # Accepted but not submitted: nothing to review yet.
    assert mturk.list_assignments_for_hit(HITId=hit.hit_id)["Assignments"] == []

    task_services.assignment_submit(worker=worker, assignment=slot, answers={"cat": "yes", "comment": "tabby"})

    listed = mturk.list_assignments_for_hit(HITId=hit.hit_id)
    assert listed["NumResults"] == 1
    assignment = listed["Assignments"][0]
    assert assignment["AssignmentId"] == assignment_public_id(slot.pk)
    assert assignment["WorkerId"] == worker.pseudonym
    assert assignment["AssignmentStatus"] == "Submitted"
    assert "<QuestionIdentifier>cat</QuestionIdentifier><FreeText>yes</FreeText>" in assignment["Answer"]
    assert "<QuestionIdentifier>comment</QuestionIdentifier><FreeText>tabby</FreeText>" in assignment["Answer"]
    assert assignment["SubmitTime"].year >= 2026

    mturk.approve_assignment(AssignmentId=assignment["AssignmentId"], RequesterFeedback="Thanks!")

    approved = mturk.get_assignment(AssignmentId=assignment["AssignmentId"])
    assert approved["Assignment"]["AssignmentStatus"] == "Approved"
    assert approved["Assignment"]["RequesterFeedback"] == "Thanks!"
    assert approved["HIT"]["HITId"] == hit.hit_id
    assert approved["HIT"]["NumberOfAssignmentsCompleted"] == 1
    assert balance(accounts.worker_earnings(worker)).posted == 50
    assert escrow_status([slot.escrow_key]) == {slot.escrow_key: "posted"}

    columns, rows = task_selectors.batch_results_export(batch=Batch.objects.get(pk=hit.batch_id))
    assert [row["HITId"] for row in rows] == [hit.hit_id]
    assert rows[0]["WorkerId"] == worker.pseudonym
    assert rows[0]["Answer.cat"] == "yes"
    assert rows[0]["AssignmentStatus"] == "Approved"
    assert "Answer.cat" in columns
    # The same export in the ids the MTurk client knows.
    _, mturk_rows = mturk_selectors.hit_results_export(hit=Hit.objects.get(pk=hit.pk))
    assert (mturk_rows[0]["HITId"], mturk_rows[0]["HITTypeId"], mturk_rows[0]["AssignmentId"]) == (
        created["HITId"],
        created["HITTypeId"],
        assignment["AssignmentId"],
    )
