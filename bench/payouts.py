"""Weekly payout run on PostgreSQL: N workers with a SEPA method and a balance are
paid by ``payouts.services.payout_run_execute`` (per worker: lock, balance check,
payout row, pending ledger transfer, audit row), against the same number of bare
``ledger.services.transfer(pending=True)`` reservations in the same run (the ledger
work a payout cannot avoid). Then the SEPA pain.001 file of the run's batch is
built and schema-validated, and the ledger is verified.

Run with ``python bench/run.py payouts`` (a fresh database) or directly.
"""

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WORKERS = int(os.environ.get("BENCH_PAYOUT_WORKERS", "1000"))
EARNED = 25_00
IBAN = "DE89370400440532013000"


def _seed() -> list[Any]:
    from django.db import transaction

    from accounts.models import User, WorkerProfile
    from ledger import accounts
    from ledger.services import transfer
    from payouts.models import PayoutMethod

    workers = User.objects.bulk_create(
        [User(username=f"payout-worker-{n}", email=f"w{n}@payout.bench") for n in range(WORKERS)]
    )
    WorkerProfile.objects.bulk_create([WorkerProfile(user=worker, country="DE") for worker in workers])
    PayoutMethod.objects.bulk_create(
        [
            PayoutMethod(
                user=worker,
                rail="sepa",
                country="DE",
                destination={"iban": IBAN, "bic": "COBADEFFXXX", "name": f"Worker {worker.pk}"},
                display="DE89 **** 3000",
            )
            for worker in workers
        ]
    )
    bank = accounts.external_bank()
    with transaction.atomic():
        for worker in workers:
            transfer(
                transfer_id=f"payout-bench:earned:{worker.pk}",
                debit=bank,
                credit=accounts.worker_earnings(worker),
                amount=EARNED,
                code="bonus",
            )
    return workers


def run() -> list[dict[str, str]]:
    from django.conf import settings

    if not settings.IS_POSTGRES:
        raise SystemExit("bench/payouts.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    from django.db import transaction

    from ledger import accounts
    from ledger.selectors import ledger_check
    from ledger.services import transfer
    from payouts import services
    from payouts.models import Payout, SepaBatch
    from payouts.rails.sepa import pain001_summary
    from payouts.services import RUN_CHUNK

    workers = _seed()
    bank = accounts.external_bank()
    started = time.perf_counter()
    # Committed in chunks of the same size as the run's, so that both pay the same commits.
    for start in range(0, len(workers), RUN_CHUNK):
        with transaction.atomic():
            for worker in workers[start : start + RUN_CHUNK]:
                # One cent each, so that the run still finds the rest of the balance to pay.
                transfer(
                    transfer_id=f"payout-bench:reference:{worker.pk}",
                    debit=accounts.worker_earnings(worker),
                    credit=bank,
                    amount=1,
                    code="bench",
                    pending=True,
                )
    reference_seconds = time.perf_counter() - started

    started = time.perf_counter()
    run = services.payout_run_execute(frequency="weekly", at=datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    run_seconds = time.perf_counter() - started
    assert run.payouts_created == WORKERS and Payout.objects.count() == WORKERS, run.payouts_created

    batch = SepaBatch.objects.get()
    started = time.perf_counter()
    document = services.sepa_batch_file(batch=batch)
    file_seconds = time.perf_counter() - started
    summary = pain001_summary(document)
    assert summary["count"] == WORKERS, summary

    started = time.perf_counter()
    again = services.payout_run_execute(frequency="weekly", at=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    rerun_seconds = time.perf_counter() - started
    assert Payout.objects.count() == WORKERS and again.pk == run.pk
    problems = ledger_check()
    ratio = run_seconds / reference_seconds
    return [
        {
            "what": f"payouts: weekly run paying {WORKERS:,} SEPA workers (payout + reservation + audit each)",
            "figure": f"{WORKERS / run_seconds:,.0f} payouts/s ({run_seconds:.2f} s)",
            "reference": f"{WORKERS:,} bare pending ledger transfers: {reference_seconds:.2f} s",
            "ratio": f"{ratio:.2f}x",
            "goal": "<= 3x bare reservations" + (" (met)" if ratio <= 3 else " (MISSED)"),
        },
        {
            "what": "payouts: the same run again (beat fired twice)",
            "figure": f"{rerun_seconds:.2f} s, 0 new payouts",
            "reference": f"first run {run_seconds:.2f} s",
            "ratio": f"{rerun_seconds / run_seconds:.2f}x",
            "goal": "no payout twice (met)",
        },
        {
            "what": f"payouts: pain.001 file of {WORKERS:,} payments, built and schema-validated",
            "figure": f"{file_seconds:.2f} s ({len(document) / 1024:,.0f} KiB)",
            "reference": "-",
            "ratio": "-",
            "goal": "< 10 s" + (" (met)" if file_seconds < 10 else " (MISSED)"),
        },
        {
            "what": "payouts: ledger_verify after the run",
            "figure": f"{len(problems)} discrepancies",
            "reference": "0",
            "ratio": "-",
            "goal": "0" + (" (met)" if not problems else " (MISSED)"),
        },
    ]


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root)]
    from bench.run import main

    sys.exit(main(["payouts"]))
