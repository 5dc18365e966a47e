"""The claim storm on PostgreSQL: 64 concurrent claimers rush one batch of 20,000
slots through ``tasks.services.assignment_accept`` (eligibility, the SKIP LOCKED
claim, the attempt row and the audit row, one transaction per claim), against a raw
SQL ``FOR UPDATE SKIP LOCKED`` claim loop on an identical batch in the same run.

Both paths are checked afterwards: every slot claimed exactly once, no worker twice
on one task, nothing lost.
"""

import os
import threading
import time
from datetime import timedelta
from typing import Any

CLAIMERS = int(os.environ.get("BENCH_CLAIMERS", "64"))
TASKS = int(os.environ.get("BENCH_CLAIM_TASKS", "2000"))
PER_TASK = int(os.environ.get("BENCH_CLAIM_PER_TASK", "10"))  # 2,000 x 10 = 20,000 slots

RAW_CLAIM = """
UPDATE tasks_assignment SET status = 'accepted', worker_id = %(worker)s, accepted_at = now(),
       deadline_at = now() + interval '10 minutes'
 WHERE id = (
       SELECT id FROM tasks_assignment
        WHERE batch_id = %(batch)s AND status = 'open'
          AND task_id NOT IN (
              SELECT task_id FROM tasks_assignment WHERE batch_id = %(batch)s AND worker_id = %(worker)s)
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id
"""


def _seed() -> tuple[Any, Any, Any, list[Any]]:
    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from ledger.accounts import external_bank, org_available
    from ledger.services import transfer
    from tasks import services
    from tasks.models import Batch

    def person(name: str, staff: bool = False) -> User:
        user = User.objects.create_user(username=name, email=f"{name}@claim.bench", password="x" * 20, is_staff=staff)
        WorkerProfile.objects.create(user=user)
        return user

    staff = person("claim-bench-staff", staff=True)
    requester = person("claim-bench-requester")
    organisation = accounts_services.organisation_create(
        owner=requester, legal_name="Claim Bench", display_name="Claim Bench", country="DE", contact_email="c@b.example"
    )
    accounts_services.organisation_verify(organisation=organisation, verified_by=staff, legal_name="Claim Bench")
    transfer(
        transfer_id="claim-bench:deposit",
        debit=external_bank(),
        credit=org_available(organisation),
        amount=10_000_000_000,
        code="deposit",
    )
    rows = "text\n" + "\n".join(f"sentence {i}" for i in range(TASKS))

    def batch(title: str) -> Any:
        created = services.batch_create(
            organisation=organisation,
            actor=requester,
            title=title,
            description="Label a sentence.",
            purpose="Benchmarking the claim.",
            data_use="Discarded after the run.",
            reward=50,
            assignments_per_task=PER_TASK,
            estimated_minutes=1,
            time_allotted_minutes=10,
            lifetime_hours=48,
            template_html='<p>${text}</p><input name="label" required>',
        )
        services.batch_set_input(batch=created, actor=requester, content=rows, file_format="csv")
        published = services.batch_publish(batch=created, actor=requester)
        # A batch this large opens in waves (fair dispatch, issue 26): the storm measures the
        # first-come-first-served claim after the waves, so the clock is moved past them.
        past = published.published_at - timedelta(seconds=1)
        Batch.objects.filter(pk=published.pk).update(dispatch_fcfs_at=past, dispatch_cap_until=past)
        published.refresh_from_db()
        return published

    workers = [person(f"claim-bench-worker-{i}") for i in range(CLAIMERS)]
    return organisation, batch("Service claims"), batch("Raw claims"), workers


def _storm(claim: Any, workers: list[Any]) -> tuple[float, list[int]]:
    from django.db import connection

    barrier = threading.Barrier(len(workers) + 1)
    claimed: list[list[int]] = [[] for _ in workers]

    def claimer(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            while True:
                slot_id = claim(workers[index])
                if slot_id is None:
                    return
                claimed[index].append(slot_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return elapsed, [slot for mine in claimed for slot in mine]


def _check(batch: Any, ids: list[int]) -> str:
    from tasks.models import Assignment

    slots = Assignment.objects.filter(batch=batch)
    total = slots.count()
    accepted = slots.filter(status="accepted").count()
    pairs = len(set(slots.filter(status="accepted").values_list("task_id", "worker_id")))
    duplicates = len(ids) - len(set(ids))
    if accepted != total or len(ids) != total or pairs != total or duplicates:
        return f"BROKEN: {len(ids)} claims, {accepted}/{total} accepted, {duplicates} duplicates"
    return f"{total} slots, 0 duplicates, 0 lost"


def run() -> list[dict[str, str]]:
    from django.db import connection

    from core.errors import AppError
    from tasks import services

    _organisation, service_batch, raw_batch, workers = _seed()

    def service_claim(worker: Any) -> int | None:
        try:
            return services.assignment_accept(worker=worker, batch=service_batch).pk
        except AppError as error:
            if error.code != "no_open_slot":
                raise
            return None

    def raw_claim(worker: Any) -> int | None:
        with connection.cursor() as cursor:
            cursor.execute(RAW_CLAIM, {"worker": worker.pk, "batch": raw_batch.pk})
            row = cursor.fetchone()
        return int(row[0]) if row else None

    raw_seconds, raw_ids = _storm(raw_claim, workers)
    service_seconds, service_ids = _storm(service_claim, workers)
    raw_rate = len(raw_ids) / raw_seconds
    service_rate = len(service_ids) / service_seconds
    return [
        {
            "what": f"claim storm: {CLAIMERS} claimers, {TASKS * PER_TASK} slots, assignment_accept "
            f"({_check(service_batch, service_ids)})",
            "figure": f"{service_rate:,.0f} claims/s",
            "reference": f"raw UPDATE .. FOR UPDATE SKIP LOCKED loop: {raw_rate:,.0f} claims/s "
            f"({_check(raw_batch, raw_ids)})",
            "ratio": f"{service_rate / raw_rate:.2f}x",
            "goal": ">= 0.5x the raw rate, 0 duplicates",
        }
    ]
