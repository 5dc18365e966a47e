"""Reminders 24 hours and 2 hours before each deadline that costs money or a vote, by a
fake clock; each goes out once however often the job runs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from disputes import services as dispute_services
from notifications import jobs
from notifications.models import Notification, ReminderSent
from notifications.reminders import reminders_send
from tests.disputes.factories import rejected_work
from tests.factories import MemberFactory
from tests.governance.factories import rule_change, to_voting, vote

pytestmark = pytest.mark.django_db


def reminded(category: str) -> list[int]:
    return sorted(Notification.objects.filter(category=category).values_list("user_id", flat=True))


def test_a_rejection_is_reminded_24_and_2_hours_before_it_becomes_final(clock) -> None:
    work = rejected_work()
    final_at = work.rejection_final_at
    assert reminders_send(now=timezone.now()) == 0  # seven days left

    clock.advance(days=6, hours=1)  # 23 hours left
    assert jobs.send_reminders.delay().get() == 1
    assert jobs.send_reminders.delay().get() == 0  # once per window
    assert reminded("rejection_deadline") == [work.worker_id]
    entry = Notification.objects.get(category="rejection_deadline")
    assert entry.params["deadline"] == final_at.isoformat()

    clock.advance(hours=21, minutes=30)  # 1.5 hours left
    assert reminders_send(now=timezone.now()) == 1
    assert reminders_send(now=timezone.now()) == 0
    assert list(ReminderSent.objects.order_by("id").values_list("window", flat=True)) == ["24h", "2h"]

    clock.advance(hours=2)  # past the deadline: nothing more
    assert reminders_send(now=timezone.now()) == 0


def test_a_disputed_rejection_gets_no_deadline_reminder_but_the_requester_its_answer_due(clock) -> None:
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    clock.advance(hours=case.rule("requester_response_hours") - 23)
    assert reminders_send(now=timezone.now()) == 1
    owner = case.organisation.staff.get(role="owner").user
    assert reminded("response_due") == [owner.pk]
    assert reminded("rejection_deadline") == []


def test_voting_closing_reminds_only_members_who_have_not_voted(clock) -> None:
    author, voter, waiting = (MemberFactory() for _ in range(3))
    proposal = to_voting(rule_change(author, value=1300), start=timezone.now())
    vote(proposal, [author, voter], "yes")
    left = proposal.voting_closes_at - timezone.now()
    clock.advance(seconds=(left - timedelta(hours=20)).total_seconds())
    assert reminders_send(now=timezone.now()) == 1
    assert reminded("proposal_closing") == [waiting.pk]


def test_a_serving_juror_who_has_not_voted_is_reminded_before_the_vote_closes(clock) -> None:
    from disputes import jobs as dispute_jobs
    from disputes.models import Juror
    from tests.disputes.factories import jurors

    jurors(5)
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    owner = case.organisation.staff.get(role="owner").user
    dispute_services.case_respond(case=case, actor=owner, action="contest", text="Random answers.")
    clock.advance(hours=49)
    dispute_jobs.run_deadlines.delay()  # evidence closes, voting opens
    first, *others = Juror.objects.filter(case=case).order_by("id")
    dispute_services.case_vote(case=case, juror_user=first.user, share_bps=10_000, reason="Fine.")
    case.refresh_from_db()
    clock.advance(seconds=(case.due_at - timezone.now() - timedelta(hours=1)).total_seconds())
    assert reminders_send(now=timezone.now()) == 2
    assert reminded("juror_vote_due") == sorted(j.user_id for j in others)
