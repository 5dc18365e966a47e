"""Fair pay: measured work time against the governed floor, with top-ups owed by the requester."""

import pytest

from accounts.models import Organisation
from notifications.models import Notification
from notifications.render import words
from tasks import jobs, services
from tasks.models import Batch, Bonus, FairPayReview
from tasks.services import fair_pay_figures
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.tasks.conftest import Clock
from tests.tasks.factories import available, earnings, published_batch

pytestmark = pytest.mark.django_db


def test_figures_round_the_top_up_up_to_meet_the_floor() -> None:
    figures = fair_pay_figures(reward=50, work_seconds=[240, 300, 900], floor_hourly=1200)
    assert figures is not None
    assert (figures.median_work_seconds, figures.median_hourly_pay, figures.top_up_per_assignment) == (300, 600, 50)
    fine = fair_pay_figures(reward=50, work_seconds=[100, 120], floor_hourly=1200)
    assert fine is not None and fine.top_up_per_assignment == 0
    odd = fair_pay_figures(reward=10, work_seconds=[61], floor_hourly=1200)
    assert odd is not None and odd.top_up_per_assignment == 11  # ceil(1200 * 61 / 3600) = 21, minus 10
    assert fair_pay_figures(reward=10, work_seconds=[], floor_hourly=1200) is None


def _work(batch, clock: Clock, minutes: float):  # type: ignore[no-untyped-def]
    worker = UserFactory()
    slot = services.assignment_accept(worker=worker, batch=batch)
    clock.advance(minutes=minutes)
    return services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})


def test_slow_batch_owes_a_top_up_paid_from_the_requester_balance(organisation: Organisation, clock: Clock) -> None:
    batch = published_batch(organisation, assignments_per_task=1, time_allotted_minutes=30)
    owner = organisation.staff.get().user
    first, second = _work(batch, clock, 5), _work(batch, clock, 5)
    services.assignments_approve_many(actor=owner, batch=batch, assignment_ids=[first.pk, second.pk])
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    fund(organisation, 50)  # enough for one top-up only

    assert jobs.fair_pay_reviews.delay().get() == 1
    review = FairPayReview.objects.get(batch=batch)
    assert (review.median_work_seconds, review.median_hourly_pay, review.floor_hourly) == (300, 600, 1200)
    assert (review.top_up_per_assignment, review.top_ups_paid, review.top_ups_owed) == (50, 1, 1)
    assert sorted([earnings(first.worker), earnings(second.worker)]) == [50, 100]
    assert available(organisation) == 0
    owed = Bonus.objects.get(kind="fair_pay_top_up", paid=False)
    assert Notification.objects.filter(user=owed.worker, category="top_up_owed").count() == 1
    requester_notice = Notification.objects.get(organisation=organisation, category="top_up_requester")
    assert requester_notice.user == owner
    # Figures are stored, not words: each reader gets the notice in their language.
    assert {key: requester_notice.params[key] for key in ("top_up", "owed", "median_hourly", "floor_hourly")} == {
        "top_up": 50,
        "owed": 2,
        "median_hourly": 600,
        "floor_hourly": 1200,
    }
    assert (requester_notice.params["minutes"], requester_notice.params["currency"]) == (5, "EUR")
    body = words(category="top_up_requester", params=requester_notice.params).body
    assert "a top-up of 0.50 EUR from your balance (2 owed now" in body
    spanish = words(category="top_up_requester", params=requester_notice.params, language="es").body
    assert "0,50\u00a0€" in spanish and "6,00\u00a0€" in spanish and "12,00\u00a0€" in spanish
    assert "owed" not in spanish
    from tests.tasks.conftest import client_for

    shown = client_for(owner).get(f"/api/organisations/{organisation.slug}/notices/").json()
    # Newest first: the fair-pay review, then the verification of the organisation.
    assert [n["kind"] for n in shown] == ["top_up_requester", "verification"]
    assert shown[0]["message"] == body
    worker_notices = client_for(owed.worker).get("/api/tasks/notices/").json()
    assert [n["kind"] for n in worker_notices] == ["top_up_owed"]

    # Reviewing again does nothing; once funded, the owed top-up is paid exactly once.
    assert jobs.fair_pay_reviews.delay().get() == 0
    fund(organisation, 80)
    jobs.fair_pay_reviews.delay()
    jobs.fair_pay_reviews.delay()
    assert [earnings(first.worker), earnings(second.worker)] == [100, 100]
    assert available(organisation) == 30
    review.refresh_from_db()
    assert (review.top_ups_paid, review.top_ups_owed) == (2, 0)


