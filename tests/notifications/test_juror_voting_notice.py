"""Jurors are told when the evidence stage ends and sealed votes open, with their vote's
deadline: in the inbox and by e-mail in their language and time zone, once."""

from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from disputes import jobs as dispute_jobs
from disputes import services as dispute_services
from disputes import states
from disputes.models import Case, Juror
from notifications import services as notification_services
from notifications.models import Notification
from tests.disputes.factories import jurors, rejected_work
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _case_in_evidence() -> Case:
    jurors(6)
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    owner = case.organisation.staff.get(role="owner").user
    dispute_services.case_respond(case=case, actor=owner, action="contest", text="Random answers.")
    case.refresh_from_db()
    assert case.state == states.EVIDENCE
    return case


def test_serving_jurors_are_told_when_voting_opens_in_their_language_and_time_zone(
    clock, django_capture_on_commit_callbacks
) -> None:
    bystander = MemberFactory(membership__juror_opt_in=False)
    case = _case_in_evidence()
    serving = list(Juror.objects.filter(case=case, status=Juror.Status.SERVING).order_by("id"))
    caracas = serving[0].user
    notification_services.notification_settings_set(user=caracas, language="es", time_zone="America/Caracas")
    assert not Notification.objects.filter(category="juror_voting_open").exists()  # not before voting opens
    mail.outbox.clear()

    clock.advance(hours=49)  # past the evidence deadline
    with django_capture_on_commit_callbacks(execute=True):
        dispute_jobs.run_deadlines.delay()
    case.refresh_from_db()
    assert case.state == states.VOTING

    told = Notification.objects.filter(category="juror_voting_open")
    assert {entry.user_id for entry in told} == {juror.user_id for juror in serving}
    assert bystander.pk not in {entry.user_id for entry in told}
    assert case.worker_id not in {entry.user_id for entry in told}
    entry = told.get(user=caracas)
    assert entry.params["deadline"] == case.due_at.isoformat() and entry.url == f"/cases/{case.pk}/"

    [message] = [m for m in mail.outbox if caracas.email in m.to]
    assert message.subject == f"La votación está abierta en el caso {case.pk}"
    local = case.due_at.astimezone(ZoneInfo("America/Caracas"))
    assert f"{local:%H:%M}" in message.body and "-04" in message.body
    assert len([m for m in mail.outbox if m.subject.endswith(f"{case.pk}")]) == len(serving)

    # The job runs again (a retry, the next beat): nobody is told twice.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        dispute_jobs.run_deadlines.delay()
        from disputes import notices

        notices.voting_opened(case)
    assert told.count() == len(serving)
    assert mail.outbox == []
