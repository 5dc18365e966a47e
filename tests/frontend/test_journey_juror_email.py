"""A juror who reads only e-mail: drawn onto a case, they hear nothing more until the
evidence stage ends; then an e-mail in their language says voting is open and by when
(in their time zone), its link leads to the case, and they cast a sealed vote. In a real
browser; the evidence deadline is moved to now and the job beat runs does the rest."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from disputes import jobs as dispute_jobs
from disputes import services as dispute_services
from disputes.models import Case, Juror
from notifications import services as notification_services
from tests.disputes.factories import jurors, rejected_work

pytestmark = pytest.mark.browser


def test_a_juror_reading_only_email_learns_voting_opened_and_votes(open_page, screenshot) -> None:
    jurors(3)
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    owner = case.organisation.staff.get(role="owner").user
    dispute_services.case_respond(case=case, actor=owner, action="contest", text="Random answers.")
    seat = Juror.objects.filter(case=case).order_by("id").first()
    juror = seat.user
    notification_services.notification_settings_set(user=juror, language="fr", time_zone="Asia/Kolkata")
    mail.outbox.clear()

    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    dispute_jobs.run_deadlines()
    case.refresh_from_db()
    assert case.state == Case.State.VOTING

    [message] = [m for m in mail.outbox if juror.email in m.to]
    assert message.subject == f"Le vote est ouvert sur le dossier {case.pk}"
    due = case.due_at.astimezone(ZoneInfo("Asia/Kolkata"))
    assert f"{due:%H:%M} IST" in message.body
    link = re.search(r"https?://[^/\s]+(/inbox/\d+/)", message.body)
    assert link is not None

    page = open_page(juror)
    page.goto(link.group(1))  # the e-mail's link opens the case (and marks the notice read)
    page.wait_for_url(re.compile(f"/cases/{case.pk}/$"))
    assert page.locator("#case-state").get_attribute("data-state") == "voting"
    screenshot(page, "case-from-email")
    page.locator("#id_share").fill("100")
    page.locator("#id_reason").fill("The work was complete.")
    page.locator("form").filter(has=page.locator("#id_share")).locator("button[type=submit]").click()
    page.locator("#own-vote").wait_for()
    seat.refresh_from_db()
    assert seat.status == Juror.Status.VOTED
