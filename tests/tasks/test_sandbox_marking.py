"""Sandbox work is marked wherever it is told or shown, and kept out of everything real
(issue 24.6): notices and e-mails read "[Sandbox]", webhook deliveries carry
``"sandbox": true``, pages show a badge; earnings, dispatch weights, the mass-rejection guard,
ratings, data reports and exports never take play work for real work."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import organisation_staff_add
from core.errors import AppError
from core.models import OutboxEvent
from disputes.services import mass_rejection_check
from mturk.services import workers_notify
from notifications.models import Notification
from notifications.reminders import reminders_send
from notifications.services import notification_settings_set
from tasks import messages, services
from tasks.dispatch import recent_earnings
from tasks.models import Assignment, Batch
from tasks.personal_data import _export
from tests.factories import UserFactory
from tests.tasks.conftest import client_for
from tests.tasks.factories import make_batch, published_batch
from webhooks import services as webhook_services
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def _tester(organisation: Organisation, owner: User) -> User:
    user = UserFactory()
    organisation_staff_add(organisation=organisation, user=user, actor=owner)
    return user


def _sandbox_submitted(organisation: Organisation, owner: User, tester: User | None = None) -> Assignment:
    batch = services.batch_publish(batch=make_batch(organisation, sandbox=True), actor=owner)
    tester = tester or _tester(organisation, owner)
    slot = services.assignment_accept(worker=tester, batch=batch)
    return services.assignment_submit(worker=tester, assignment=slot, answers={"answer": "yes"})


def test_notices_and_emails_about_sandbox_work_read_sandbox(
    organisation: Organisation, requester: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    slot = _sandbox_submitted(organisation, requester)
    tester = slot.worker
    assert tester is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.assignment_reject(actor=requester, assignment=slot, reason="incomplete", text="Testing.")
    [notice] = Notification.objects.filter(user=tester)
    assert (notice.category, notice.params["sandbox"]) == ("sandbox_rejection", True)
    [message] = mail.outbox
    assert message.subject == "[Sandbox] Your test work on “Label animals” was rejected"
    assert "cannot be disputed" in message.body

    # The same on the inbox page, the notifications API and the older notices API.
    page = Client()
    page.force_login(tester)
    assert "[Sandbox] Your test work" in page.get("/inbox/").content.decode()
    api = client_for(tester)
    [entry] = api.get("/api/notifications/").json()["results"]
    assert entry["sandbox"] is True and entry["title"].startswith("[Sandbox] ")
    assert api.get("/api/tasks/notices/").json()[0]["sandbox"] is True

    # In the reader's language.
    notification_settings_set(user=tester, language="fr", time_zone="Europe/Paris")
    mail.outbox.clear()
    other = _sandbox_submitted(organisation, requester, tester)
    with django_capture_on_commit_callbacks(execute=True):
        services.assignment_reject(actor=requester, assignment=other, reason="incomplete", text="Encore.")
    assert mail.outbox[0].subject.startswith("[Bac à sable] ")


def test_real_notices_are_not_marked(organisation: Organisation, requester: User) -> None:
    batch = published_batch(organisation)
    worker = UserFactory()
    slot = services.assignment_accept(worker=worker, batch=batch)
    slot = services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})
    services.assignment_reject(actor=requester, assignment=slot, reason="incomplete", text="Wrong.")
    [notice] = Notification.objects.filter(user=worker)
    assert notice.category == "rejection" and "sandbox" not in notice.params
    assert client_for(worker).get("/api/notifications/").json()["results"][0]["sandbox"] is False


def test_bonuses_messages_and_requester_messages_of_sandbox_work_are_marked(
    organisation: Organisation, requester: User
) -> None:
    slot = _sandbox_submitted(organisation, requester)
    tester = slot.worker
    assert tester is not None
    approved = services.assignment_approve(actor=requester, assignment=slot)
    services.assignment_bonus(actor=requester, assignment=approved, amount=25, reason="Thanks")
    messages.message_to_requester(worker=tester, assignment_id=slot.pk, body="Was the sky question clear?")
    workers_notify(
        organisation=organisation, actor=requester, subject="Hi", message="Test", workers=[tester], sandbox=True
    )
    told = Notification.objects.filter(params__sandbox=True)
    assert sorted(set(told.values_list("category", flat=True))) == ["bonus", "requester_message", "task_message"]
    assert not Notification.objects.filter(category__in=["bonus", "requester_message", "task_message"]).exclude(
        params__sandbox=True
    )
    # The thread page shows the banner, the list the badge.
    page = Client()
    page.force_login(requester)
    thread = messages.threads_for_user(user=requester).get()
    assert 'id="sandbox-banner"' in page.get(f"/messages/{thread.pk}/").content.decode()
    assert 'class="badge sandbox"' in page.get("/messages/").content.decode()


def test_no_reminder_to_dispute_sandbox_work(organisation: Organisation, requester: User) -> None:
    slot = _sandbox_submitted(organisation, requester)
    services.assignment_reject(actor=requester, assignment=slot, reason="incomplete", text="Testing.")
    slot.refresh_from_db()
    assert slot.rejection_final_at is not None
    sent = reminders_send(now=slot.rejection_final_at - timedelta(hours=1, minutes=30))
    assert sent == 0
    assert not Notification.objects.filter(category="rejection_deadline").exists()


def test_webhook_deliveries_say_whether_the_work_is_sandbox(organisation: Organisation, requester: User) -> None:
    webhook_services.webhook_endpoint_create(
        organisation=organisation,
        actor=requester,
        url="https://hooks.example.org/coop",
        events=["submitted", "reviewable"],
    )
    OutboxEvent.objects.all().delete()
    sandbox_slot = _sandbox_submitted(organisation, requester)
    real_batch = published_batch(organisation)
    worker = UserFactory()
    real_slot = services.assignment_accept(worker=worker, batch=real_batch)
    services.assignment_submit(worker=worker, assignment=real_slot, answers={"answer": "yes"})
    assert webhook_services.webhook_deliveries_collect() == 2
    by_assignment = {d.payload["data"]["assignment_id"]: d for d in WebhookDelivery.objects.all()}
    assert by_assignment[sandbox_slot.pk].payload["sandbox"] is True
    assert by_assignment[real_slot.pk].payload["sandbox"] is False
    log = client_for(requester).get(f"/api/organisations/{organisation.slug}/webhook-deliveries/").json()["results"]
    assert {row["payload"]["data"]["assignment_id"]: row["sandbox"] for row in log} == {
        sandbox_slot.pk: True,
        real_slot.pk: False,
    }
    page = Client()
    page.force_login(requester)
    assert page.get(f"/org/{organisation.slug}/webhooks/").content.decode().count('class="badge sandbox"') == 1


def test_play_work_is_never_an_earning_a_rating_or_a_mass_rejection(
    organisation: Organisation, requester: User
) -> None:
    testers = [_tester(organisation, requester) for _ in range(4)]
    slots = [_sandbox_submitted(organisation, requester, tester) for tester in testers]
    services.assignment_approve(actor=requester, assignment=slots[0])
    for slot in slots[1:]:
        services.assignment_reject(actor=requester, assignment=slot, reason="incomplete", text="Testing the guard.")
    # Rejecting every tester's work is no mass rejection: no case, nothing frozen.
    assert mass_rejection_check(organisation_id=organisation.pk) is None
    assert Assignment.objects.filter(status=Assignment.Status.REJECTED).count() == 3
    # Play money is no earning for the dispatch lottery's weights.
    assert recent_earnings(worker_id=testers[0].pk, days=30) == 0
    # Sandbox work alone gives no say on the requester's reputation.
    with pytest.raises(AppError) as refused:
        services.requester_rate(
            worker=testers[0], organisation=organisation, pay_fairness=5, communication=5, review_speed=5
        )
    assert refused.value.code == "not_worked"
    # The earnings page: neither paid nor awaiting; the task list shows it, marked.
    page = Client()
    page.force_login(testers[0])
    earnings = page.get("/work/earnings/")
    assert earnings.context["paid"] == [] and earnings.context["awaiting"] == []
    assert earnings.context["awaiting_total"] == 0
    listed = page.get("/work/assignments/").content.decode()
    assert 'class="badge sandbox"' in listed
    api = client_for(testers[0]).get("/api/assignments/").json()["results"]
    assert [row["sandbox"] for row in api] == [True]
    # The personal-data export says which work was sandbox work.
    exported = _export(testers[0])
    assert [row["sandbox"] for row in exported["assignments"]] == [True]


def test_a_sandbox_batch_owes_no_data_report_and_exports_say_sandbox(
    organisation: Organisation, requester: User, requester_api: APIClient
) -> None:
    slot = _sandbox_submitted(organisation, requester)
    services.assignment_approve(actor=requester, assignment=slot)
    batch = Batch.objects.get(pk=slot.batch_id)
    services.batch_cancel(batch=batch, actor=requester)
    batch.refresh_from_db()
    batch.status = Batch.Status.COMPLETED  # as if every slot were done
    batch.ended_at = timezone.now()
    batch.save(update_fields=["status", "ended_at"])
    with pytest.raises(AppError) as refused:
        services.batch_data_report_file(
            batch=batch, actor=requester, used_for="Nothing.", matched="yes", matched_explanation="", published_where=""
        )
    assert refused.value.code == "sandbox"
    page = Client()
    page.force_login(requester)
    assert 'id="data-report-link"' not in page.get(f"/org/{organisation.slug}/batches/{batch.pk}/").content.decode()
    csv_response = requester_api.get(f"/api/batches/{batch.pk}/export/csv/")
    assert f'filename="sandbox-batch-{batch.pk}-results.csv"' in csv_response["Content-Disposition"]
    assert requester_api.get(f"/api/batches/{batch.pk}/export/json/").json()["sandbox"] is True
    # And the dashboard marks the sandbox batch among the others.
    published_batch(organisation)
    dashboard = page.get(f"/org/{organisation.slug}/").content.decode()
    assert dashboard.count('class="badge sandbox"') == 1
