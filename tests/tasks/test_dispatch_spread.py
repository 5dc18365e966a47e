"""Fair dispatch, the spread (issue 26): waves sized by the measured activity of their hour
(seeded history, fake clock), equal waves with no history, the plan re-derived from the
figures stored with the batch, rollover, the measure's own recording and pruning, and the
draw's notices (sent once, in the reader's language and time zone)."""

import io
import json
import zipfile
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, translation

from accounts.models import User, WorkerProfile
from notifications.models import Notification, NotificationPreference
from notifications.render import words
from tasks import activity, dispatch, jobs, services
from tasks.models import Assignment, Batch, DispatchWave, WaveApplication, WorkerActivity
from tasks.services import activity as activity_services
from tests.factories import UserFactory, signed_in_now
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db

TEMPLATE = '<p>${text}</p><input name="label" required>'
# A Thursday, midnight UTC: wave k (from 1) opens at (k - 1):00 UTC.
PUBLISHED = datetime(2026, 12, 10, 0, 0, tzinfo=UTC)


def rows(count: int) -> str:
    return "text\n" + "\n".join(f"sentence {i}" for i in range(count)) + "\n"


def waves_batch(organisation, *, slots: int = 48, **overrides) -> Batch:  # type: ignore[no-untyped-def]
    fields = {"template_html": TEMPLATE, "assignments_per_task": 1, "dispatch_mode": "waves", **overrides}
    return published_batch(organisation, rows=rows(slots), **fields)


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with a process that has written no worker's hour yet."""
    monkeypatch.setattr(activity_services, "_written", (-1, set()))
    yield


@pytest.fixture
def at_publication(clock: Clock) -> Clock:
    clock.now = PUBLISHED
    return clock


def seed_history(workers: list[User], hours: list[int], *, days: int = 7, before: datetime = PUBLISHED) -> None:
    """``workers`` looked for work in ``hours`` (UTC) on each of the ``days`` days before
    ``before``'s day, recorded through the platform's own service."""
    for worker in workers:
        for back in range(1, days + 1):
            day = before - timedelta(days=back)
            for hour in hours:
                activity_services.worker_activity_record(worker=worker, at=day.replace(hour=hour, minute=17))


# --- The measure ---------------------------------------------------------------------------------


def test_a_visit_is_written_once_an_hour_as_a_bit_of_the_day(worker: User) -> None:
    morning = datetime(2026, 12, 9, 7, 5, tzinfo=UTC)
    assert activity_services.worker_activity_record(worker=worker, at=morning)
    with CaptureQueriesContext(connection) as later_the_same_hour:
        assert not activity_services.worker_activity_record(worker=worker, at=morning + timedelta(minutes=40))
    assert len(later_the_same_hour) == 0
    assert activity_services.worker_activity_record(worker=worker, at=morning + timedelta(hours=14))
    row = WorkerActivity.objects.get(worker=worker)
    assert row.day == date(2026, 12, 9)
    assert activity.mask_hours(row.hours) == [7, 21]
    # Another process (or this one after a restart) writing the same hour changes nothing.
    activity_services._written = (-1, set())
    assert activity_services.worker_activity_record(worker=worker, at=morning)
    assert WorkerActivity.objects.get(worker=worker).hours == activity.hour_mask([7, 21])
    # The next UTC day is a row of its own.
    activity_services.worker_activity_record(worker=worker, at=morning + timedelta(days=1))
    assert list(WorkerActivity.objects.filter(worker=worker).order_by("day").values_list("day", "hours")) == [
        (date(2026, 12, 9), activity.hour_mask([7, 21])),
        (date(2026, 12, 10), activity.hour_mask([7])),
    ]


def test_the_feed_and_a_batch_page_record_the_hour(organisation, worker: User, clock: Clock) -> None:
    batch = waves_batch(organisation)
    assert client_for(worker).get(reverse("api-feed")).status_code == 200
    [row] = WorkerActivity.objects.filter(worker=worker)
    assert activity.mask_hours(row.hours) == [activity.utc_hour(clock.now)]
    other = UserFactory()
    page = client_for(other)
    page.force_login(other)
    assert page.get(reverse("worker_batch", args=[batch.pk])).status_code == 200
    assert WorkerActivity.objects.filter(worker=other).exists()


def test_rows_older_than_the_measure_are_pruned(worker: User, clock: Clock) -> None:
    clock.now = PUBLISHED
    for back in range(12):
        activity_services.worker_activity_record(worker=worker, at=PUBLISHED - timedelta(days=back))
    assert jobs.activity_prune() == 4  # today and the 7 days measured stay
    kept = sorted(WorkerActivity.objects.filter(worker=worker).values_list("day", flat=True))
    assert kept == [PUBLISHED.date() - timedelta(days=back) for back in range(7, -1, -1)]


