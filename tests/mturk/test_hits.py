"""HIT types and HITs through boto3: escrow before anything is visible, the wage floor,
idempotent retries, pagination, and the HIT lifecycle operations."""

import datetime as dt

import pytest
from botocore.exceptions import ClientError

from ledger.escrow import escrow_status
from mturk.models import Hit, HitType, RequestToken
from tasks import services as task_services
from tasks.models import Assignment, Batch
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import (
    DESCRIPTION,
    EXTERNAL_QUESTION,
    QUESTION_FORM,
    SLOT_COST,
    available,
    error_of,
    hit_params,
)

pytestmark = [live]


def test_create_hit_without_escrow_funds_is_refused_and_creates_nothing(mturk, organisation) -> None:
    fund(organisation, 2 * SLOT_COST - 1)

    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params())

    error = error_of(excinfo)
    assert error["turk"] == "AWS.MechanicalTurk.InsufficientFunds"
    assert error["message"].startswith(
        "Escrow cannot cover this HIT: it needs 1.10 EUR (2 assignment(s) x reward 0.50 EUR + fee 0.05 EUR) "
        "and the organisation has 1.09 EUR available."
    )
    assert (Batch.objects.count(), Hit.objects.count(), Assignment.objects.count()) == (0, 0, 0)
    assert available(organisation) == 2 * SLOT_COST - 1


def test_create_hit_below_the_wage_floor_is_refused_unless_the_estimate_says_otherwise(mturk, organisation) -> None:
    fund(organisation, 1_000)
    # 0.50 for the whole 10 minutes allotted is 3.00/h, under the founding 12.00/h.
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(Keywords="image, cat"))
    error = error_of(excinfo)
    assert error["turk"] == "AWS.MechanicalTurk.BelowMinimumWage"
    assert "the time allotted (10 min) is the estimate" in error["message"]
    assert "'estimated-minutes:N'" in error["message"]
    assert Batch.objects.count() == 0
    assert available(organisation) == 1_000

    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(Keywords="estimated-minutes:5"))
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.BelowMinimumWage"

    created = mturk.create_hit(**hit_params(Keywords="estimated-minutes:2"))["HIT"]
    assert Batch.objects.get().estimated_minutes == 2
    assert created["Keywords"] == "estimated-minutes:2"


def test_create_hit_needs_purpose_and_data_use(mturk, organisation) -> None:
    fund(organisation, 1_000)
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(Description="Label pictures."))
    assert "'Purpose: ...' and 'Data use: ...'" in error_of(excinfo)["message"]
    assert Batch.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Title": "t" * 201}, "Title may be at most 200"),
        ({"RequesterAnnotation": "a" * 256}, "RequesterAnnotation may be at most 255"),
        ({"Keywords": "k" * 401}, "Keywords may be at most 400"),
        ({"Reward": "0.505"}, "more decimals than EUR allows"),
        ({"Question": "<Nonsense/>"}, "must be an HTMLQuestion, ExternalQuestion or QuestionForm"),
    ],
)
def test_values_the_platform_cannot_hold_are_refused_before_anything_is_written(
    mturk, organisation, overrides, message
) -> None:
    fund(organisation, 1_000)
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(**overrides))
    error = error_of(excinfo)
    assert (error["type"], error["status"]) == ("RequestError", 400)
    assert message in error["message"]
    assert (HitType.objects.count(), Batch.objects.count()) == (0, 0)
    assert available(organisation) == 1_000


def test_unique_request_token_makes_create_hit_idempotent(mturk, organisation) -> None:
    fund(organisation, 1_000)

    first = mturk.create_hit(**hit_params(UniqueRequestToken="run-42"))["HIT"]
    again = mturk.create_hit(**hit_params(UniqueRequestToken="run-42"))["HIT"]

    assert again == first
    assert Batch.objects.count() == 1
    assert available(organisation) == 1_000 - 2 * SLOT_COST

    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(UniqueRequestToken="run-42", MaxAssignments=3))
    error = error_of(excinfo)
    assert error["turk"] == "AWS.MechanicalTurk.DuplicateRequest"
    assert "already used for a different request (CreateHIT)" in error["message"]
    assert Batch.objects.count() == 1
    assert available(organisation) == 1_000 - 2 * SLOT_COST


