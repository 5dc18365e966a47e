"""Reviewing work through boto3: provisional rejections the worker can dispute, only
escrow-backed work listed, bonuses, the balance, QuestionForm answers."""

import pytest
from botocore.exceptions import ClientError

from ledger import accounts
from ledger.escrow import balance, escrow_status
from mturk.ids import assignment_public_id
from mturk.models import Hit
from tasks import services as task_services
from tasks.models import Assignment, Bonus
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import QUESTION_FORM, SLOT_COST, available, error_of, hit_params

pytestmark = [live]


def submitted(mturk, worker, answers=None, **params) -> tuple[Hit, Assignment, str]:
    hit = Hit.objects.get(hit_id=mturk.create_hit(**hit_params(**params))["HIT"]["HITId"])
    slot = task_services.assignment_accept(worker=worker, batch=hit.batch)
    slot = task_services.assignment_submit(worker=worker, assignment=slot, answers=answers or {"cat": "yes"})
    return hit, slot, assignment_public_id(slot.pk)


def test_reject_is_provisional_and_the_worker_can_dispute_it(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit, slot, assignment_id = submitted(mturk, worker)

    mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="[incomplete] The comment is missing.")

    slot.refresh_from_db()
    assert (slot.status, slot.rejection_reason, slot.rejection_text) == (
        "rejected",
        "incomplete",
        "The comment is missing.",
    )
    assert slot.rejection_final_at is not None
    # The pay stays reserved until the rejection is final.
    assert escrow_status([slot.escrow_key]) == {slot.escrow_key: "pending"}
    listed = mturk.list_assignments_for_hit(HITId=hit.hit_id)["Assignments"]
    assert [(a["AssignmentId"], a["AssignmentStatus"]) for a in listed] == [(assignment_id, "Rejected")]
    assert listed[0]["RequesterFeedback"] == "The comment is missing."
    assert listed[0]["RejectionTime"] is not None

    task_services.assignment_rejection_dispute(assignment=slot, actor=worker)
    assert mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["AssignmentStatus"] == "Rejected"

    with pytest.raises(ClientError) as excinfo:
        mturk.approve_assignment(AssignmentId=assignment_id)
    assert "OverrideRejection=True" in error_of(excinfo)["message"]
    assert balance(accounts.worker_earnings(worker)).posted == 0

    mturk.approve_assignment(AssignmentId=assignment_id, OverrideRejection=True)
    assert mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["AssignmentStatus"] == "Approved"
    assert balance(accounts.worker_earnings(worker)).posted == 50


def test_rejection_needs_feedback(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    _, slot, assignment_id = submitted(mturk, worker)
    with pytest.raises(ClientError) as excinfo:
        mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="  ")
    assert "must explain the rejection" in error_of(excinfo)["message"]
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.SUBMITTED


def test_finally_rejected_work_is_never_listed_again(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit, slot, assignment_id = submitted(mturk, worker)
    mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="Wrong answer.")

    task_services.assignment_rejection_finalise(assignment=slot)

    assert mturk.list_assignments_for_hit(HITId=hit.hit_id)["Assignments"] == []
    with pytest.raises(ClientError) as excinfo:
        mturk.get_assignment(AssignmentId=assignment_id)
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.ObjectDoesNotExist"
    # The escrow came back to the requester.
    assert available(organisation) == 1_000 - SLOT_COST


