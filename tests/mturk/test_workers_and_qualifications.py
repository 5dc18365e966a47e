"""Qualification types, requests, scores, worker blocks and messages through boto3."""

import pytest
from botocore.exceptions import ClientError

from core.errors import AppError
from mturk import services
from mturk.models import QualificationRequest
from notifications.models import Notification
from tasks import services as task_services
from tasks.models import BlockedWorker, Qualification, QualificationGrant
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import ANSWER_KEY, QUESTION_FORM, error_of, hit_params

pytestmark = [live]


def test_qualification_type_lifecycle(mturk, organisation) -> None:
    created = mturk.create_qualification_type(
        Name="Bird expert",
        Keywords="birds",
        Description="Can tell a sparrow from a finch.",
        QualificationTypeStatus="Active",
        RetryDelayInSeconds=3600,
    )["QualificationType"]
    type_id = created["QualificationTypeId"]
    assert (created["Name"], created["QualificationTypeStatus"], created["IsRequestable"]) == (
        "Bird expert",
        "Active",
        True,
    )
    assert created["RetryDelayInSeconds"] == 3600
    assert Qualification.objects.get(pk=int(type_id)).organisation == organisation

    with pytest.raises(ClientError) as excinfo:
        mturk.create_qualification_type(Name="Bird expert", Description="again", QualificationTypeStatus="Active")
    assert "already have a qualification type named" in error_of(excinfo)["message"]
    assert Qualification.objects.count() == 1

    updated = mturk.update_qualification_type(QualificationTypeId=type_id, QualificationTypeStatus="Inactive")
    assert updated["QualificationType"]["QualificationTypeStatus"] == "Inactive"
    with pytest.raises(ClientError) as excinfo:
        mturk.update_qualification_type(QualificationTypeId=type_id, Description="Now about fish.")
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.UnsupportedOperation"
    assert Qualification.objects.get().description == "Can tell a sparrow from a finch."

    assert mturk.get_qualification_type(QualificationTypeId=type_id)["QualificationType"]["Keywords"] == "birds"
    listed = mturk.list_qualification_types(MustBeRequestable=False, Query="bird")["QualificationTypes"]
    assert [q["QualificationTypeId"] for q in listed] == [type_id]
    assert mturk.list_qualification_types(MustBeRequestable=True)["QualificationTypes"] == []

    mturk.delete_qualification_type(QualificationTypeId=type_id)
    assert mturk.list_qualification_types(MustBeRequestable=False)["QualificationTypes"] == []


