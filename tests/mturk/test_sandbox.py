"""MTurk's sandbox at /mturk/sandbox/ through boto3 (issue 24.6): unchanged code publishes
there, the organisation's own people work the HIT, the requester approves and sends a
bonus, paid in play money that GetAccountBalance tracks, and not one ledger row is written;
sandbox and real HITs never see each other."""

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command

from accounts.models import Organisation, User
from accounts.services import organisation_staff_add
from core.errors import AppError
from ledger.models import Account, Transfer
from mturk.ids import assignment_public_id
from mturk.models import Hit
from tasks import play
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import Batch, Qualification, QualificationGrant
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.mturk.conftest import client_for, live
from tests.mturk.helpers import available, error_of, hit_params

pytestmark = [live]


@pytest.fixture
def sandbox(live_server: Any, keys: tuple[str, str]) -> Any:
    return client_for(live_server.url, *keys, path="/mturk/sandbox/")


@pytest.fixture
def tester(organisation: Organisation, owner: User) -> User:
    """One of the organisation's own people, not the key's owner (nobody reviews their own work)."""
    user = UserFactory()
    organisation_staff_add(organisation=organisation, user=user, actor=owner)
    return user


def _ledger_clean() -> None:
    out = io.StringIO()
    call_command("ledger_verify", stdout=out)
    assert "consistent" in out.getvalue()


def test_sandbox_hit_is_published_worked_approved_and_bonused_without_a_ledger_row(
    sandbox: Any, mturk: Any, organisation: Organisation, tester: User
) -> None:
    fund(organisation, 1_000)
    transfers, accounts_before = Transfer.objects.count(), Account.objects.count()

    created = sandbox.create_hit(**hit_params())["HIT"]

    assert created["Title"] == "[SANDBOX] Is there a cat?"
    assert created["HITStatus"] == "Assignable"
    hit = Hit.objects.select_related("batch").get(hit_id=created["HITId"])
    assert hit.batch.is_sandbox
    assert available(organisation) == 1_000  # nothing reserved from the real balance
    balance = sandbox.get_account_balance()
    # The play money opened with 10,000.00; two slots of 0.50 + 0.05 fee are held from it.
    assert balance["AvailableBalance"] == "9998.90"
    assert balance["OnHoldBalance"] == "1.10"
    # The real endpoint neither lists nor finds it; the sandbox lists only it.
    assert mturk.list_hits()["HITs"] == []
    with pytest.raises(ClientError):
        mturk.get_hit(HITId=hit.hit_id)
    assert [h["HITId"] for h in sandbox.list_hits()["HITs"]] == [hit.hit_id]
    assert mturk.get_account_balance()["AvailableBalance"] == "10.00"

    slot = task_services.assignment_accept(worker=tester, batch=hit.batch)
    task_services.assignment_submit(worker=tester, assignment=slot, answers={"cat": "yes", "comment": "tabby"})
    public_id = assignment_public_id(slot.pk)
    listed = sandbox.list_assignments_for_hit(HITId=hit.hit_id)["Assignments"]
    assert [a["AssignmentId"] for a in listed] == [public_id]
    # The real endpoint cannot decide sandbox work.
    with pytest.raises(ClientError):
        mturk.approve_assignment(AssignmentId=public_id)

    sandbox.approve_assignment(AssignmentId=public_id, RequesterFeedback="Works.")
    sandbox.send_bonus(WorkerId=tester.pseudonym, AssignmentId=public_id, BonusAmount="0.25", Reason="Test bonus")

    got = sandbox.get_assignment(AssignmentId=public_id)
    assert got["Assignment"]["AssignmentStatus"] == "Approved"
    assert got["HIT"]["Title"].startswith("[SANDBOX]")
    assert [b["BonusAmount"] for b in sandbox.list_bonus_payments(HITId=hit.hit_id)["BonusPayments"]] == ["0.25"]
    # Play money moved: one slot paid (0.55 left the hold), the bonus paid from available.
    after = sandbox.get_account_balance()
    assert (after["AvailableBalance"], after["OnHoldBalance"]) == ("9998.65", "0.55")
    assert play.play_paid_by_tester(organisation=organisation) == [(tester, 75)]
    assert play.play_book_check(organisation=organisation) == []
    # No real money moved: no transfer, no account, the real balance untouched.
    assert Transfer.objects.count() == transfers
    assert Account.objects.count() == accounts_before
    assert available(organisation) == 1_000
    _ledger_clean()


def test_only_the_organisations_own_people_work_a_sandbox_hit(
    sandbox: Any, organisation: Organisation, owner: User, tester: User
) -> None:
    created = sandbox.create_hit(**hit_params())["HIT"]
    hit = Hit.objects.select_related("batch").get(hit_id=created["HITId"])
    outsider = UserFactory()

    with pytest.raises(AppError) as refused:
        task_services.assignment_accept(worker=outsider, batch=hit.batch)
    assert refused.value.code == "not_eligible"
    assert "sandbox" in refused.value.message
    # Never in the real feed, for anyone.
    assert hit.batch.pk not in {b.pk for b in task_selectors.live_market()}
    # A member may (the self-dealing rule is for real money only).
    assert task_services.assignment_accept(worker=tester, batch=hit.batch).worker == tester