def test_batch_within_the_floor_owes_nothing(organisation: Organisation, clock: Clock) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    owner = organisation.staff.get().user
    work = [_work(batch, clock, 2), _work(batch, clock, 1)]
    services.assignments_approve_many(actor=owner, batch=batch, assignment_ids=[w.pk for w in work])
    fund(organisation, 500)
    assert jobs.fair_pay_reviews.delay().get() == 1
    assert FairPayReview.objects.get(batch=batch).top_up_per_assignment == 0
    assert Bonus.objects.count() == 0
    assert available(organisation) == 500


def test_batch_with_work_in_progress_is_not_reviewed_yet(organisation: Organisation, clock: Clock) -> None:
    batch = published_batch(organisation)
    _work(batch, clock, 5)
    services.batch_cancel(batch=batch, actor=organisation.staff.get().user)
    assert jobs.fair_pay_reviews.delay().get() == 0
    assert not FairPayReview.objects.exists()


def test_measured_pay_shows_on_the_feed_after_refresh(organisation: Organisation, clock: Clock) -> None:
    from tests.tasks.conftest import client_for

    batch = published_batch(organisation, assignments_per_task=2)
    _work(batch, clock, 5)  # 50 for 5 minutes: 6.00/h
    assert jobs.refresh_requester_pay.delay().get() == 1
    viewer = UserFactory()
    rows = client_for(viewer).get("/api/tasks/feed/").json()["results"]
    assert rows[0]["requester_measured_hourly_pay"] == 600
    assert rows[0]["estimated_hourly_pay"] == 1500


def test_a_fair_pay_notice_written_as_english_text_before_stays_readable() -> None:
    """Rows from before the figures were stored carry their English text: shown as it was."""
    old = {"batch": "Label cats", "batch_id": 7, "message": "Fair-pay top-up: the median worker took 5 min."}
    shown = words(category="top_up", params=old, language="es")
    assert shown.body == old["message"]
    assert "Label cats" in shown.title and shown.title != words(category="top_up", params=old).title


def test_a_top_ups_reason_and_statement_line_read_in_the_workers_language(
    organisation: Organisation, clock: Clock
) -> None:
    import io
    import json
    import zipfile

    from django.utils import translation

    from accounts.personal_data import personal_data_export
    from payouts.selectors import worker_statement

    batch = published_batch(organisation, title="Label cats", assignments_per_task=1, time_allotted_minutes=30)
    owner = organisation.staff.get().user
    done, other = _work(batch, clock, 5), _work(batch, clock, 5)
    services.assignments_approve_many(actor=owner, batch=batch, assignment_ids=[done.pk, other.pk])
    fund(organisation, 100)
    jobs.fair_pay_reviews.delay()
    top_up = Bonus.objects.get(kind="fair_pay_top_up", paid=True, worker=done.worker)
    # The stored words are the audit's English; the figures they came from are the review's.
    assert top_up.reason == (
        "Fair-pay top-up: the median worker on “Label cats” took 5 min, so the reward paid 6.00 EUR/h, "
        "under the co-op's 12.00 EUR/h."
    )

    def exported_reason(language: str) -> str:
        with translation.override(language):
            archive = zipfile.ZipFile(io.BytesIO(personal_data_export(user=done.worker)))
        for name in archive.namelist():
            if name.endswith(".json") and '"bonuses"' in (text := archive.read(name).decode()):
                (bonus,) = json.loads(text)["bonuses"]
                return str(bonus["reason"])
        raise AssertionError("no bonuses exported")

    assert exported_reason("es") == (
        "Complemento de pago justo: la persona mediana en “Label cats” tardó 5 min, así que la recompensa "
        "pagó 6,00\u00a0€/h, por debajo de los 12,00\u00a0€/h de la cooperativa."
    )
    # A row stored before (English prose in another shape) reads from the same figures.
    Bonus.objects.filter(pk=top_up.pk).update(reason="Fair-pay top-up: the median worker on 'Label cats' took 5 min.")
    assert exported_reason("es").startswith("Complemento de pago justo: la persona mediana en “Label cats”")
    with translation.override("es"):
        lines = [line.description for line in worker_statement(user=done.worker).lines]
    assert "Complemento de pago justo" in lines and any(line.startswith("Trabajo aprobado") for line in lines)
    assert len(lines) == 2
