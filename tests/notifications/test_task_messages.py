"""Messages about a task: the worker writes to the requester of work they submitted, the
requester answers; pseudonymous, no e-mail address crosses; both inboxes; the case file
shows the thread only with both parties' consent."""

import pytest
from rest_framework.test import APIClient

from core.errors import AppError
from disputes import selectors as dispute_selectors
from disputes import services as dispute_services
from notifications.models import Notification
from tasks import messages
from tasks.models import TaskMessage
from tests.disputes.factories import batch_for, reject, submitted
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def setting():
    organisation = OrganisationFactory()
    owner = organisation.staff.get(role="owner").user
    worker = UserFactory(email="private-worker@example.org")
    work = submitted(batch_for(organisation), worker)
    return organisation, owner, worker, work


def test_worker_writes_requester_answers_both_inboxes_no_addresses(setting) -> None:
    organisation, owner, worker, work = setting
    sent = api_for(worker).post(f"/api/assignments/{work.pk}/messages/", {"body": "Was my label right?"}, format="json")
    assert sent.status_code == 201
    thread_id = sent.json()["id"]
    assert sent.json()["worker"] == worker.pseudonym
    to_requester = Notification.objects.get(category="task_message")
    assert to_requester.user == owner and to_requester.params["sender"] == worker.pseudonym
    assert to_requester.url == f"/messages/{thread_id}/"

    answer = api_for(owner).post(f"/api/task-threads/{thread_id}/", {"body": "Yes, thank you."}, format="json")
    assert answer.status_code == 201
    body = answer.json()
    assert [(m["side"], m["sender"], m["body"]) for m in body["messages"]] == [
        ("worker", worker.pseudonym, "Was my label right?"),
        ("requester", organisation.display_name, "Yes, thank you."),
    ]
    to_worker = Notification.objects.filter(category="task_message", user=worker).get()
    assert to_worker.params["sender"] == organisation.display_name
    shown = str(body) + str(api_for(worker).get(f"/api/task-threads/{thread_id}/").json())
    assert worker.email not in shown and owner.email not in shown and organisation.contact_email not in shown


def test_outsiders_and_unsubmitted_work_are_refused_and_nothing_is_written(setting) -> None:
    organisation, _owner, worker, work = setting
    stranger = UserFactory()
    assert (
        api_for(stranger).post(f"/api/assignments/{work.pk}/messages/", {"body": "Hi"}, format="json").status_code
        == 404
    )
    message = messages.message_to_requester(worker=worker, assignment_id=work.pk, body="Hello")
    refused = api_for(stranger).post(f"/api/task-threads/{message.thread_id}/", {"body": "Me too"}, format="json")
    assert refused.status_code == 404
    assert api_for(stranger).get(f"/api/task-threads/{message.thread_id}/").status_code == 404
    from tasks import services as task_services

    open_slot = task_services.assignment_accept(worker=stranger, batch=batch_for(organisation))
    with pytest.raises(AppError) as raised:
        messages.message_to_requester(worker=stranger, assignment_id=open_slot.pk, body="Before submitting")
    assert raised.value.code == "not_worked_on"
    assert TaskMessage.objects.count() == 1


def test_the_case_file_shows_the_thread_only_with_both_consents(setting) -> None:
    organisation, owner, worker, work = setting
    message = messages.message_to_requester(worker=worker, assignment_id=work.pk, body="I followed the guide.")
    messages.message_reply(thread_id=message.thread_id, author=owner, body="The guide says dogs only.")
    reject(work)
    case = dispute_services.dispute_open(worker=worker, assignment_id=work.pk, statement="I did it right.")

    def file_for(user):
        access = dispute_selectors.access_case(user=user, case_id=case.pk)
        return dispute_selectors.case_view(access=access)["conversations"]

    assert file_for(worker) == []
    messages.thread_share_with_case(thread_id=message.thread_id, user=worker, share=True)
    assert file_for(owner) == []
    api_for(owner).post(f"/api/task-threads/{message.thread_id}/share/", {"share": True}, format="json")
    [conversation] = file_for(worker)
    assert [(m["sender"], m["body"]) for m in conversation] == [
        (worker.pseudonym, "I followed the guide."),
        (organisation.display_name, "The guide says dogs only."),
    ]
    messages.thread_share_with_case(thread_id=message.thread_id, user=worker, share=False)
    assert file_for(owner) == []


def test_message_pages_for_both_sides(client, setting) -> None:
    organisation, owner, worker, work = setting
    client.force_login(worker)
    response = client.post(f"/work/assignments/{work.pk}/message/", {"body": "Question about row 2."})
    thread_id = TaskMessage.objects.get().thread_id
    assert response["Location"] == f"/messages/{thread_id}/"
    client.force_login(owner)
    page = client.get(f"/messages/{thread_id}/").content.decode()
    assert "Question about row 2." in page and worker.pseudonym in page and worker.email not in page
    client.post(f"/messages/{thread_id}/", {"body": "Row 2 is a cat."})
    assert TaskMessage.objects.filter(side="requester").get().body == "Row 2 is a cat."
    assert organisation.display_name in client.get("/messages/").content.decode()