def test_the_measure_counts_only_workers_who_could_take_the_batch(organisation, at_publication: Clock) -> None:
    locals_, abroad, blocked, suspended = (UserFactory.create_batch(n) for n in (3, 2, 1, 1))
    for worker in [*locals_, blocked[0], suspended[0]]:
        WorkerProfile.objects.filter(user=worker).update(country="DE")
    WorkerProfile.objects.filter(user__in=abroad).update(country="FR")
    staff = organisation.staff.get().user
    seed_history([*locals_, *abroad, *blocked, *suspended, staff], [9])
    services.worker_block(organisation=organisation, actor=staff, worker=blocked[0], reason="Copied answers.")
    User.objects.filter(pk=suspended[0].pk).update(suspended_at=PUBLISHED, suspension_reason="Fraud.")
    # Outside the 7 whole days before publication: 8 days back, and the day of publication.
    activity_services.worker_activity_record(worker=locals_[0], at=PUBLISHED - timedelta(days=8, hours=-9))
    activity_services.worker_activity_record(worker=locals_[0], at=PUBLISHED + timedelta(minutes=1))
    requirement = [{"kind": "locale", "countries": ["DE"], "reason": "German speech."}]
    batch = waves_batch(organisation, requirements=requirement)
    assert batch.dispatch_activity["hours"][9] == 3 * 7  # the three local workers, each of the 7 days
    assert sum(batch.dispatch_activity["hours"]) == 21
    assert (batch.dispatch_activity["first_day"], batch.dispatch_activity["last_day"]) == ("2026-12-03", "2026-12-09")
    open_to_all = waves_batch(organisation)
    assert open_to_all.dispatch_activity["hours"][9] == 5 * 7  # and those abroad; never the blocked or suspended


# --- The plan ------------------------------------------------------------------------------------


def test_wave_sizes_follow_the_measured_activity_of_their_hour(organisation, at_publication: Clock) -> None:
    seed_history(UserFactory.create_batch(10), [0])
    seed_history(UserFactory.create_batch(5), [1])
    batch = waves_batch(organisation, slots=298)
    waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
    assert [w.opens_at.hour for w in waves] == list(range(24))
    assert [w.activity for w in waves] == [70, 35] + [0] * 22
    # Floor: a quarter (the founding 25%) of the average figure 105 / 24, rounded up: 2.
    assert batch.dispatch_activity["floor"] == 2 and not batch.dispatch_activity["equal"]
    assert [w.weight for w in waves] == [70, 35] + [2] * 22  # total 149
    assert dispatch.planned_slots(total=298, weights=[w.weight for w in waves]) == [140, 70] + [4] * 22
    assert waves[0].cumulative_bps == 70 * 10_000 // 149 and waves[-1].cumulative_bps == 10_000
    # The busy hour's draw gives its 140 among its applicants; the quiet hour's only its 4.
    workers = UserFactory.create_batch(150)
    for worker in workers:
        services.wave_apply(worker=worker, batch=batch)
    at_publication.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 140
    at_publication.advance(minutes=50)
    for worker in UserFactory.create_batch(3):
        services.wave_apply(worker=worker, batch=batch)
    at_publication.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 3  # wave 2 (planned 70) had 3 applicants: 67 roll over
    at_publication.advance(minutes=50)
    for worker in UserFactory.create_batch(80):
        services.wave_apply(worker=worker, batch=batch)
    at_publication.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 67 + 4  # wave 3's own 4 and what wave 2 did not give
    assert Assignment.objects.filter(batch=batch, status=Assignment.Status.ACCEPTED).count() == 214


