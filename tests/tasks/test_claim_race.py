"""The claim under real concurrency on PostgreSQL: many threads, each with its own
connection, rush one batch. No slot is given twice, none is lost."""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import User
from core.errors import AppError
from core.models import AuditEvent
from tasks import services
from tasks.models import Assignment, AssignmentAttempt, Batch
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


def test_many_threads_claim_every_slot_exactly_once() -> None:
    organisation = OrganisationFactory()
    batch = published_batch(organisation, rows="animal,image_url\n" + "".join(f"a{i},u{i}\n" for i in range(40)),
                            assignments_per_task=5)  # fmt: skip
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
