"""The fairness engine in a real market (issue 20, 19.2 and 29.1): every regression through
the API and the project's own jobs on a fake clock."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import organisation_staff_add, organisation_staff_remove
from ledger.models import Transfer
from ledger.selectors import ledger_check
from notifications.models import Notification
from tasks import jobs, services
from tasks.models import Assignment, Batch, Bonus, FairPayReview
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import available, earnings, make_batch, published_batch

pytestmark = pytest.mark.django_db


def rows(count: int) -> str:
    return "animal,image_url\n" + "".join(f"cat,https://img.example/{n}.jpg\n" for n in range(count))


def work(batch: Batch, clock: Clock, minutes: float, worker: User | None = None) -> Assignment:
    """A worker accepts through the API, works ``minutes`` and submits through the API."""
    worker = worker or UserFactory()
    api = client_for(worker)
    accepted = api.post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert accepted.status_code == 201, accepted.json()
    clock.advance(minutes=minutes)
    pk = accepted.json()["id"]
    submitted = api.post(f"/api/assignments/{pk}/submit/", {"answers": {"answer": "yes"}}, format="json")
    assert submitted.status_code == 200, submitted.json()
    return Assignment.objects.get(pk=pk)


def owner_api(organisation: Organisation) -> APIClient:
    return client_for(organisation.staff.get(role="owner").user)


def approve(organisation: Organisation, slot: Assignment) -> None:
    response = owner_api(organisation).post(f"/api/batches/{slot.batch_id}/submissions/{slot.pk}/approve/")
    assert response.status_code == 200, response.json()


def reject(organisation: Organisation, slot: Assignment) -> None:
    response = owner_api(organisation).post(
        f"/api/batches/{slot.batch_id}/submissions/{slot.pk}/reject/",
        {"reason": "nonsensical_answers", "text": "Random clicks."},
        format="json",
    )
    assert response.status_code == 200, response.json()


def top_up_transfers(slot: Assignment) -> int:
    return Transfer.objects.filter(id=f"bonus:topup:assignment:{slot.pk}").count()


# --- 20.1: one batch cannot stop the job -------------------------------------------------------------


def test_a_cancelled_draft_does_not_stop_the_fair_pay_reviews(organisation: Organisation, clock: Clock) -> None:
    draft = make_batch(organisation)
    assert owner_api(organisation).post(f"/api/batches/{draft.pk}/cancel/").status_code == 200
    batch = published_batch(organisation, assignments_per_task=1)
    first, second = work(batch, clock, 5), work(batch, clock, 5)
    approve(organisation, first)
    approve(organisation, second)
    fund(organisation, 100)

    assert jobs.fair_pay_reviews.delay().get() == 1

    draft.refresh_from_db()
    assert draft.fair_pay_reviewed_at is not None and draft.fair_pay_error == ""
    assert not FairPayReview.objects.filter(batch=draft).exists()
    assert [earnings(first.worker), earnings(second.worker)] == [100, 100]
    assert jobs.fair_pay_reviews.delay().get() == 0


def test_a_failing_batch_is_recorded_and_retried_while_the_others_are_reviewed(
    organisation: Organisation, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = published_batch(organisation, assignments_per_task=1, title="failing")
    healthy = published_batch(organisation, assignments_per_task=1, title="healthy")
    slots = [work(failing, clock, 5), work(failing, clock, 5), work(healthy, clock, 5), work(healthy, clock, 5)]
    for slot in slots:
        approve(organisation, slot)
    fund(organisation, 200)
    real = services.batch_fair_pay_review
    failures = {"left": 1}

    def review(*, batch: Batch) -> Any:
        if batch.pk == failing.pk and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("lock timeout")
        return real(batch=batch)

    monkeypatch.setattr(services, "batch_fair_pay_review", review)

    assert jobs.fair_pay_reviews.delay().get() == 1
    failing.refresh_from_db()
    assert (failing.fair_pay_reviewed_at, failing.fair_pay_failures) == (None, 1)
    assert failing.fair_pay_error == "RuntimeError: lock timeout"
    assert [earnings(s.worker) for s in slots] == [50, 50, 100, 100]
    # The retry waits for its backoff, then succeeds.
    assert jobs.fair_pay_reviews.delay().get() == 0
    clock.advance(minutes=11)
    assert jobs.fair_pay_reviews.delay().get() == 1
    failing.refresh_from_db()
    assert failing.fair_pay_reviewed_at is not None and failing.fair_pay_error == ""
    assert [earnings(s.worker) for s in slots] == [100, 100, 100, 100]


# --- 20.2: work paid after the review gets its top-up ----------------------------------------------


def test_work_paid_by_a_dispute_after_the_review_gets_its_top_up(organisation: Organisation, clock: Clock) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    good, contested = work(batch, clock, 5), work(batch, clock, 5)
    approve(organisation, good)
    reject(organisation, contested)
    opened = client_for(contested.worker).post(
        "/api/disputes/cases/", {"assignment_id": contested.pk, "statement": "I answered carefully."}, format="json"
    )
    assert opened.status_code == 201, opened.json()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED  # a disputed slot does not hold the review back
    fund(organisation, 200)

    assert jobs.fair_pay_reviews.delay().get() == 1
    review = FairPayReview.objects.get(batch=batch)
    assert (review.top_up_per_assignment, review.top_ups_paid, review.top_ups_owed) == (50, 1, 0)
    assert (earnings(good.worker), earnings(contested.worker)) == (100, 0)

    # Days later the requester gives in: the reward and, in the same transaction, the top-up owed.
    clock.advance(days=2)
    answered = owner_api(organisation).post(
        f"/api/disputes/cases/{opened.json()['id']}/respond/", {"action": "accept"}, format="json"
    )
    assert answered.status_code == 200, answered.json()
    owed = Bonus.objects.get(key=f"topup:assignment:{contested.pk}")
    assert (owed.paid, owed.amount) == (False, 50)
    jobs.fair_pay_reviews.delay()
    jobs.fair_pay_reviews.delay()
    assert (earnings(good.worker), earnings(contested.worker)) == (100, 100)
    assert top_up_transfers(contested) == 1
    review.refresh_from_db()
    assert (review.top_ups_paid, review.top_ups_owed) == (2, 0)
    assert ledger_check() == []


def test_a_partly_paid_outcome_gets_its_share_of_the_top_up(organisation: Organisation, clock: Clock) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    good, contested = work(batch, clock, 5), work(batch, clock, 5)
    approve(organisation, good)
    reject(organisation, contested)
    fund(organisation, 200)
    jobs.fair_pay_reviews.delay()
    services.assignment_settle_outcome(assignment=contested, share_bps=5_000)
    assert Bonus.objects.get(key=f"topup:assignment:{contested.pk}").amount == 25
    jobs.fair_pay_reviews.delay()
    assert earnings(contested.worker) == 25 + 25


# --- 20.3 and 19.2: the measured time is the good-faith time of eligible workers ---------------------


def test_the_median_leaves_out_junk_staff_and_counts_workers_who_ran_out_of_time(
    organisation: Organisation, clock: Clock
) -> None:
    batch = published_batch(organisation, rows=rows(8), assignments_per_task=1, time_allotted_minutes=10)
    honest = [work(batch, clock, minutes) for minutes in (5, 6, 7)]
    fast_junk = [work(batch, clock, 0.1), work(batch, clock, 0.1)]  # approved by an inattentive requester
    rejected_junk = work(batch, clock, 0.1)
    # A worker who later joined the requester's staff: their work is not measured.
    insider = UserFactory()
    insider_work = work(batch, clock, 0.1, worker=insider)
    organisation_staff_add(organisation=organisation, user=insider, actor=organisation.staff.get().user)
    # An honest worker ran out of time and tried to submit after the grace: counted as 10 minutes.
    slow = UserFactory()
    accepted = client_for(slow).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json").json()
    clock.advance(minutes=16)
    late = client_for(slow).post(
        f"/api/assignments/{accepted['id']}/submit/", {"answers": {"answer": "y"}}, format="json"
    )
    assert late.status_code == 409
    assert jobs.expire_assignments.delay().get() == 1
    for slot in honest + fast_junk + [insider_work]:
        approve(organisation, slot)
    reject(organisation, rejected_junk)
    clock.advance(days=8)
    assert jobs.finalise_rejections.delay().get() == 1
    owner_api(organisation).post(f"/api/batches/{batch.pk}/cancel/")
    fund(organisation, 10_000)

    assert jobs.fair_pay_reviews.delay().get() == 1

    # Good faith: 300, 360, 420, 600 (the slow one) and the two 6-second ones; the fast ones are
    # under 25% of the first median (390), so the median of 300, 360, 420, 600 is 390 s.
    review = FairPayReview.objects.get(batch=batch)
    assert review.median_work_seconds == 390
    assert review.top_up_per_assignment == 130 - 50  # ceil(1200 * 390 / 3600) - reward
    paid = {slot.worker_id: earnings(slot.worker) for slot in honest + fast_junk + [insider_work]}
    assert set(paid.values()) == {130}
    assert earnings(rejected_junk.worker) == 0


def test_staff_present_or_former_cannot_take_rate_or_review_their_own_work(
    organisation: Organisation, clock: Clock
) -> None:
    batch = published_batch(organisation, assignments_per_task=2)
    owner = organisation.staff.get(role="owner").user
    colleague = UserFactory()
    organisation_staff_add(organisation=organisation, user=colleague, actor=owner)
    refused = client_for(colleague).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_eligible"
    # A worker who did work, then joined and left the staff: still staff for former_staff_days.
    insider = UserFactory()
    slot = work(batch, clock, 5, worker=insider)
    organisation_staff_add(organisation=organisation, user=insider, actor=owner)
    own = client_for(insider).post(f"/api/batches/{batch.pk}/submissions/{slot.pk}/approve/")
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_work"
    organisation_staff_remove(organisation=organisation, user=insider, actor=owner)
    rating = client_for(insider).post(
        f"/api/requesters/{organisation.slug}/ratings/",
        {"pay_fairness": 5, "communication": 5, "review_speed": 5},
        format="json",
    )
    assert rating.status_code == 403 and rating.json()["error"]["code"] == "own_organisation"
    again = client_for(insider).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert again.status_code == 403
    assert Assignment.objects.filter(worker=insider).count() == 1
    assert Assignment.objects.get(pk=slot.pk).status == Assignment.Status.SUBMITTED
    # After the governed period they are an ordinary worker again.
    clock.advance(days=181)
    later = client_for(insider).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json")
    assert later.status_code == 409  # only because this batch ended meanwhile or is full
    assert later.json()["error"]["code"] in ("batch_not_available", "no_open_slot")


# --- 29.1: top-ups survive a crash at any step ---------------------------------------------------


FAULT_POINTS = [
    ("tasks.services.fair_pay.FairPayReview.objects.create", "review"),
    ("tasks.services.fair_pay.Bonus.objects.bulk_create", "owe"),
    ("tasks.services.fair_pay.books.bonus_pay", "ledger"),
    ("tasks.services.fair_pay.Bonus.save", "mark paid"),
    ("tasks.services.fair_pay._notice", "notice"),
]


@pytest.mark.parametrize(("target", "step"), FAULT_POINTS, ids=[step for _, step in FAULT_POINTS])
def test_every_top_up_is_paid_exactly_once_after_a_crash_at_any_step(
    organisation: Organisation, clock: Clock, monkeypatch: pytest.MonkeyPatch, target: str, step: str
) -> None:
    batch = published_batch(organisation, rows=rows(5), assignments_per_task=1)
    slots = [work(batch, clock, 5) for _ in range(5)]
    owner = organisation.staff.get(role="owner").user
    services.assignments_approve_many(actor=owner, batch=batch, assignment_ids=[s.pk for s in slots])
    fund(organisation, 1_000)
    module_path, _, attribute = target.rpartition(".")
    import importlib

    if module_path.endswith(".objects"):
        owner_object: Any = importlib.import_module("tasks.services")
        for part in module_path.split(".")[2:]:
            owner_object = getattr(owner_object, part)
    else:
        parts = module_path.split(".")
        owner_object = importlib.import_module(".".join(parts[:2]))
        for part in parts[2:]:
            owner_object = getattr(owner_object, part)
    real = getattr(owner_object, attribute)
    calls = {"n": 0}

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        # The review's own steps fail on their first call; the payment's on the second top-up.
        if calls["n"] == (1 if step in ("review", "owe") else 2):
            raise ConnectionError(f"crash at {step}")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner_object, attribute, crash_once)
    jobs.fair_pay_reviews.delay()
    clock.advance(minutes=11)  # past a failed review's backoff
    jobs.fair_pay_reviews.delay()
    monkeypatch.setattr(owner_object, attribute, real)
    jobs.fair_pay_reviews.delay()

    assert calls["n"] >= 2
    assert [earnings(s.worker) for s in slots] == [100] * 5
    assert [top_up_transfers(s) for s in slots] == [1] * 5
    assert available(organisation) == 1_000 - 5 * 50
    review = FairPayReview.objects.get(batch=batch)
    assert (review.top_ups_paid, review.top_ups_owed) == (5, 0)
    assert Bonus.objects.filter(kind="fair_pay_top_up", paid=True).count() == 5
    assert Notification.objects.filter(category="top_up").count() == 5
    assert ledger_check() == []


def test_a_crash_inside_the_top_up_transaction_leaves_nothing_half_done(organisation: Organisation) -> None:
    """The ledger row and the paid flag commit together or not at all."""
    batch = published_batch(organisation, assignments_per_task=1)
    slot = Assignment.objects.filter(batch=batch).first()
    assert slot is not None
    with transaction.atomic():
        Assignment.objects.filter(pk=slot.pk).update(worker=UserFactory(), status=Assignment.Status.APPROVED)
    review = FairPayReview.objects.create(
        batch=batch, median_work_seconds=300, median_hourly_pay=600, floor_hourly=1200, top_up_per_assignment=50
    )
    slot.refresh_from_db()
    services.fair_pay._owe_top_ups(batch, review, [slot])
    bonus = Bonus.objects.get()
    fund(organisation, 50)
    assert services.fair_pay_top_up_pay(bonus_id=bonus.pk) is True
    assert services.fair_pay_top_up_pay(bonus_id=bonus.pk) is False
    assert top_up_transfers(slot) == 1


# --- 20.7, 20.8, 20.9 ----------------------------------------------------------------------------


def adopt(key: str, value: int) -> None:
    from django.utils import timezone

    from governance.models import Rule, RuleVersion
    from governance.selectors import rule_cache_invalidate

    RuleVersion.objects.create(
        rule=Rule.objects.get(key=key), value=value, effective_at=timezone.now() - timedelta(seconds=1)
    )
    rule_cache_invalidate(key)


def test_the_feed_card_says_formerly_for_a_recently_renamed_requester(organisation: Organisation, clock: Clock) -> None:
    from accounts.services import organisation_rename

    old_name = organisation.display_name
    published_batch(organisation)
    organisation_rename(organisation=organisation, new_name="Fresh Start Ltd", actor=organisation.staff.get().user)
    viewer = UserFactory()
    card = client_for(viewer).get("/api/tasks/feed/").json()["results"][0]
    assert (card["requester_name"], card["requester_formerly"]) == ("Fresh Start Ltd", [old_name])
    from django.test import Client

    browser = Client()
    browser.force_login(viewer)
    page = browser.get("/work/").content.decode()
    assert f"(formerly {old_name})" in page
    clock.advance(days=366)
    organisation.batches.update(expires_at=clock.now + timedelta(days=1))
    card = client_for(viewer).get("/api/tasks/feed/").json()["results"][0]
    assert card["requester_formerly"] == []


def test_a_long_qualification_test_is_paid_at_the_wage_floor_escrowed_when_offered(organisation: Organisation) -> None:
    fund(organisation, 100)
    created = owner_api(organisation).post(
        f"/api/organisations/{organisation.slug}/qualifications/",
        {
            "name": "Bird expert",
            "description": "Knows raptors.",
            "test_questions": [{"name": "q1", "question": "Forked tail?", "options": ["kite", "buzzard"]}],
            "answer_key": {"q1": "kite"},
            "estimated_minutes": 5,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    worker = UserFactory()
    api = client_for(worker)
    opened = api.get(f"/api/qualifications/{created.json()['id']}/test/").json()
    assert (opened["pay"], opened["pay_status"]) == (100, "offered")  # 12.00/h for 5 minutes
    assert available(organisation) == 0  # escrowed from the moment the test is offered
    assert api.get(f"/api/qualifications/{created.json()['id']}/test/").json()["pay"] == 100  # once
    taken = api.post(f"/api/qualifications/{created.json()['id']}/test/", {"answers": {"q1": "buzzard"}}, format="json")
    assert (taken.json()["score_bps"], taken.json()["granted"]) == (0, False)
    assert earnings(worker) == 100  # paid whatever the score
    retake = api.post(f"/api/qualifications/{created.json()['id']}/test/", {"answers": {"q1": "kite"}}, format="json")
    assert retake.json()["error"]["code"] == "retake_too_soon"  # the governed cooldown (issue 27.4)
    assert earnings(worker) == 100  # once
    # Nobody else can be offered it without funds: nothing is reserved, nothing changes.
    refused = client_for(UserFactory()).get(f"/api/qualifications/{created.json()['id']}/test/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "test_not_funded"
    assert ledger_check() == []


def test_a_two_minute_test_stays_unpaid(organisation: Organisation) -> None:
    qualification = services.qualification_create(
        organisation=organisation,
        actor=organisation.staff.get().user,
        name="Quick",
        description="Two questions.",
        test_questions=[{"name": "q1", "question": "?", "options": ["a"]}],
        answer_key={"q1": "a"},
        estimated_minutes=2,
    )
    assert services.qualification_test_pay(qualification=qualification) == 0
    assert client_for(UserFactory()).get(f"/api/qualifications/{qualification.pk}/test/").json()["pay"] == 0


def test_the_auto_approval_window_may_not_exceed_its_governed_maximum(organisation: Organisation) -> None:
    from tests.tasks.factories import batch_fields

    api = owner_api(organisation)
    too_long = api.post(
        f"/api/organisations/{organisation.slug}/batches/", batch_fields(auto_approval_hours=169), format="json"
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["fields"]["auto_approval_hours"] == ["The co-op allows 1 to 168 hours."]
    assert not Batch.objects.exists()
    batch = make_batch(organisation, auto_approval_hours=168)
    adopt("auto_approval_hours_max", 48)
    fund(organisation, 10_000)
    refused = api.post(f"/api/batches/{batch.pk}/publish/")
    assert refused.status_code == 400 and "auto_approval_hours" in refused.json()["error"]["fields"]
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT and not batch.assignments.exists()


def test_the_rules_page_states_the_fair_pay_and_mass_rejection_formulas() -> None:
    from django.test import Client
    from django.urls import reverse

    from disputes.services import MASS_REJECTION_RULE

    page = Client().get(reverse("rules")).content.decode()
    assert 'id="fair-pay-formula"' in page and 'id="mass-rejection-rule"' in page
    # In plain words: the rules are named as the rules page names them, never by their stored keys.
    assert "attempts faster than the “Implausibly fast work” share of their median are left out" in page
    assert "the “Former staff” period" in page and "never the rejections" in str(MASS_REJECTION_RULE)
    assert "fair_pay_fast_share_bps of their" not in page and "within former_staff_days" not in page
    for key in ("former_staff_days", "fair_pay_fast_share_bps", "late_submission_grace_minutes",
                "time_allotted_headroom_bps", "mass_rejection_min_workers", "qualification_test_free_minutes",
                "auto_approval_hours_max", "former_name_days"):  # fmt: skip
        assert f'id="rule-{key}"' in page


def test_a_short_clock_grows_when_the_measured_time_nears_it(organisation: Organisation, clock: Clock) -> None:
    """Issue 20.4: honest workers lost unpaid hours to expiry on batches whose time allotted was
    twice a too-short estimate. Now the time allotted grows with the measured time."""
    batch = published_batch(organisation, rows=rows(6), assignments_per_task=1, time_allotted_minutes=10)
    for _ in range(3):
        work(batch, clock, 8)
    waiting = UserFactory()
    accepted = client_for(waiting).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json").json()

    assert jobs.grow_short_clocks.delay().get() == 1

    batch.refresh_from_db()
    assert batch.time_allotted_minutes == 12  # 8 minutes measured x the founding 1.5
    slot = Assignment.objects.get(pk=accepted["id"])
    assert slot.deadline_at == slot.accepted_at + timedelta(minutes=12)
    assert jobs.grow_short_clocks.delay().get() == 0  # idempotent
    clock.advance(minutes=16)  # past the old 10 minutes and the grace, within the new 12 and the grace
    submitted = client_for(waiting).post(
        f"/api/assignments/{slot.pk}/submit/", {"answers": {"answer": "yes"}}, format="json"
    )
    assert submitted.status_code == 200, submitted.json()
    late = client_for(UserFactory()).post(f"/api/tasks/feed/{batch.pk}/accept/", {}, format="json").json()
    fresh = Assignment.objects.get(pk=late["id"])
    assert fresh.deadline_at == fresh.accepted_at + timedelta(minutes=12)