def test_a_refused_call_leaves_its_token_free_for_the_retry(mturk, organisation) -> None:
    with pytest.raises(ClientError):
        mturk.create_hit(**hit_params(UniqueRequestToken="after-funding"))
    assert RequestToken.objects.count() == 0

    fund(organisation, 1_000)
    created = mturk.create_hit(**hit_params(UniqueRequestToken="after-funding"))["HIT"]
    assert Hit.objects.get().hit_id == created["HITId"]


def test_hit_types_are_shared_by_identical_properties(mturk, organisation) -> None:
    fund(organisation, 1_000)
    properties = {k: v for k, v in hit_params().items() if k not in ("MaxAssignments", "LifetimeInSeconds", "Question")}

    first = mturk.create_hit_type(**properties)["HITTypeId"]
    assert mturk.create_hit_type(**properties)["HITTypeId"] == first
    other = mturk.create_hit_type(**{**properties, "Reward": "0.60"})["HITTypeId"]
    assert other != first
    assert HitType.objects.count() == 2

    created = mturk.create_hit_with_hit_type(
        HITTypeId=first, MaxAssignments=1, LifetimeInSeconds=3600, Question=EXTERNAL_QUESTION
    )["HIT"]
    assert created["HITTypeId"] == first
    assert created["HITGroupId"] == first
    assert created["Reward"] == "0.50"
    assert Batch.objects.get().external_url == "https://survey.example.org/task?study=7"
    # A HIT made by CreateHIT with the same properties joins the same type.
    assert mturk.create_hit(**hit_params())["HIT"]["HITTypeId"] == first

    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit_with_hit_type(HITTypeId="NOPE", MaxAssignments=1, LifetimeInSeconds=60, Question=QUESTION_FORM)
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.ObjectDoesNotExist"


def test_list_hits_pages_with_next_token(mturk, organisation) -> None:
    fund(organisation, 10_000)
    created = [mturk.create_hit(**hit_params(MaxAssignments=1))["HIT"]["HITId"] for _ in range(5)]

    first = mturk.list_hits(MaxResults=2)
    assert [h["HITId"] for h in first["HITs"]] == created[:2]
    assert first["NumResults"] == 2
    second = mturk.list_hits(MaxResults=2, NextToken=first["NextToken"])
    assert [h["HITId"] for h in second["HITs"]] == created[2:4]
    third = mturk.list_hits(MaxResults=2, NextToken=second["NextToken"])
    assert [h["HITId"] for h in third["HITs"]] == created[4:]
    assert "NextToken" not in third

    pages = mturk.get_paginator("list_hits").paginate(PaginationConfig={"PageSize": 2})
    assert [h["HITId"] for page in pages for h in page["HITs"]] == created

    with pytest.raises(ClientError) as excinfo:
        mturk.list_hits(NextToken="forged")
    assert "NextToken is not valid" in error_of(excinfo)["message"]
    with pytest.raises(ClientError) as excinfo:
        mturk.list_worker_blocks(NextToken=first["NextToken"])
    assert "belongs to another listing" in error_of(excinfo)["message"]


def test_another_organisation_sees_none_of_it(mturk, organisation, live_server) -> None:
    from tests.factories import OrganisationFactory
    from tests.mturk.conftest import client_for, key_pair

    fund(organisation, 1_000)
    hit_id = mturk.create_hit(**hit_params())["HIT"]["HITId"]
    stranger = client_for(live_server.url, *key_pair(OrganisationFactory()))

    assert stranger.list_hits()["HITs"] == []
    with pytest.raises(ClientError) as excinfo:
        stranger.get_hit(HITId=hit_id)
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.ObjectDoesNotExist"
    with pytest.raises(ClientError):
        stranger.update_expiration_for_hit(HITId=hit_id, ExpireAt=dt.datetime(2020, 1, 1))
    assert Batch.objects.get().status == Batch.Status.PUBLISHED


