"""The worker's day (issue 25.4) through the pages and the API: submit and take the next
task, earnings awaiting review with their auto-approval dates, one source for the
requester's record on the feed card and its page, a rating form with no preset answer,
the first-visit introduction; and the site's own password-reset pages (issue 25.6)."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User, WorkerProfile
from core.models import AuditEvent
from tasks import selectors
from tasks import services as task_services
from tasks.models import Assignment, AssignmentAttempt, RequesterPayStat, RequesterRating
from tests.factories import UserFactory
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _submitted(batch, worker: User) -> Assignment:  # type: ignore[no-untyped-def]
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    return task_services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})


# --- Submit and take the next task -----------------------------------------------------------------


def test_submit_and_take_the_next_task_claims_another_task_of_the_same_batch(organisation, worker) -> None:
    batch = published_batch(organisation, title="Label animals", assignments_per_task=1)
    first = task_services.assignment_accept(worker=worker, batch=batch)
    client = _signed_in(worker)
    assert 'id="take-next"' in client.get(f"/work/assignments/{first.pk}/").content.decode()

    response = client.post(
        f"/work/assignments/{first.pk}/submit/", {"answers": json.dumps({"answer": "yes"}), "take_next": "1"}
    )

    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    following = Assignment.objects.get(worker=worker, status=Assignment.Status.ACCEPTED)
    assert following.batch_id == batch.pk and following.task_id != first.task_id
    assert response.status_code == 302 and response["Location"] == f"/work/assignments/{following.pk}/"
    # The choice is remembered for the next task's page.
    assert 'id="take-next" checked' in client.get(response["Location"]).content.decode()


def test_take_next_on_a_finished_batch_keeps_the_submission_and_says_why(organisation, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    first = task_services.assignment_accept(worker=worker, batch=batch)
    others = [task_services.assignment_accept(worker=UserFactory(), batch=batch)]  # the only other slot
    client = _signed_in(worker)

    response = client.post(
        f"/work/assignments/{first.pk}/submit/",
        {"answers": json.dumps({"answer": "yes"}), "take_next": "1"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/work/"
    assert "No next task from this batch" in response.content.decode()
    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    assert Assignment.objects.filter(worker=worker).count() == 1  # nothing else claimed
    assert others[0].status == Assignment.Status.ACCEPTED


def test_submit_without_take_next_goes_to_the_workers_list(organisation, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    first = task_services.assignment_accept(worker=worker, batch=batch)
    response = _signed_in(worker).post(f"/work/assignments/{first.pk}/submit/", {"answers": '{"answer": "yes"}'})
    assert response["Location"] == "/work/assignments/"
    assert Assignment.objects.filter(worker=worker).count() == 1


def test_the_api_submits_and_takes_the_next_task(organisation, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    first = task_services.assignment_accept(worker=worker, batch=batch)
    api = APIClient()
    api.force_authenticate(worker)

    body = api.post(
        f"/api/assignments/{first.pk}/submit/", {"answers": {"answer": "yes"}, "take_next": True}, format="json"
    ).json()

    assert body["status"] == Assignment.Status.SUBMITTED and body["next_refusal"] is None
    following = Assignment.objects.get(worker=worker, status=Assignment.Status.ACCEPTED)
    assert body["next_assignment"]["id"] == following.pk and body["next_assignment"]["batch_id"] == batch.pk

    # The batch has no task left for this worker: the submission stands, the refusal says why.
    done = api.post(
        f"/api/assignments/{following.pk}/submit/",
        {"answers": {"answer": "no"}, "take_next": True},
        format="json",
    ).json()
    assert done["status"] == Assignment.Status.SUBMITTED and done["next_assignment"] is None
    assert done["next_refusal"]["code"] == "no_open_slot"
    assert Assignment.objects.filter(worker=worker).count() == 2


# --- Earnings awaiting review ----------------------------------------------------------------------


def test_earnings_list_the_work_awaiting_review_with_its_auto_approval_date(organisation, worker) -> None:
    batch = published_batch(organisation, title="Label animals", assignments_per_task=1, reward=70)
    waiting = _submitted(batch, worker)
    assert waiting.auto_approve_at is not None
    page = _signed_in(worker).get("/work/earnings/")
    html = page.content.decode()
    assert [a.pk for a in page.context["awaiting"]] == [waiting.pk]
    assert page.context["awaiting_total"] == 70
    assert 'id="awaiting-total">0.70 EUR' in html
    section = html[html.index('id="awaiting-review"') :]
    assert "Label animals" in section and "Approved automatically by" in section
    local = timezone.localtime(waiting.auto_approve_at)
    assert str(local.day) in section and "(in " in section  # the date, and how far away it is

    api = APIClient()
    api.force_authenticate(worker)
    rows = api.get("/api/assignments/?status=submitted").json()["results"]
    assert [row["id"] for row in rows] == [waiting.pk]
    assert rows[0]["auto_approve_at"] is not None


def test_decided_work_leaves_the_awaiting_list(organisation, requester, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    waiting = _submitted(batch, worker)
    task_services.assignment_approve(actor=requester, assignment=waiting)
    assert selectors.worker_awaiting_review(worker=worker) == []
    assert "No work is waiting for review." in _signed_in(worker).get("/work/earnings/").content.decode()


# --- The requester's record: one source for the card and the page ---------------------------------


def test_the_feed_card_and_the_requester_page_show_the_same_measured_record(organisation, requester) -> None:
    decided = published_batch(organisation, title="Old work", assignments_per_task=2, funds=100_000)
    workers = [UserFactory() for _ in range(4)]
    slots = []
    for index, person in enumerate(workers):
        slot = task_services.assignment_accept(worker=person, batch=decided)
        slots.append(task_services.assignment_submit(worker=person, assignment=slot, answers={"answer": "yes"}))
    # Work times of 60, 120, 180 and 240 seconds for 0.50: 30.00, 15.00, 10.00 and 7.50 an hour.
    for seconds, slot in zip((60, 120, 180, 240), slots, strict=True):
        AssignmentAttempt.objects.filter(assignment=slot).update(work_seconds=seconds)
    for slot in slots[:3]:
        task_services.assignment_approve(actor=requester, assignment=slot)
    task_services.assignment_reject(
        actor=requester, assignment=slots[3], reason="incomplete", text="Half the fields were empty."
    )
    published_batch(organisation, title="New work")
    # The periodic statistic the card used to read was never computed (the job has not run).
    assert not RequesterPayStat.objects.exists()

    reader = UserFactory()
    client = _signed_in(reader)
    feed = client.get("/work/").content.decode()
    card = feed[feed.index("New work") :]
    card = card[: card.index("Accept a task")]
    page = client.get(f"/requesters/{organisation.slug}/").content.decode()

    # Median of 30.00, 15.00, 10.00, 7.50 = 12.50 an hour; 3 of 4 decisions approved.
    assert "paid a median 12.50 EUR/h measured over 4 submissions" in card
    assert "approves 75%" in card
    assert "12.50 EUR an hour (median of 4 submissions)" in page
    assert "75%" in page
    assert "no measured pay yet" not in card

    api = APIClient()
    api.force_authenticate(reader)
    items = {item["title"]: item for item in api.get("/api/tasks/feed/").json()["results"]}
    assert items["New work"]["requester_measured_hourly_pay"] == 1250
    assert items["New work"]["requester_approval_rate_bps"] == 7500
    reputation = selectors.requester_reputation(organisation=organisation)
    assert (reputation["measured_hourly_pay"], reputation["approval_rate_bps"]) == (1250, 7500)


# --- Rating form -----------------------------------------------------------------------------------


def test_the_rating_form_presets_no_score_and_names_the_missing_ones(organisation, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    _submitted(batch, worker)
    client = _signed_in(worker)
    url = f"/requesters/{organisation.slug}/"
    form = client.get(url).content.decode()
    assert form.count('<option value="" selected>Choose a score</option>') == 3
    assert 'value="5" selected' not in form

    refused = client.post(url, {"pay_fairness": "4", "comment": "Clear instructions."})
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "Choose a score from 1 to 5 for communication." in html
    assert "Choose a score from 1 to 5 for review speed." in html
    assert "for fair pay" not in html
    assert not RequesterRating.objects.exists()

    saved = client.post(url, {"pay_fairness": "4", "communication": "3", "review_speed": "5"})
    assert saved.status_code == 302
    rating = RequesterRating.objects.get()
    assert (rating.pay_fairness, rating.communication, rating.review_speed) == (4, 3, 5)


# --- First-visit introduction ----------------------------------------------------------------------


def test_a_new_worker_is_introduced_once_and_can_skip_it(worker) -> None:
    client = _signed_in(worker)
    feed = client.get("/work/").content.decode()
    assert 'id="introduction"' in feed
    for topic in ("Pay.", "Escrow.", "Disputes.", "Payouts.", "Votes."):
        assert topic in feed
    assert "12.00 EUR an hour" in feed  # the minimum wage in force

    skipped = client.post("/work/welcome/", {"choice": "skip"}, follow=True)
    assert skipped.redirect_chain[-1][0] == "/work/"
    assert 'id="introduction"' not in skipped.content.decode()
    assert "Introduction skipped" in skipped.content.decode()
    profile = WorkerProfile.objects.get(user=worker)
    first_moment = profile.introduced_at
    assert first_moment is not None
    assert AuditEvent.objects.filter(action="profile.introduced", actor=worker).count() == 1

    # Remembered across sign-ins; still readable on its own page; a second post changes nothing.
    again = _signed_in(worker)
    assert 'id="introduction"' not in again.get("/work/").content.decode()
    welcome = again.get("/work/welcome/").content.decode()
    assert "How work and pay work here" in welcome and "Skip the introduction" not in welcome
    again.post("/work/welcome/", {"choice": "read"})
    profile.refresh_from_db()
    assert profile.introduced_at == first_moment
    assert AuditEvent.objects.filter(action="profile.introduced").count() == 1


def test_the_introduction_is_not_shown_to_someone_else_when_one_worker_skips(worker) -> None:
    other = UserFactory()
    _signed_in(worker).post("/work/welcome/", {"choice": "read"})
    assert 'id="introduction"' in _signed_in(other).get("/work/").content.decode()


# --- Password reset ------------------------------------------------------------------------------


def test_password_reset_pages_are_the_sites_own(worker) -> None:
    client = Client()
    form = client.get("/accounts/password-reset/").content.decode()
    assert "Django administration" not in form
    assert 'class="skip"' in form and "Reset your password" in form and 'href="/static/frontend/site.css"' in form
    done = client.post("/accounts/password-reset/", {"email": worker.email}, follow=True).content.decode()
    assert "Check your email" in done and "Django administration" not in done
    complete = client.get("/accounts/reset/done/").content.decode()
    assert "Password changed" in complete and "Django administration" not in complete
    bad_link = client.get("/accounts/reset/MQ/bad-token/").content.decode()
    assert "This link is no longer valid" in bad_link and "Django administration" not in bad_link


def test_auto_approval_date_is_the_submission_plus_the_governed_hours(organisation, worker) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    before = timezone.now()
    waiting = _submitted(batch, worker)
    hours = batch.effective_auto_approval_hours
    assert waiting.auto_approve_at is not None
    assert before + timedelta(hours=hours) <= waiting.auto_approve_at <= timezone.now() + timedelta(hours=hours)
