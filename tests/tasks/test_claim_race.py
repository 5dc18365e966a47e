"""The claim under real concurrency on PostgreSQL: many threads, each with its own
connection, rush one batch. No slot is given twice, none is lost."""

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from core.errors import AppError
from core.models import AuditEvent
from tasks import services
from tasks.models import Assignment, AssignmentAttempt, Batch, DispatchWave, WaveApplication
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.factories import published_batch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def rush(batch: Batch, workers: list[User], *, task_id: int | None = None, per_worker: int = 1_000) -> Counter[str]:
    """Each worker claims in its own thread until refused; returns outcome counts."""
    barrier = threading.Barrier(len(workers))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def claim(worker: User) -> None:
        try:
            barrier.wait()
            for _ in range(per_worker):
                try:
                    services.assignment_accept(worker=worker, batch=batch, task_id=task_id)
                    result = "claimed"
                except AppError as error:
                    result = error.code
                with lock:
                    outcomes[result] += 1
                if result != "claimed":
                    return
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def past_the_waves(batch: Batch) -> None:
    """Moves the batch's dispatch period and cap into the past (fair dispatch, issue 26)."""
    past = timezone.now() - timedelta(seconds=1)
    Batch.objects.filter(pk=batch.pk).update(dispatch_fcfs_at=past, dispatch_cap_until=past)
    batch.refresh_from_db()


def test_many_threads_claim_every_slot_exactly_once() -> None:
    organisation = OrganisationFactory()
    batch = published_batch(organisation, rows="animal,image_url\n" + "".join(f"a{i},u{i}\n" for i in range(40)),
                            assignments_per_task=5)  # fmt: skip
    past_the_waves(batch)  # 200 slots open in waves; this is the first-come-first-served claim after them
    workers = [UserFactory() for _ in range(32)]
    outcomes = rush(batch, workers)
    slots = Assignment.objects.filter(batch=batch)
    assert slots.count() == 200
    assert outcomes["claimed"] == 200
    assert slots.filter(status=Assignment.Status.ACCEPTED).count() == 200
    assert slots.filter(status=Assignment.Status.OPEN).count() == 0
    # Every worker stopped on "nothing left", none on an error.
    assert set(outcomes) == {"claimed", "no_open_slot"}
    assert outcomes["no_open_slot"] == len(workers)
    # No worker holds two slots of one task; each slot has one attempt and one audit row.
    pairs = list(slots.values_list("task_id", "worker_id"))
    assert len(set(pairs)) == 200
    assert AssignmentAttempt.objects.filter(batch=batch).count() == 200
    assert AuditEvent.objects.filter(action="assignment.accepted").count() == 200


def test_only_one_of_many_gets_the_last_slot_of_a_task() -> None:
    organisation = OrganisationFactory()
    batch = published_batch(organisation, assignments_per_task=1)
    task = batch.tasks.order_by("row_number").first()
    assert task is not None
    workers = [UserFactory() for _ in range(24)]
    outcomes = rush(batch, workers, task_id=task.pk, per_worker=1)
    assert outcomes == Counter({"claimed": 1, "no_open_slot": 23})
    winner = Assignment.objects.get(task=task)
    assert winner.status == Assignment.Status.ACCEPTED and winner.worker in workers
    assert Assignment.objects.filter(batch=batch, status=Assignment.Status.OPEN).count() == 1  # the other task's slot


def test_one_worker_racing_itself_holds_one_slot_per_task() -> None:
    organisation = OrganisationFactory()
    batch = published_batch(organisation, assignments_per_task=3)
    worker = UserFactory()
    outcomes = rush(batch, [worker] * 8, per_worker=3)
    assert outcomes["claimed"] == 2  # two tasks, one slot each
    assert Assignment.objects.filter(worker=worker).count() == 2
    assert set(outcomes) <= {"claimed", "no_open_slot"}


# --- Fair dispatch: applications, claims and returns racing a wave's draw (issue 26) -------------


def _waves_batch(slots: int) -> Batch:
    organisation = OrganisationFactory()
    rows = "text\n" + "".join(f"s{i}\n" for i in range(slots))
    return published_batch(
        organisation, rows=rows, template_html='<p>${text}</p><input name="a">', assignments_per_task=1,
        dispatch_mode="waves",
    )  # fmt: skip