def test_expiration_extends_or_expires_now(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit_id = mturk.create_hit(**hit_params(LifetimeInSeconds=3600))["HIT"]["HITId"]
    batch = Batch.objects.get()
    before = batch.expires_at

    mturk.update_expiration_for_hit(HITId=hit_id, ExpireAt=before + dt.timedelta(hours=2, minutes=30))
    batch.refresh_from_db()
    assert batch.expires_at == before + dt.timedelta(hours=3)

    with pytest.raises(ClientError) as excinfo:
        mturk.update_expiration_for_hit(HITId=hit_id, ExpireAt=before + dt.timedelta(minutes=30))
    assert "not earlier to a future time" in error_of(excinfo)["message"]
    batch.refresh_from_db()
    assert batch.expires_at == before + dt.timedelta(hours=3)

    slot = task_services.assignment_accept(worker=worker, batch=batch)
    mturk.update_expiration_for_hit(HITId=hit_id, ExpireAt=dt.datetime(2015, 1, 1))
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED
    # The unclaimed slot's escrow went back; the accepted one can still be submitted and paid.
    assert available(organisation) == 1_000 - SLOT_COST
    assert escrow_status([slot.escrow_key]) == {slot.escrow_key: "pending"}
    hit = mturk.get_hit(HITId=hit_id)["HIT"]
    assert (hit["HITStatus"], hit["NumberOfAssignmentsAvailable"], hit["NumberOfAssignmentsPending"]) == (
        "Unassignable",
        0,
        1,
    )


def test_review_status_reviewable_listing_and_deletion(mturk, organisation, worker) -> None:
    fund(organisation, 1_000)
    hit_id = mturk.create_hit(**hit_params(MaxAssignments=1))["HIT"]["HITId"]
    batch = Batch.objects.get()
    assert mturk.list_reviewable_hits()["HITs"] == []

    with pytest.raises(ClientError) as excinfo:
        mturk.delete_hit(HITId=hit_id)
    assert "expire it first" in error_of(excinfo)["message"]
    assert Hit.objects.get().disposed_at is None

    slot = task_services.assignment_accept(worker=worker, batch=batch)
    task_services.assignment_submit(worker=worker, assignment=slot, answers={"cat": "no"})
    reviewable = mturk.list_reviewable_hits()["HITs"]
    assert [(h["HITId"], h["HITStatus"]) for h in reviewable] == [(hit_id, "Reviewable")]

    mturk.update_hit_review_status(HITId=hit_id, Revert=False)
    assert mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Reviewing"
    assert mturk.get_hit(HITId=hit_id)["HIT"]["HITReviewStatus"] == "MarkedForReview"
    assert mturk.list_reviewable_hits()["HITs"] == []
    assert [h["HITId"] for h in mturk.list_reviewable_hits(Status="Reviewing")["HITs"]] == [hit_id]
    mturk.update_hit_review_status(HITId=hit_id, Revert=True)
    assert mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Reviewable"

    with pytest.raises(ClientError) as excinfo:
        mturk.delete_hit(HITId=hit_id)
    assert "1 submitted assignment(s) await review" in error_of(excinfo)["message"]

    task_services.assignment_approve(actor=None, assignment=slot)
    mturk.delete_hit(HITId=hit_id)
    assert mturk.list_hits()["HITs"] == []
    assert mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Disposed"


def test_additional_assignments_are_escrowed_and_idempotent(mturk, organisation) -> None:
    fund(organisation, 2 * SLOT_COST + 3 * SLOT_COST)
    hit_id = mturk.create_hit(**hit_params())["HIT"]["HITId"]

    mturk.create_additional_assignments_for_hit(
        HITId=hit_id, NumberOfAdditionalAssignments=3, UniqueRequestToken="more"
    )
    mturk.create_additional_assignments_for_hit(
        HITId=hit_id, NumberOfAdditionalAssignments=3, UniqueRequestToken="more"
    )

    hit = mturk.get_hit(HITId=hit_id)["HIT"]
    assert (hit["MaxAssignments"], hit["NumberOfAssignmentsAvailable"]) == (5, 5)
    assert available(organisation) == 0

    with pytest.raises(ClientError) as excinfo:
        mturk.create_additional_assignments_for_hit(HITId=hit_id, NumberOfAdditionalAssignments=1)
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.InsufficientFunds"
    assert Assignment.objects.count() == 5


def test_changing_the_terms_of_a_published_hit_is_refused(mturk, organisation) -> None:
    fund(organisation, 1_000)
    created = mturk.create_hit(**hit_params())["HIT"]
    properties = {k: v for k, v in hit_params().items() if k not in ("MaxAssignments", "LifetimeInSeconds", "Question")}
    richer = mturk.create_hit_type(**{**properties, "Reward": "0.80"})["HITTypeId"]

    mturk.update_hit_type_of_hit(HITId=created["HITId"], HITTypeId=created["HITTypeId"])
    with pytest.raises(ClientError) as excinfo:
        mturk.update_hit_type_of_hit(HITId=created["HITId"], HITTypeId=richer)
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.UnsupportedOperation"
    assert Batch.objects.get().reward == 50


def test_review_policies_and_layouts_are_refused_with_a_reason(mturk, organisation) -> None:
    fund(organisation, 1_000)
    policy = {"PolicyName": "ScoreMyKnownAnswers/2011-09-01", "Parameters": []}
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(AssignmentReviewPolicy=policy))
    assert "Review policies are not supported" in error_of(excinfo)["message"]
    layout = hit_params(HITLayoutId="3MCDHXBQ4Z7SJ2ZT2XZACNE142JWKX")
    del layout["Question"]
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**layout)
    assert "HIT layouts are not available" in error_of(excinfo)["message"]
    assert Batch.objects.count() == 0

    hit_id = mturk.create_hit(**hit_params())["HIT"]["HITId"]
    assert mturk.list_review_policy_results_for_hit(HITId=hit_id)["HITId"] == hit_id


