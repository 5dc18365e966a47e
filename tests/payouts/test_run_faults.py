"""A payout run survives a crash at any of its writes: the failed chunk is rolled back,
the run stays unfinished, and the resume job pays each worker of the run exactly once."""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError

from core.models import JobItemFailure
from ledger.selectors import ledger_check
from payouts import jobs, services
from payouts.models import Payout, PayoutRun
from tests.faults import every_write
from tests.payouts.factories import earn, sepa_worker

# Real commits: a crash between two chunks leaves the first committed, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

MOMENT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_each_worker_is_paid_once_in_the_run_whatever_write_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "RUN_CHUNK", 2)

    def setup() -> list:  # type: ignore[type-arg]
        workers = [sepa_worker() for _ in range(3)]
        for worker in workers:
            earn(worker, 20_00)
        return workers

    def run() -> None:
        with contextlib.suppress(OperationalError):  # the crash ends this run of the job
            services.payout_run_execute(frequency="weekly", at=MOMENT)

    def retry() -> None:
        # The next tick of the resume job, after the run went stale.
        PayoutRun.objects.update(started_at=datetime.now(UTC) - timedelta(minutes=5))
        JobItemFailure.objects.all().delete()
        jobs.payouts_resume()
        if not PayoutRun.objects.exists():  # the crash came before the run was recorded
            services.payout_run_execute(frequency="weekly", at=MOMENT)

    def check(workers: list) -> None:  # type: ignore[type-arg]
        run = PayoutRun.objects.get()
        assert run.key == "weekly:2026-W48" and run.finished_at is not None
        for worker in workers:
            assert list(Payout.objects.filter(user=worker).values_list("amount", "run_id")) == [(20_00, run.pk)]
        assert run.payouts_created == Payout.objects.filter(run=run).count()
        assert ledger_check() == []

    assert every_write(setup=setup, run=run, retry=retry, check=check, only=lambda sql: "core_job" not in sql) > 5


def test_a_run_whose_chunk_failed_stays_unfinished_until_resumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "RUN_CHUNK", 1)
    first, second = sepa_worker(), sepa_worker()
    earn(first, 20_00)
    earn(second, 20_00)
    real = services._payout_create
    calls = []

    def flaky(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["user"].pk)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr(services, "_payout_create", flaky)
    run = services.payout_run_execute(frequency="weekly", at=MOMENT)
    assert run.finished_at is None and run.payouts_created == 1
    assert Payout.objects.count() == 1
    PayoutRun.objects.update(started_at=datetime.now(UTC) - timedelta(minutes=5))
    jobs.payouts_resume()
    run.refresh_from_db()
    assert run.finished_at is not None and run.payouts_created == 2
    assert sorted(Payout.objects.values_list("user_id", flat=True)) == sorted([first.pk, second.pk])