def test_a_real_hit_still_refuses_the_organisations_own_people(
    mturk: Any, organisation: Organisation, tester: User
) -> None:
    fund(organisation, 1_000)
    created = mturk.create_hit(**hit_params())["HIT"]
    assert created["Title"] == "Is there a cat?"
    hit = Hit.objects.select_related("batch").get(hit_id=created["HITId"])
    assert not hit.batch.is_sandbox
    with pytest.raises(AppError) as refused:
        task_services.assignment_accept(worker=tester, batch=hit.batch)
    assert refused.value.code == "not_eligible"


def test_an_unverified_organisation_may_test_in_the_sandbox_but_not_publish_for_real(
    live_server: Any, open_clients: list[Any]
) -> None:
    from tests.factories import OrganisationFactory
    from tests.governance.factories import founding_rules_reload
    from tests.mturk.conftest import key_pair

    founding_rules_reload()
    organisation = OrganisationFactory(verified=False)
    keys = key_pair(organisation)
    real = client_for(live_server.url, *keys)
    play = client_for(live_server.url, *keys, path="/mturk/sandbox/")
    with pytest.raises(ClientError) as refused:
        real.create_hit(**hit_params())
    assert error_of(refused)["status"] >= 400
    assert play.create_hit(**hit_params())["HIT"]["Title"].startswith("[SANDBOX]")


def _notification(url: str, *events: str) -> dict[str, Any]:
    return {"Destination": url, "Transport": "SNS", "Version": "2014-08-15", "EventTypes": list(events)}


def test_notification_documents_say_whether_the_hit_is_a_sandbox_hit(
    sandbox: Any, mturk: Any, organisation: Organisation, tester: User, receiver: Any
) -> None:
    """One HIT type, configured once, with a sandbox HIT and a real one: each document says
    which it is (a receiver must never take play work for real work); so do test events."""
    from mturk import jobs

    fund(organisation, 1_000)
    play_hit = sandbox.create_hit(**hit_params(MaxAssignments=1))["HIT"]
    real_hit = mturk.create_hit_with_hit_type(
        HITTypeId=play_hit["HITTypeId"], MaxAssignments=1, LifetimeInSeconds=3600, Question=hit_params()["Question"]
    )["HIT"]
    sandbox.update_notification_settings(
        HITTypeId=play_hit["HITTypeId"], Notification=_notification(receiver.url, "AssignmentSubmitted"), Active=True
    )
    worker = UserFactory()
    for created, person in ((play_hit, tester), (real_hit, worker)):
        batch = Hit.objects.select_related("batch").get(hit_id=created["HITId"]).batch
        slot = task_services.assignment_accept(worker=person, batch=batch)
        task_services.assignment_submit(worker=person, assignment=slot, answers={"cat": "yes"})
    assert jobs.collect_notifications() == 2
    documents = {json.loads(r.body)["Events"][0]["HITId"]: json.loads(r.body) for r in receiver.received}
    assert documents[play_hit["HITId"]]["Sandbox"] is True
    assert documents[real_hit["HITId"]]["Sandbox"] is False

    receiver.received.clear()
    sandbox.send_test_event_notification(Notification=_notification(receiver.url, "Ping"), TestEventType="Ping")
    mturk.send_test_event_notification(Notification=_notification(receiver.url, "Ping"), TestEventType="Ping")
    assert [json.loads(r.body)["Sandbox"] for r in receiver.received] == [True, False]


def test_notify_workers_at_the_sandbox_reaches_testers_marked_and_the_real_endpoint_does_not(
    sandbox: Any, mturk: Any, organisation: Organisation, tester: User
) -> None:
    from notifications.models import Notification

    created = sandbox.create_hit(**hit_params())["HIT"]
    batch = Hit.objects.select_related("batch").get(hit_id=created["HITId"]).batch
    slot = task_services.assignment_accept(worker=tester, batch=batch)
    task_services.assignment_submit(worker=tester, assignment=slot, answers={"cat": "yes"})
    # The real endpoint: the tester never worked on a real HIT of this requester.
    real = mturk.notify_workers(Subject="Hello", MessageText="Real", WorkerIds=[tester.pseudonym])
    assert [f["WorkerId"] for f in real["NotifyWorkersFailureStatuses"]] == [tester.pseudonym]
    played = sandbox.notify_workers(Subject="Hello", MessageText="Play", WorkerIds=[tester.pseudonym])
    assert played["NotifyWorkersFailureStatuses"] == []
    [notice] = Notification.objects.filter(user=tester, category="requester_message")
    assert notice.params["sandbox"] is True