def test_masters_and_unexplained_locale_requirements_are_refused(mturk, organisation) -> None:
    fund(organisation, 1_000)
    masters = [{"QualificationTypeId": "2F1QJWKUDD8XADTFD2Q0G6UTO95ALH", "Comparator": "Exists"}]
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(QualificationRequirements=masters))
    assert "Masters qualifications are not offered" in error_of(excinfo)["message"]

    locale = [{"QualificationTypeId": "00000000000000000071", "Comparator": "In", "LocaleValues": [{"Country": "DE"}]}]
    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(QualificationRequirements=locale))
    assert "'Location reason: ...'" in error_of(excinfo)["message"]
    assert Batch.objects.count() == 0

    explained = hit_params(
        QualificationRequirements=[
            *locale,
            {
                "QualificationTypeId": "000000000000000000L0",
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [95],
            },
        ],
        Description=DESCRIPTION + "\nLocation reason: the pictures show German road signs.",
    )
    created = mturk.create_hit(**explained)["HIT"]
    assert created["QualificationRequirements"][0]["LocaleValues"] == [{"Country": "DE"}]
    requirements = {r.kind: r for r in Batch.objects.get().requirements.all()}
    assert requirements["locale"].country_list == ["DE"]
    assert requirements["locale"].reason == "the pictures show German road signs."
    assert requirements["approval_rate"].value == 9_500