def _threads(jobs: list[Any]) -> None:
    barrier = threading.Barrier(len(jobs))

    def run(job: Any) -> None:
        try:
            barrier.wait()
            job()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_applications_racing_the_draw_are_either_drawn_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Appliers still inside the window race the draw that starts as it closes: every
    application that committed is in the drawn pool; the others were told the window
    closed. None is left pending, no slot is given twice."""
    batch = _waves_batch(48)
    wave = DispatchWave.objects.get(batch=batch, number=1)
    inside, after = wave.draws_at - timedelta(seconds=1), wave.draws_at
    drawer = threading.local()
    monkeypatch.setattr(timezone, "now", lambda: after if getattr(drawer, "is_drawer", False) else inside)
    workers = [UserFactory() for _ in range(24)]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def apply(worker: User) -> Any:
        def job() -> None:
            try:
                services.wave_apply(worker=worker, batch=batch)
                result = "applied"
            except AppError as error:
                result = error.code
            with lock:
                outcomes[result] += 1

        return job

    def draw() -> None:
        drawer.is_drawer = True
        services.dispatch_wave_draw(wave_id=wave.pk)

    _threads([apply(worker) for worker in workers] + [draw])
    # The draw waited for every application in flight; any later one was refused.
    wave.refresh_from_db()
    assert wave.state == DispatchWave.State.DRAWN
    applications = WaveApplication.objects.filter(wave=wave)
    assert sorted(entry[0] for entry in wave.pool) == sorted(applications.values_list("worker_id", flat=True))
    assert outcomes["applied"] == applications.count()
    assert set(outcomes) <= {"applied", "window_closed"}
    assert outcomes["applied"] + outcomes["window_closed"] == 24
    assert not applications.filter(outcome=WaveApplication.Outcome.PENDING).exists()
    given = applications.filter(outcome=WaveApplication.Outcome.GIVEN)
    assert given.count() == wave.slots_given == min(2, applications.count())
    assert Assignment.objects.filter(batch=batch, status=Assignment.Status.ACCEPTED).count() == wave.slots_given


def test_claims_and_returns_racing_a_draw_lose_no_slot_and_give_none_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _waves_batch(48)
    now = {"at": batch.published_at}
    monkeypatch.setattr(timezone, "now", lambda: now["at"])
    first_wave = DispatchWave.objects.get(batch=batch, number=1)
    # Waves 1 to 6 drawn with plenty of applicants: 12 slots in workers' hands.
    holders: list[User] = []
    for number in range(1, 7):
        wave = DispatchWave.objects.get(batch=batch, number=number)
        now["at"] = wave.opens_at
        for worker in [UserFactory() for _ in range(3)]:
            services.wave_apply(worker=worker, batch=batch)
        now["at"] = wave.draws_at
        services.dispatch_wave_draw(wave_id=wave.pk)
    assert first_wave.pk
    held = list(Assignment.objects.filter(batch=batch, status=Assignment.Status.ACCEPTED).select_related("worker"))
    holders = [slot.worker for slot in held]  # type: ignore[misc]
    assert len(held) == 12
    wave7 = DispatchWave.objects.get(batch=batch, number=7)
    now["at"] = wave7.opens_at
    applicants = [UserFactory() for _ in range(10)]
    for worker in applicants:
        services.wave_apply(worker=worker, batch=batch)
    now["at"] = wave7.draws_at
    claimers = [UserFactory() for _ in range(12)]
    refused: Counter[str] = Counter()
    lock = threading.Lock()

    def give_back(slot: Assignment, worker: User) -> Any:
        return lambda: services.assignment_return(worker=worker, assignment=slot)

    def claim(worker: User) -> Any:
        def job() -> None:
            try:
                services.assignment_accept(worker=worker, batch=batch)
                code = "claimed"
            except AppError as error:
                code = error.code
            with lock:
                refused[code] += 1

        return job

    jobs = [give_back(slot, worker) for slot, worker in zip(held[:6], holders[:6], strict=True)]
    jobs += [claim(worker) for worker in claimers]
    jobs.append(lambda: services.dispatch_wave_draw(wave_id=wave7.pk))
    _threads(jobs)
    # Direct claims are all refused while the batch opens in waves.
    assert refused == Counter({"dispatch_waves": 12})
    wave7.refresh_from_db()
    slots = Assignment.objects.filter(batch=batch)
    accepted = slots.filter(status=Assignment.Status.ACCEPTED)
    # Every slot is open or held by exactly one worker, none twice, none lost.
    assert slots.count() == 48
    assert accepted.count() + slots.filter(status=Assignment.Status.OPEN).count() == 48
    assert accepted.values("worker_id").distinct().count() == accepted.count()
    # Wave 7 planned 14 in hands; it gave what was missing when it counted (2, plus any returns it saw).
    assert 2 <= wave7.slots_given <= 8
    assert accepted.count() == 6 + wave7.slots_given
    assert set(accepted.values_list("worker_id", flat=True)) >= {
        a.worker_id for a in WaveApplication.objects.filter(wave=wave7, outcome=WaveApplication.Outcome.GIVEN)
    }
    # The next wave gives back what the returns left open: in hands again as planned.
    wave8 = DispatchWave.objects.get(batch=batch, number=8)
    now["at"] = wave8.opens_at
    for worker in [UserFactory() for _ in range(12)]:
        services.wave_apply(worker=worker, batch=batch)
    now["at"] = wave8.draws_at
    services.dispatch_wave_draw(wave_id=wave8.pk)
    assert Assignment.objects.filter(batch=batch, status=Assignment.Status.ACCEPTED).count() == 48 * 8 // 24
