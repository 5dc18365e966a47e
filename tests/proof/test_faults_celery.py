"""A real Celery worker (``celery -A coop worker`` against Redis and the test database)
has the process running a job killed with SIGKILL half-way through; the worker's pool
starts a new process, the job is delivered again (``acks_late`` with
``reject_on_worker_lost``) and runs to the end: every effect happens exactly once.

The jobs are made slow by giving them a lot of work; the test polls the database and
kills the job's process as soon as part of the work is committed."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from coop.celery import app
from governance.models import Proposal
from tasks.models import Assignment, Batch

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
CELERY = str(Path(sys.executable).with_name("celery"))


def _database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery -A coop worker`` on a queue of its own, with one pool process."""

    def __init__(self, queue: str, log: Path, extra_env: dict[str, str] | None = None) -> None:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=f"{BASE_DIR}:{BASE_DIR / 'platform'}",
            DJANGO_SETTINGS_MODULE="coop.settings",
            DATABASE_URL=_database_url(),
            REDIS_URL=settings.REDIS_URL,
            CELERY_TASK_ALWAYS_EAGER="0",
        )
        env.update(extra_env or {})
        self.log = log
        self.process = subprocess.Popen(
            [CELERY, "-A", "coop", "worker", "--pool=prefork", "--concurrency=1", "-Q", queue, "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=BASE_DIR, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def pool_process(self) -> int:
        """The pid of the pool process that runs jobs (waits for it to start)."""
        deadline = time.monotonic() + 60
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        while time.monotonic() < deadline:
            pids = children.read_text().split() if children.exists() else []
            if pids:
                return int(pids[0])
            time.sleep(0.05)
        raise AssertionError(f"the worker started no pool process:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def worker_queue(tmp_path: Path) -> Iterator[tuple[str, Worker]]:
    queue = f"proof-{uuid.uuid4().hex[:8]}"
    worker = Worker(queue, tmp_path / "worker.log")
    app.conf.task_always_eager = False
    try:
        yield queue, worker
    finally:
        app.conf.task_always_eager = True
        worker.stop()


def _wait(condition: Callable[[], bool], what: str, worker: Worker, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}:\n{worker.log.read_text()[-3000:]}")


def _kill_mid_job(
    worker: Worker, started: Callable[[], bool], finished: Callable[[], bool], send: Callable[[], Any]
) -> None:
    """Sends the job, kills its process once ``started()``, and waits for ``finished()``."""
    victim = worker.pool_process()
    send()
    _wait(started, "the job to commit part of its work", worker)
    assert not finished(), "the job finished before it could be killed: give it more work"
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: worker.pool_process() != victim, "the pool to start a new process", worker)
    _wait(finished, "the job delivered again to finish", worker)
    time.sleep(2)  # a second delivery, if there were one, would run now
    log = worker.log.read_text()
    assert "WorkerLostError" in log or "exited prematurely" in log, log[-3000:]


def test_a_payout_run_killed_half_way_pays_every_worker_exactly_once(
    worker_queue: tuple[str, Worker],
) -> None:
    from ledger import accounts
    from ledger.escrow import balance
    from payouts import jobs
    from payouts.models import Payout, PayoutRun
    from tests.factories import OrganisationFactory
    from tests.payouts.factories import earn, sepa_worker

    queue, worker = worker_queue
    organisation = OrganisationFactory()
    workers = [sepa_worker() for _ in range(150)]
    for person in workers:
        earn(person, 50_00, organisation=organisation)

    _kill_mid_job(
        worker,
        started=lambda: Payout.objects.count() >= 10,
        finished=lambda: (
            PayoutRun.objects.filter(finished_at__isnull=False).exists() and Payout.objects.count() == len(workers)
        ),
        send=lambda: jobs.run_weekly.apply_async(queue=queue),
    )

    run = PayoutRun.objects.get()
    assert Payout.objects.filter(run=run).count() == len(workers)
    assert sorted(Payout.objects.values_list("user_id", flat=True)) == sorted(p.pk for p in workers)
    assert set(Payout.objects.values_list("amount", flat=True)) == {50_00}
    for person in workers:  # each balance paid out once, never twice (it must not go negative)
        figures = balance(accounts.worker_earnings(person))
        assert figures.available == 0


def test_an_auto_approval_run_killed_half_way_pays_every_submission_exactly_once(
    worker_queue: tuple[str, Worker],
) -> None:
    from ledger import accounts
    from ledger.escrow import balance, escrow_status
    from tasks import jobs
    from tasks import services as task_services
    from tests.factories import OrganisationFactory, UserFactory
    from tests.tasks.factories import earnings, published_batch

    queue, worker = worker_queue
    rows = "animal,image_url\n" + "".join(f"cat,https://img.example/{n}.jpg\n" for n in range(1000))
    batch = published_batch(OrganisationFactory(), rows=rows, assignments_per_task=1)
    # A batch this large opens in waves (fair dispatch): this test is about the auto-approval
    # run, so the batch is moved past its waves and caps, as if the day had gone by.
    past = timezone.now() - timedelta(minutes=1)
    Batch.objects.filter(pk=batch.pk).update(dispatch_fcfs_at=past, dispatch_cap_until=past)
    batch.refresh_from_db()
    people = [UserFactory() for _ in range(2)]
    for person in people:
        for _ in range(500):
            slot = task_services.assignment_accept(worker=person, batch=batch)
            task_services.assignment_submit(worker=person, assignment=slot, answers={"answer": "yes", "comment": ""})
    Assignment.objects.filter(batch=batch).update(auto_approve_at=timezone.now() - timedelta(minutes=1))

    _kill_mid_job(
        worker,
        started=lambda: Assignment.objects.filter(batch=batch, status=Assignment.Status.APPROVED).exists(),
        finished=lambda: not Assignment.objects.filter(batch=batch, status=Assignment.Status.SUBMITTED).exists(),
        send=lambda: jobs.auto_approve.apply_async(queue=queue),
    )

    keys = [f"assignment:{pk}" for pk in Assignment.objects.filter(batch=batch).values_list("id", flat=True)]
    assert Assignment.objects.filter(batch=batch, status=Assignment.Status.APPROVED).count() == 1000
    assert set(escrow_status(keys).values()) == {"posted"}
    for person in people:  # paid once per submission: a second settlement would double this
        assert earnings(person) == 500 * batch.reward
    assert balance(accounts.coop_fees()).posted == 1000 * batch.fee_per_assignment
    assert balance(accounts.org_escrow(batch.organisation)).posted == 0


def test_a_vote_closing_run_killed_half_way_closes_every_vote_exactly_once(
    worker_queue: tuple[str, Worker],
) -> None:
    from core.models import AuditEvent
    from governance import jobs
    from governance.models import RuleClass
    from tests.governance.factories import members, policy, to_voting, vote

    queue, worker = worker_queue
    voters = members(3)
    operational = RuleClass.objects.get(key="operational")
    # Voting opened long enough ago that it is due to close now.
    start = timezone.now() - timedelta(days=operational.discussion_days + operational.voting_days, hours=1)
    proposals = []
    for _ in range(120):
        proposal = to_voting(policy(voters[0]), start=start)
        vote(proposal, voters, "yes")
        proposals.append(proposal)
    ids = [p.pk for p in proposals]

    _kill_mid_job(
        worker,
        started=lambda: Proposal.objects.filter(pk__in=ids, closed_at__isnull=False).exists(),
        finished=lambda: not Proposal.objects.filter(pk__in=ids, closed_at__isnull=True).exists(),
        send=lambda: jobs.close_due_votes.apply_async(queue=queue),
    )

    closed = Proposal.objects.filter(pk__in=ids)
    assert {(p.yes_count, p.no_count, p.quorum_met) for p in closed} == {(3, 0, True)}
    assert closed.exclude(state=Proposal.State.VOTING).count() == len(ids)
    # One closing record per proposal: a vote closed twice would show two.
    closings = AuditEvent.objects.filter(target_type="governance.proposal", before__state=Proposal.State.VOTING)
    assert sorted(closings.values_list("target_id", flat=True)) == sorted(str(pk) for pk in ids)