def test_with_no_history_the_waves_are_equal(organisation, at_publication: Clock) -> None:
    batch = waves_batch(organisation)
    waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
    assert batch.dispatch_activity["equal"] and batch.dispatch_activity["hours"] == [0] * 24
    assert [w.weight for w in waves] == [1] * 24 and [w.activity for w in waves] == [0] * 24
    assert [w.cumulative_bps for w in waves] == [(k + 1) * 10_000 // 24 for k in range(24)]
    assert dispatch.planned_slots(total=48, weights=[1] * 24) == [2] * 24
    shown = dispatch.batch_dispatch_public(batch=batch)["plan"]
    assert not shown.measured and [row.planned for row in shown.rows] == [2] * 24


def test_a_quiet_hour_wave_is_never_empty_and_the_floor_is_governed() -> None:
    assert dispatch.wave_weights(figures=[0, 10, 100, 50], floor_bps=2500).weights == [10, 10, 100, 50]
    assert dispatch.wave_weights(figures=[0, 10, 100, 50], floor_bps=0).weights == [0, 10, 100, 50]
    assert dispatch.wave_weights(figures=[0, 10, 100, 50], floor_bps=10_000).weights == [40, 40, 100, 50]
    nothing = dispatch.wave_weights(figures=[0, 0, 0], floor_bps=2500)
    assert nothing.equal and nothing.weights == [1, 1, 1] and nothing.floor == 0
    # Every slot is planned, whatever the weights; the last wave plans all of them.
    assert sum(dispatch.planned_slots(total=1000, weights=[3, 10, 100, 50])) == 1000
    assert dispatch.slots_to_give(total=10, open_now=10, weight_so_far=5, weight_total=5) == 10


def test_the_plan_is_re_derived_from_the_figures_stored_with_the_batch(organisation, at_publication: Clock) -> None:
    seed_history(UserFactory.create_batch(4), [0, 5, 6])
    seed_history(UserFactory.create_batch(2), [13])
    batch = waves_batch(organisation)
    assert dispatch.plan_rerun(batch=batch)
    # The stored figures are those of the batch's measure, hour by hour.
    waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
    assert [w.activity for w in waves] == [batch.dispatch_activity["hours"][w.opens_at.hour] for w in waves]
    # A new measure later (more activity) does not change a published plan.
    seed_history(UserFactory.create_batch(9), [13], before=PUBLISHED + timedelta(days=3))
    batch.refresh_from_db()
    assert dispatch.plan_rerun(batch=batch)
    # A tampered weight or figure no longer re-derives.
    DispatchWave.objects.filter(batch=batch, number=14).update(weight=99)
    assert not dispatch.plan_rerun(batch=batch)
    DispatchWave.objects.filter(batch=batch, number=14).update(weight=waves[13].weight, activity=1)
    assert not dispatch.plan_rerun(batch=batch)


def test_the_batch_page_and_the_api_show_why_each_wave_has_its_size(
    organisation, worker: User, at_publication: Clock
) -> None:
    seed_history(UserFactory.create_batch(10), [0])
    seed_history(UserFactory.create_batch(5), [1])
    batch = waves_batch(organisation, slots=298)
    page = client_for(worker)
    page.force_login(worker)
    html = page.get(reverse("worker_batch", args=[batch.pk])).content.decode()
    assert "Why each wave has its size" in html
    assert "counted over the 7 days from 2026-12-03 to 2026-12-09 (UTC)" in html
    assert "<td>10.0</td>" in html and "<td>5.0</td>" in html  # workers active then, a day on average
    assert "<td>140</td>" in html and "raised to the floor" in html
    public = client_for(UserFactory()).get(reverse("api-dispatch", args=[batch.pk])).json()
    assert public["activity"]["hours"][:3] == [70, 35, 0] and public["activity"]["floor"] == 2
    first, second, third = public["waves"][:3]
    assert (first["hour_utc"], first["activity"], first["weight"], first["planned_slots"]) == (0, 70, 70, 140)
    assert (second["activity"], second["weight"], second["planned_slots"]) == (35, 35, 70)
    assert (third["activity"], third["weight"], third["planned_slots"]) == (0, 2, 4)
    assert public["rules"]["dispatch_wave_floor_bps"]["value"] == 2500
    assert "weight" in public["plan_formula"]


def test_the_page_says_when_the_waves_are_equal_for_want_of_history(organisation, worker, at_publication) -> None:  # type: ignore[no-untyped-def]
    batch = waves_batch(organisation)
    page = client_for(worker)
    page.force_login(worker)
    html = page.get(reverse("worker_batch", args=[batch.pk])).content.decode()
    assert "was measured in the days before it was published, so its waves are equal" in html


# --- The draw's notices ----------------------------------------------------------------------------


def test_each_applicant_is_told_once_what_the_draw_gave_them(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)  # two slots a wave
    applicants = UserFactory.create_batch(5)
    NotificationPreference.objects.create(user=applicants[0], category="dispatch_not_drawn", email="immediate")
    for worker in applicants:
        services.wave_apply(worker=worker, batch=batch)
    clock.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 2
    assert jobs.dispatch_draw_due_waves() == 0  # a second run (beat, retry) draws nothing ...
    wave = DispatchWave.objects.get(batch=batch, number=1)
    dispatch_wave_again = services.dispatch_wave_draw(wave_id=wave.pk)  # ... and a direct re-run neither
    assert dispatch_wave_again.seed == wave.seed
    given = Notification.objects.filter(category="dispatch_given").order_by("user_id")
    assert sorted(n.user_id for n in given) == sorted(wave.drawn[:2])  # no skips: the first two drawn
    for notice in given:
        slot = Assignment.objects.get(batch=batch, worker_id=notice.user_id)
        assert notice.url == reverse("worker_assignment", args=[slot.pk])
        assert notice.params["wave"] == 1 and notice.params["batch"] == batch.title
        assert notice.params["deadline"] == slot.deadline_at.astimezone(UTC).isoformat()  # type: ignore[union-attr]
        assert notice.email == Notification.Email.PENDING  # by default at once: the slot's clock runs
    not_drawn = Notification.objects.filter(category="dispatch_not_drawn")
    losers = {a.pk for a in applicants} - set(wave.drawn[:2])
    assert {n.user_id for n in not_drawn} == losers and not_drawn.count() == 3
    second_wave = DispatchWave.objects.get(batch=batch, number=2)
    for notice in not_drawn:
        assert notice.params["next_chance"] == second_wave.opens_at.astimezone(UTC).isoformat()
        assert (notice.params["given"], notice.params["applicants"]) == (2, 5)
        assert notice.url == reverse("worker_batch", args=[batch.pk])
        # Inbox only by default; e-mail for whoever chose it.
        chose = notice.user_id == applicants[0].pk
        assert notice.email == (Notification.Email.PENDING if chose else Notification.Email.NONE)
    assert Notification.objects.filter(category__startswith="dispatch_").count() == 5


def test_the_notice_reads_in_the_workers_language_and_time_zone(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation, title="Etiquetar frases")
    worker = UserFactory()
    services.wave_apply(worker=worker, batch=batch)
    services.wave_apply(worker=UserFactory(), batch=batch)
    services.wave_apply(worker=UserFactory(), batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    notice = Notification.objects.filter(user=worker, category__startswith="dispatch_").get()
    moment_key = "deadline" if notice.category == "dispatch_given" else "next_chance"
    moment = datetime.fromisoformat(notice.params[moment_key]).astimezone(UTC)
    shown = words(category=notice.category, params=notice.params, language="es", time_zone="Asia/Kolkata")
    local = moment.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata"))
    with translation.override("es"):
        written = formats.date_format(local, "DATETIME_FORMAT")
    assert f"{written} IST (" in shown.body  # the zone named, then how far away it is
    assert "Etiquetar frases" in shown.title
    english = words(category=notice.category, params=notice.params)
    assert shown.title != english.title and shown.body != english.body  # Spanish, not English


def test_the_last_wave_names_first_come_first_served_and_skipped_workers_are_not_told(
    organisation, clock: Clock
) -> None:
    batch = waves_batch(organisation)
    clock.advance(hours=23)  # the last wave's window
    capped, others = UserFactory(), UserFactory.create_batch(4)
    for worker in [capped, *others]:
        services.wave_apply(worker=worker, batch=batch)
    # ``capped`` holds a slot already (the cap is one slot of this batch): drawn, but skipped.
    Assignment.objects.filter(batch=batch, status=Assignment.Status.OPEN).filter(
        pk=Assignment.objects.filter(batch=batch, status=Assignment.Status.OPEN).order_by("-id").values("pk")[:1]
    ).update(status=Assignment.Status.ACCEPTED, worker=capped, accepted_at=clock.now, deadline_at=clock.now)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    wave = DispatchWave.objects.get(batch=batch, number=24)
    outcomes = dict(WaveApplication.objects.filter(wave=wave).values_list("worker_id", "outcome"))
    told = dict(Notification.objects.filter(category__startswith="dispatch_").values_list("user_id", "category"))
    assert capped.pk not in told
    for worker_id, outcome in outcomes.items():
        expected = {"given": "dispatch_given", "not_drawn": "dispatch_not_drawn"}.get(outcome)
        assert told.get(worker_id) == expected
    for notice in Notification.objects.filter(category="dispatch_not_drawn"):
        assert notice.params["next_chance"] == batch.dispatch_fcfs_at.astimezone(UTC).isoformat()  # type: ignore[union-attr]


def test_an_ended_batch_draw_tells_nobody_they_were_not_drawn(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    for worker in UserFactory.create_batch(3):
        services.wave_apply(worker=worker, batch=batch)
    services.batch_cancel(batch=batch, actor=organisation.staff.get().user)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    assert not Notification.objects.filter(category__startswith="dispatch_").exists()


def test_the_export_of_a_workers_data_holds_their_hours(worker: User) -> None:
    from accounts.personal_data import personal_data_export

    activity_services.worker_activity_record(worker=worker, at=datetime(2026, 12, 9, 7, 5, tzinfo=UTC))
    with zipfile.ZipFile(io.BytesIO(personal_data_export(user=worker))) as archive:
        work = json.loads(archive.read("work.json"))
    assert work["activity_hours"] == [{"day": "2026-12-09", "hours_utc": [7]}]


def test_erasing_a_worker_erases_their_hours(worker: User) -> None:
    from accounts.personal_data import personal_data_erase

    activity_services.worker_activity_record(worker=worker, at=datetime(2026, 12, 9, 7, 5, tzinfo=UTC))
    personal_data_erase(user=worker, fresh_sign_in=signed_in_now(worker))
    assert not WorkerActivity.objects.filter(worker=worker).exists()