def test_assignment_ids_are_unguessable_and_statuses_filter(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit, slot, assignment_id = submitted(mturk, worker)
    other = UserFactory()
    second = task_services.assignment_accept(worker=other, batch=hit.batch)
    task_services.assignment_submit(worker=other, assignment=second, answers={"cat": "no"})
    mturk.approve_assignment(AssignmentId=assignment_public_id(second.pk))

    for forged in (str(slot.pk), "A" * 20 + str(slot.pk), assignment_id[:-1] + str(second.pk)):
        with pytest.raises(ClientError) as excinfo:
            mturk.get_assignment(AssignmentId=forged)
        assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.ObjectDoesNotExist"

    submitted_only = mturk.list_assignments_for_hit(HITId=hit.hit_id, AssignmentStatuses=["Submitted"])
    assert [a["WorkerId"] for a in submitted_only["Assignments"]] == [worker.pseudonym]
    first_page = mturk.list_assignments_for_hit(HITId=hit.hit_id, MaxResults=1)
    second_page = mturk.list_assignments_for_hit(HITId=hit.hit_id, MaxResults=1, NextToken=first_page["NextToken"])
    assert [a["AssignmentStatus"] for a in first_page["Assignments"] + second_page["Assignments"]] == [
        "Submitted",
        "Approved",
    ]
    assert "NextToken" not in second_page


def test_question_form_answers_use_selection_identifiers(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit, _, assignment_id = submitted(
        mturk, worker, answers={"colour": "blue", "why": "Rayleigh"}, Question=QUESTION_FORM
    )
    assert hit.question_kind == "form"

    answer = mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["Answer"]

    assert "<QuestionIdentifier>colour</QuestionIdentifier><SelectionIdentifier>blue</SelectionIdentifier>" in answer
    assert "<QuestionIdentifier>why</QuestionIdentifier><FreeText>Rayleigh</FreeText>" in answer
    assert answer.startswith('<?xml version="1.0"')
    assert "QuestionFormAnswers.xsd" in answer


def test_bonuses_are_paid_once_per_token_and_listed(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit, _, assignment_id = submitted(mturk, worker)
    bonus = {
        "WorkerId": worker.pseudonym,
        "BonusAmount": "1.25",
        "AssignmentId": assignment_id,
        "Reason": "Great comments.",
        "UniqueRequestToken": "bonus-1",
    }

    mturk.send_bonus(**bonus)
    mturk.send_bonus(**bonus)

    assert Bonus.objects.count() == 1
    assert balance(accounts.worker_earnings(worker)).posted == 125
    assert available(organisation) == 1_000 - 2 * SLOT_COST - 125
    by_hit = mturk.list_bonus_payments(HITId=hit.hit_id)["BonusPayments"]
    by_assignment = mturk.list_bonus_payments(AssignmentId=assignment_id)["BonusPayments"]
    assert by_hit == by_assignment
    assert [(b["WorkerId"], b["BonusAmount"], b["Reason"]) for b in by_hit] == [
        (worker.pseudonym, "1.25", "Great comments.")
    ]

    with pytest.raises(ClientError) as excinfo:
        mturk.send_bonus(**{**bonus, "WorkerId": "ANOTHERWORKER1", "UniqueRequestToken": "bonus-2"})
    assert "not the worker of this assignment" in error_of(excinfo)["message"]
    with pytest.raises(ClientError) as excinfo:
        mturk.send_bonus(**{**bonus, "BonusAmount": "5000.00", "UniqueRequestToken": "bonus-3"})
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.InsufficientFunds"
    assert Bonus.objects.count() == 1
    assert balance(accounts.worker_earnings(worker)).posted == 125


def test_account_balance_reports_available_and_escrowed_funds(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    _, _, assignment_id = submitted(mturk, worker)
    answer = mturk.get_account_balance()
    assert (answer["AvailableBalance"], answer["OnHoldBalance"]) == ("8.90", "1.10")

    mturk.approve_assignment(AssignmentId=assignment_id)
    answer = mturk.get_account_balance()
    assert (answer["AvailableBalance"], answer["OnHoldBalance"]) == ("8.90", "0.55")


def test_file_upload_urls_do_not_exist_here(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    _, _, assignment_id = submitted(mturk, worker)
    with pytest.raises(ClientError) as excinfo:
        mturk.get_file_upload_url(AssignmentId=assignment_id, QuestionIdentifier="photo")
    error = error_of(excinfo)
    assert error["turk"] == "AWS.MechanicalTurk.UnsupportedOperation"
    assert "File upload answers are not supported" in error["message"]