def test_workers_are_granted_scored_listed_and_revoked(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    type_id = mturk.create_qualification_type(
        Name="Trusted", Description="Did good work before.", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]

    mturk.associate_qualification_with_worker(QualificationTypeId=type_id, WorkerId=worker.pseudonym, IntegerValue=80)

    score = mturk.get_qualification_score(QualificationTypeId=type_id, WorkerId=worker.pseudonym)["Qualification"]
    assert (score["WorkerId"], score["IntegerValue"], score["Status"]) == (worker.pseudonym, 80, "Granted")
    holders = mturk.list_workers_with_qualification_type(QualificationTypeId=type_id)["Qualifications"]
    assert [q["WorkerId"] for q in holders] == [worker.pseudonym]

    requirement = [{"QualificationTypeId": type_id, "Comparator": "GreaterThanOrEqualTo", "IntegerValues": [50]}]
    hit_id = mturk.create_hit(**hit_params(QualificationRequirements=requirement))["HIT"]["HITId"]
    listed = mturk.list_hits_for_qualification_type(QualificationTypeId=type_id)["HITs"]
    assert [h["HITId"] for h in listed] == [hit_id]

    mturk.disassociate_qualification_from_worker(QualificationTypeId=type_id, WorkerId=worker.pseudonym, Reason="Old")
    assert not QualificationGrant.objects.exists()
    with pytest.raises(ClientError) as excinfo:
        mturk.get_qualification_score(QualificationTypeId=type_id, WorkerId=worker.pseudonym)
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.ObjectDoesNotExist"

    with pytest.raises(ClientError) as excinfo:
        mturk.associate_qualification_with_worker(QualificationTypeId=type_id, WorkerId="ANOBODY0000000")
    assert error_of(excinfo)["message"] == "There is no worker 'ANOBODY0000000'."


def test_qualification_requests_are_accepted_or_rejected_once(mturk, organisation, worker) -> None:
    type_id = mturk.create_qualification_type(
        Name="Interview", Description="Answer a few questions.", QualificationTypeStatus="Active", Test=QUESTION_FORM
    )["QualificationType"]["QualificationTypeId"]
    qualification = Qualification.objects.get(pk=int(type_id))
    other = UserFactory()
    services.qualification_request_submit(worker=worker, qualification=qualification, answers={"colour": "blue"})
    services.qualification_request_submit(worker=other, qualification=qualification, answers={"colour": "green"})

    requests = mturk.list_qualification_requests(QualificationTypeId=type_id)["QualificationRequests"]
    assert [r["WorkerId"] for r in requests] == [worker.pseudonym, other.pseudonym]
    assert "<SelectionIdentifier>" not in requests[0]["Answer"]
    assert "<FreeText>blue</FreeText>" in requests[0]["Answer"]
    assert requests[0]["Test"] == QUESTION_FORM

    mturk.accept_qualification_request(QualificationRequestId=requests[0]["QualificationRequestId"], IntegerValue=3)
    mturk.reject_qualification_request(QualificationRequestId=requests[1]["QualificationRequestId"], Reason="Wrong.")

    assert QualificationGrant.objects.get().worker == worker
    assert QualificationGrant.objects.get().value == 3
    assert mturk.list_qualification_requests()["QualificationRequests"] == []
    with pytest.raises(ClientError) as excinfo:
        mturk.accept_qualification_request(QualificationRequestId=requests[1]["QualificationRequestId"])
    assert "already rejected" in error_of(excinfo)["message"]
    assert QualificationGrant.objects.count() == 1
    # A decided request can be made again; one waiting for an answer cannot be doubled.
    services.qualification_request_submit(worker=other, qualification=qualification, answers={"colour": "blue"})
    with pytest.raises(AppError) as refused:
        services.qualification_request_submit(worker=other, qualification=qualification)
    assert refused.value.code == "already_requested"
    assert QualificationRequest.objects.filter(worker=other).count() == 2


def test_a_test_with_an_answer_key_is_scored_at_once(mturk, organisation, worker) -> None:
    type_id = mturk.create_qualification_type(
        Name="Sky quiz",
        Description="Two questions about the sky.",
        QualificationTypeStatus="Active",
        Test=QUESTION_FORM,
        AnswerKey=ANSWER_KEY,
        TestDurationInSeconds=300,
    )["QualificationType"]["QualificationTypeId"]
    qualification = Qualification.objects.get(pk=int(type_id))
    assert qualification.answer_key == {"colour": "blue", "why": "because"}

    failed = services.qualification_request_submit(
        worker=UserFactory(), qualification=qualification, answers={"colour": "green", "why": "because"}
    )
    passed = services.qualification_request_submit(
        worker=worker, qualification=qualification, answers={"colour": "blue", "why": "because"}
    )

    assert (failed.status, failed.reason) == ("rejected", "Test score 50% (pass mark 100%).")
    assert passed.status == QualificationRequest.Status.ACCEPTED
    assert [g.worker for g in QualificationGrant.objects.all()] == [worker]
    assert mturk.list_qualification_requests(QualificationTypeId=type_id)["QualificationRequests"] == []


def test_auto_granted_types_grant_on_request(mturk, organisation, worker) -> None:
    type_id = mturk.create_qualification_type(
        Name="Newsletter",
        Description="Anyone may join.",
        QualificationTypeStatus="Active",
        AutoGranted=True,
        AutoGrantedValue=7,
    )["QualificationType"]["QualificationTypeId"]
    request = services.qualification_request_submit(
        worker=worker, qualification=Qualification.objects.get(pk=int(type_id))
    )
    assert request.status == QualificationRequest.Status.ACCEPTED
    assert QualificationGrant.objects.get().value == 7


def test_worker_blocks_are_created_listed_and_removed(mturk, organisation, worker) -> None:
    mturk.create_worker_block(WorkerId=worker.pseudonym, Reason="Copied answers from the web.")
    blocks = mturk.list_worker_blocks()["WorkerBlocks"]
    assert blocks == [{"WorkerId": worker.pseudonym, "Reason": "Copied answers from the web."}]
    assert BlockedWorker.objects.get().organisation == organisation

    mturk.delete_worker_block(WorkerId=worker.pseudonym, Reason="Appeal accepted.")
    assert mturk.list_worker_blocks()["WorkerBlocks"] == []
    with pytest.raises(ClientError) as excinfo:
        mturk.create_worker_block(WorkerId="ANOBODY0000000", Reason="x")
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.ObjectDoesNotExist"
    assert not BlockedWorker.objects.exists()


def test_notify_workers_reaches_only_workers_who_worked_for_the_requester(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit_id = mturk.create_hit(**hit_params())["HIT"]["HITId"]
    from mturk.models import Hit

    task_services.assignment_accept(worker=worker, batch=Hit.objects.get(hit_id=hit_id).batch)
    stranger = UserFactory()

    answer = mturk.notify_workers(
        Subject="New HITs", MessageText="More pictures tomorrow.", WorkerIds=[worker.pseudonym, stranger.pseudonym]
    )

    assert answer["NotifyWorkersFailureStatuses"] == [
        {
            "NotifyWorkersFailureCode": "HardFailure",
            "NotifyWorkersFailureMessage": "You can only message workers who have worked on your HITs.",
            "WorkerId": stranger.pseudonym,
        }
    ]
    notice = Notification.objects.get(category="requester_message")
    assert notice.user == worker
    assert notice.params == {
        "requester": organisation.display_name,
        "subject": "New HITs",
        "message": "More pictures tomorrow.",
    }
