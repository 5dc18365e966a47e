"""Every periodic job of the marketplace survives a crash at every write of its steps:
run again at the next tick, every item is processed exactly once; one poison item never
holds up the others."""

from collections import Counter

import pytest
from django.db import OperationalError

from accounts.models import Organisation
from core.models import AuditEvent, JobItemFailure
from ledger.escrow import escrow_status
from ledger.selectors import ledger_check
from tasks import jobs, services
from tasks.models import Assignment, Batch
from tests.factories import UserFactory
from tests.faults import every_write
from tests.tasks.conftest import Clock
from tests.tasks.factories import available, earnings, published_batch

pytestmark = pytest.mark.django_db

# Writes of the job's own bookkeeping are not steps of an item.
ITEM_WRITES = {"only": lambda sql: "core_job" not in sql}


def audits(action: str, assignments: list[Assignment]) -> Counter[str]:
    ids = [str(a.pk) for a in assignments]
    return Counter(AuditEvent.objects.filter(action=action, target_id__in=ids).values_list("target_id", flat=True))


def submitted_work(organisation: Organisation, count: int, **batch: object) -> list[Assignment]:
    batch_row = published_batch(organisation, **batch)
    work = []
    for _ in range(count):
        worker = UserFactory()
        slot = services.assignment_accept(worker=worker, batch=batch_row)
        work.append(services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"}))
    return work


def retry_after(clock: Clock, job) -> None:  # type: ignore[no-untyped-def]
    clock.advance(hours=2)  # past any retry delay
    job.delay().get()


def test_auto_approval_pays_each_submission_once_whatever_write_fails(organisation: Organisation, clock: Clock) -> None:
    def setup() -> list[Assignment]:
        work = submitted_work(organisation, 3, auto_approval_hours=1)
        clock.advance(hours=2)
        return work

    def check(work: list[Assignment]) -> None:
        assert [earnings(a.worker) for a in work] == [50, 50, 50]
        assert set(Assignment.objects.filter(pk__in=[a.pk for a in work]).values_list("status", flat=True)) == {
            "approved"
        }
        assert not JobItemFailure.objects.exists()

    tried = every_write(
        setup=setup,
        run=jobs.auto_approve.delay,
        retry=lambda: retry_after(clock, jobs.auto_approve),
        check=check,
        **ITEM_WRITES,
    )
    assert tried > 5


def test_rejections_are_finalised_once_whatever_write_fails(organisation: Organisation, clock: Clock) -> None:
    owner = organisation.staff.get().user

    def setup() -> tuple[list[Assignment], int]:
        work = submitted_work(organisation, 2)
        for assignment in work:
            services.assignment_reject(actor=owner, assignment=assignment, reason="incomplete", text="Empty.")
        clock.advance(days=8)
        return work, available(organisation)

    def check(items: tuple[list[Assignment], int]) -> None:
        work, before = items
        assert audits("assignment.rejection_final", work) == Counter({str(a.pk): 1 for a in work})
        assert set(escrow_status([a.escrow_key for a in work]).values()) == {"voided"}
        assert available(organisation) == before + 2 * 55
        assert not JobItemFailure.objects.exists()

    retry = lambda: retry_after(clock, jobs.finalise_rejections)  # noqa: E731
    assert every_write(setup=setup, run=jobs.finalise_rejections.delay, retry=retry, check=check, **ITEM_WRITES) > 3


def test_expiry_reopens_each_slot_once_whatever_write_fails(organisation: Organisation, clock: Clock) -> None:
    def setup() -> list[Assignment]:
        batch = published_batch(organisation)
        work = [services.assignment_accept(worker=UserFactory(), batch=batch) for _ in range(2)]
        clock.advance(minutes=16)  # the time allotted plus the governed grace
        return work

    def check(work: list[Assignment]) -> None:
        assert audits("assignment.expire", work) == Counter({str(a.pk): 1 for a in work})
        assert set(Assignment.objects.filter(pk__in=[a.pk for a in work]).values_list("status", flat=True)) == {"open"}
        assert not JobItemFailure.objects.exists()

    retry = lambda: retry_after(clock, jobs.expire_assignments)  # noqa: E731
    assert every_write(setup=setup, run=jobs.expire_assignments.delay, retry=retry, check=check, **ITEM_WRITES) > 2


def test_expiry_ends_each_batch_once_and_returns_its_unclaimed_escrow_whatever_write_fails(
    organisation: Organisation, clock: Clock
) -> None:
    def setup() -> tuple[list[Batch], list[Assignment], int]:
        batches = [published_batch(organisation, lifetime_hours=1) for _ in range(2)]
        # One slot of the first batch is claimed and submitted: it stays escrowed for review.
        worker = UserFactory()
        claimed = services.assignment_accept(worker=worker, batch=batches[0])
        submitted = services.assignment_submit(worker=worker, assignment=claimed, answers={"answer": "yes"})
        clock.advance(hours=2)
        return batches, [submitted], available(organisation)

    def check(items: tuple[list[Batch], list[Assignment], int]) -> None:
        batches, kept, before = items
        ended = Counter(
            AuditEvent.objects.filter(action="batch.expire", target_id__in=[str(b.pk) for b in batches]).values_list(
                "target_id", flat=True
            )
        )
        assert ended == Counter({str(b.pk): 1 for b in batches})
        assert {Batch.objects.get(pk=b.pk).status for b in batches} == {Batch.Status.EXPIRED}
        # Each batch has 2 tasks x 2 slots; all but the one submitted slot come back, once.
        assert available(organisation) == before + 7 * (50 + 5)
        slots = Assignment.objects.filter(batch__in=batches).exclude(pk=kept[0].pk)
        assert set(escrow_status([a.escrow_key for a in slots]).values()) == {"voided"}
        assert escrow_status([kept[0].escrow_key]) == {kept[0].escrow_key: "pending"}
        assert ledger_check() == []
        assert not JobItemFailure.objects.exists()

    retry = lambda: retry_after(clock, jobs.expire_batches)  # noqa: E731
    assert every_write(setup=setup, run=jobs.expire_batches.delay, retry=retry, check=check, **ITEM_WRITES) > 3


def test_a_poison_submission_is_parked_while_the_others_are_paid(
    organisation: Organisation, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = submitted_work(organisation, 3, auto_approval_hours=1)
    poison = work[1]
    real = services.assignment_approve

    def approve(*, actor, assignment, feedback=""):  # type: ignore[no-untyped-def]
        if assignment.pk == poison.pk:
            raise OperationalError("could not serialize access")
        return real(actor=actor, assignment=assignment, feedback=feedback)

    def approve_many(**kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("could not serialize access")

    monkeypatch.setattr(services, "assignment_approve", approve)
    monkeypatch.setattr(services, "assignments_approve_many", approve_many)
    clock.advance(hours=2)
    assert jobs.auto_approve.delay().get() == 2
    assert [earnings(a.worker) for a in work] == [50, 0, 50]
    failure = JobItemFailure.objects.get()
    assert (failure.job, failure.item_key, failure.attempts) == (
        "tasks.jobs.auto_approve",
        f"assignment:{poison.pk}",
        1,
    )
    for _ in range(10):
        clock.advance(hours=2)
        jobs.auto_approve.delay().get()
    failure.refresh_from_db()
    assert failure.parked_at is not None
    assert Assignment.objects.get(pk=poison.pk).status == Assignment.Status.SUBMITTED
