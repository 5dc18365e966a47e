"""The marketplace's timers, driven through the Celery jobs with time moved forward."""

import pytest

from accounts.models import Organisation, User
from ledger.escrow import escrow_status
from tasks import jobs, services
from tasks.models import Assignment, AssignmentAttempt, Batch
from tests.factories import UserFactory
from tests.tasks.conftest import Clock
from tests.tasks.factories import available, earnings, published_batch

pytestmark = pytest.mark.django_db


def test_expiry_job_reopens_slots_past_their_time(organisation: Organisation, worker: User, clock: Clock) -> None:
    batch = published_batch(organisation)
    late = services.assignment_accept(worker=worker, batch=batch)
    clock.advance(minutes=10)
    on_time = services.assignment_accept(worker=UserFactory(), batch=batch)
    # 16 minutes for the first, 6 for the second; 10 allotted and the founding 5 minutes' grace
    clock.advance(minutes=6)
    assert jobs.expire_assignments.delay().get() == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.status, late.worker_id) == ("open", None)
    assert on_time.status == Assignment.Status.ACCEPTED
    assert AssignmentAttempt.objects.get(assignment=late).outcome == "expired"
    assert escrow_status([late.escrow_key]) == {late.escrow_key: "pending"}
    # Idempotent: a second run finds nothing; the reopened slot can be claimed again.
    assert jobs.expire_assignments.delay().get() == 0
    again = services.assignment_accept(worker=UserFactory(), batch=batch, task_id=late.task_id)
    assert again.pk == late.pk


def test_expiry_in_an_ended_batch_returns_the_escrow(organisation: Organisation, worker: User, clock: Clock) -> None:
    batch = published_batch(organisation)
    slot = services.assignment_accept(worker=worker, batch=batch)
    services.batch_cancel(batch=batch, actor=organisation.staff.get().user)
    assert available(organisation) == 3 * 55
    clock.advance(minutes=16)  # the time allotted and its grace
    jobs.expire_assignments.delay()
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.WITHDRAWN
    assert available(organisation) == 4 * 55


def test_auto_approval_job_pays_when_the_window_passes(organisation: Organisation, clock: Clock) -> None:
    batch = published_batch(organisation, auto_approval_hours=24)
    workers = [UserFactory(), UserFactory()]
    slots = []
    for worker in workers:
        slot = services.assignment_accept(worker=worker, batch=batch)
        slots.append(services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"}))
    clock.advance(hours=23)
    assert jobs.auto_approve.delay().get() == 0
    assert earnings(workers[0]) == 0
    clock.advance(hours=1, seconds=1)
    assert jobs.auto_approve.delay().get() == 2
    assert [earnings(w) for w in workers] == [50, 50]
    assert set(Assignment.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True)) == {"approved"}
    assert jobs.auto_approve.delay().get() == 0
    assert [earnings(w) for w in workers] == [50, 50]


def test_auto_approval_skips_work_reviewed_meanwhile(organisation: Organisation, clock: Clock) -> None:
    batch = published_batch(organisation)
    owner = organisation.staff.get().user
    first, second = UserFactory(), UserFactory()
    a = services.assignment_submit(
        worker=first, assignment=services.assignment_accept(worker=first, batch=batch), answers={"answer": "y"}
    )
    b = services.assignment_submit(
        worker=second, assignment=services.assignment_accept(worker=second, batch=batch), answers={"answer": "n"}
    )
    services.assignment_reject(actor=owner, assignment=b, reason="incomplete", text="Empty.")
    clock.advance(hours=73)
    assert jobs.auto_approve.delay().get() == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == ("approved", "rejected")


def test_rejection_becomes_final_after_the_contest_window(
    organisation: Organisation, worker: User, clock: Clock
) -> None:
    batch = published_batch(organisation)
    owner = organisation.staff.get().user
    slot = services.assignment_submit(
        worker=worker, assignment=services.assignment_accept(worker=worker, batch=batch), answers={"answer": "y"}
    )
    services.assignment_reject(actor=owner, assignment=slot, reason="incomplete", text="Empty.")
    clock.advance(days=6)
    assert jobs.finalise_rejections.delay().get() == 0
    assert escrow_status([slot.escrow_key]) == {slot.escrow_key: "pending"}
    clock.advance(days=1, seconds=1)
    assert jobs.finalise_rejections.delay().get() == 1
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.REFUNDED
    assert escrow_status([slot.escrow_key]) == {slot.escrow_key: "voided"}
    assert available(organisation) == 55


def test_disputed_rejection_is_not_finalised_by_the_job(organisation: Organisation, worker: User, clock: Clock) -> None:
    batch = published_batch(organisation)
    owner = organisation.staff.get().user
    slot = services.assignment_submit(
        worker=worker, assignment=services.assignment_accept(worker=worker, batch=batch), answers={"answer": "y"}
    )
    services.assignment_reject(actor=owner, assignment=slot, reason="incomplete", text="Empty.")
    services.assignment_rejection_dispute(assignment=slot)
    clock.advance(days=30)
    assert jobs.finalise_rejections.delay().get() == 0
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.DISPUTED
    assert escrow_status([slot.escrow_key]) == {slot.escrow_key: "pending"}


def test_a_dispute_opened_after_the_job_read_its_list_keeps_the_escrow(
    organisation: Organisation, worker: User, clock: Clock
) -> None:
    batch = published_batch(organisation)
    owner = organisation.staff.get().user
    slot = services.assignment_submit(
        worker=worker, assignment=services.assignment_accept(worker=worker, batch=batch), answers={"answer": "y"}
    )
    services.assignment_reject(actor=owner, assignment=slot, reason="incomplete", text="Empty.")
    clock.advance(days=8)
    stale = Assignment.objects.get(pk=slot.pk)  # what the job read: still "rejected"
    services.assignment_rejection_dispute(assignment=slot)  # the worker disputes in between
    assert services.assignment_rejection_lapse(assignment=stale) is False
    slot.refresh_from_db()
    assert slot.status == Assignment.Status.DISPUTED
    assert escrow_status([slot.escrow_key]) == {slot.escrow_key: "pending"}


def test_batch_expiry_job_returns_unclaimed_escrow(organisation: Organisation, worker: User, clock: Clock) -> None:
    batch = published_batch(organisation, lifetime_hours=2)
    services.assignment_accept(worker=worker, batch=batch)
    clock.advance(hours=1)
    assert jobs.expire_batches.delay().get() == 0
    clock.advance(hours=1, seconds=1)
    assert jobs.expire_batches.delay().get() == 1
    batch.refresh_from_db()
    assert batch.status == Batch.Status.EXPIRED
    assert Assignment.objects.filter(batch=batch, status=Assignment.Status.WITHDRAWN).count() == 3
    assert available(organisation) == 3 * 55
    assert jobs.expire_batches.delay().get() == 0
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.EXPIRED