def test_qualification_types_made_in_the_sandbox_stay_in_the_sandbox(
    sandbox: Any, mturk: Any, organisation: Organisation, owner: User, tester: User
) -> None:
    """MTurk's sandbox kept its own qualification types: a script tested there must never
    grant, revoke or gate anything real."""
    fund(organisation, 1_000)
    real_id = mturk.create_qualification_type(
        Name="Cat expert", Description="Knows cats", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    play_id = sandbox.create_qualification_type(
        Name="Cat expert", Description="Knows cats (testing)", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]  # the same name is free in the other endpoint
    assert Qualification.objects.get(pk=int(play_id)).is_sandbox
    assert not Qualification.objects.get(pk=int(real_id)).is_sandbox

    # Each endpoint lists and finds only its own.
    assert [
        q["QualificationTypeId"] for q in mturk.list_qualification_types(MustBeRequestable=False)["QualificationTypes"]
    ] == [real_id]
    assert [
        q["QualificationTypeId"]
        for q in sandbox.list_qualification_types(MustBeRequestable=False)["QualificationTypes"]
    ] == [play_id]
    grants_before = QualificationGrant.objects.count()
    with pytest.raises(ClientError):
        sandbox.associate_qualification_with_worker(QualificationTypeId=real_id, WorkerId=tester.pseudonym)
    with pytest.raises(ClientError):
        sandbox.disassociate_qualification_from_worker(QualificationTypeId=real_id, WorkerId=tester.pseudonym)
    with pytest.raises(ClientError):
        mturk.associate_qualification_with_worker(QualificationTypeId=play_id, WorkerId=tester.pseudonym)
    assert QualificationGrant.objects.count() == grants_before

    # A real HIT cannot be gated by a sandbox type (it does not exist there), nor the reverse.
    requirement = [{"QualificationTypeId": play_id, "Comparator": "Exists"}]
    with pytest.raises(ClientError) as refused:
        mturk.create_hit(**hit_params(QualificationRequirements=requirement))
    assert error_of(refused)["type"] == "RequestError"
    assert error_of(refused)["turk"] == "AWS.MechanicalTurk.QualificationTypeDoesNotExist"
    with pytest.raises(ClientError):
        sandbox.create_hit(
            **hit_params(QualificationRequirements=[{"QualificationTypeId": real_id, "Comparator": "Exists"}])
        )
    assert available(organisation) == 1_000

    created = sandbox.create_hit(**hit_params(QualificationRequirements=requirement))["HIT"]
    assert Hit.objects.get(hit_id=created["HITId"]).batch.is_sandbox
    sandbox.associate_qualification_with_worker(QualificationTypeId=play_id, WorkerId=tester.pseudonym)
    assert QualificationGrant.objects.filter(qualification_id=int(play_id), worker=tester).exists()


def test_a_real_batch_refuses_a_sandbox_qualification_and_a_sandbox_test_pays_nothing(
    organisation: Organisation, owner: User
) -> None:
    fund(organisation, 1_000)
    play_money = task_services.qualification_create(
        organisation=organisation,
        actor=owner,
        name="Long test",
        description="An hour of questions",
        test_questions=[{"name": "q1", "question": "Cat?", "options": ["yes", "no"]}],
        answer_key={"q1": "yes"},
        estimated_minutes=60,
        sandbox=True,
    )
    real = task_services.qualification_create(
        organisation=organisation,
        actor=owner,
        name="Long real test",
        description="An hour of questions",
        test_questions=[{"name": "q1", "question": "Cat?", "options": ["yes", "no"]}],
        answer_key={"q1": "yes"},
        estimated_minutes=60,
    )
    # An hour-long real test is paid at the wage floor; a sandbox one never moves real money.
    assert task_services.qualification_test_pay(qualification=real) > 0
    assert task_services.qualification_test_pay(qualification=play_money) == 0
    assert task_services.qualification_test_offer(qualification=play_money, worker=UserFactory()) is None

    batches_before = Batch.objects.count()
    fields = dict(
        organisation=organisation,
        actor=owner,
        title="Cats",
        description="Is there a cat?",
        purpose="Training a cat detector",
        data_use="Kept for the study",
        reward=50,
        assignments_per_task=1,
        estimated_minutes=2,
        time_allotted_minutes=10,
        lifetime_hours=24,
        template_html='<input name="cat">',
        requirements=[{"kind": "qualification", "qualification_id": play_money.pk, "value": 1}],
    )
    with pytest.raises(AppError) as refused:
        task_services.batch_create(**fields)  # type: ignore[arg-type]
    assert refused.value.fields == {
        "requirements[0]": ["'Long test' was made in the sandbox: it can gate sandbox batches only."]
    }
    assert Batch.objects.count() == batches_before
    batch = task_services.batch_create(**fields, sandbox=True)  # type: ignore[arg-type]
    assert batch.requirements.get().qualification == play_money
