"""Bulk settlement on PostgreSQL: 50,000 reserved escrow slots approved through
``ledger.escrow.escrow_settle_many`` (one transaction: lock, resolution check,
bulk insert of the post / reward / fee transfers, one UPDATE per distinct change
of account totals), against a raw bulk INSERT of the same number of rows into the
same ``ledger_transfer`` table: the very same rows, loaded with PostgreSQL's
COPY (no ORM, no locks, no balances), in the same run. The ledger is verified afterwards.

Run with ``python bench/run.py settlement`` (a fresh database) or directly.
"""

import os
import sys
import time
from pathlib import Path
from typing import Any

SLOTS = int(os.environ.get("BENCH_SETTLE_SLOTS", "50000"))
WORKERS = int(os.environ.get("BENCH_SETTLE_WORKERS", "1000"))
ORGANISATIONS = int(os.environ.get("BENCH_SETTLE_ORGANISATIONS", "5"))
REWARD = 120  # minor units per slot


def _seed() -> tuple[list[Any], list[Any], dict[str, Any]]:
    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from ledger import accounts
    from ledger.escrow import EscrowSlot, escrow_reserve_slots, platform_fee
    from ledger.services import transfer

    staff = User.objects.create_user(username="settle-staff", email="s@settle.bench", password="x" * 20, is_staff=True)
    organisations = []
    for number in range(ORGANISATIONS):
        owner = User.objects.create_user(username=f"settle-owner-{number}", email=f"o{number}@settle.bench")
        organisation = accounts_services.organisation_create(
            owner=owner,
            legal_name=f"Settle Lab {number}",
            display_name=f"Settle Lab {number}",
            country="DE",
            contact_email=f"lab{number}@settle.bench",
        )
        organisations.append(
            accounts_services.organisation_verify(
                organisation=organisation, verified_by=staff, legal_name=organisation.legal_name
            )
        )
    workers = User.objects.bulk_create(
        [User(username=f"settle-worker-{n}", email=f"w{n}@settle.bench") for n in range(WORKERS)]
    )
    WorkerProfile.objects.bulk_create([WorkerProfile(user=worker) for worker in workers])
    fee = platform_fee(REWARD)
    per_organisation = -(-SLOTS // ORGANISATIONS)
    timings: dict[str, Any] = {"reserve": 0.0, "fee": fee}
    for number, organisation in enumerate(organisations):
        transfer(
            transfer_id=f"settle-bench:deposit:{number}",
            debit=accounts.external_bank(),
            credit=accounts.org_available(organisation),
            amount=per_organisation * (REWARD + fee),
            code="deposit",
        )
        keys = range(number * per_organisation, min(SLOTS, (number + 1) * per_organisation))
        slots = [EscrowSlot(key=f"assignment:{n}", reward=REWARD, fee=fee) for n in keys]
        started = time.perf_counter()
        escrow_reserve_slots(organisation=organisation, slots=slots)
        timings["reserve"] += time.perf_counter() - started
    return organisations, workers, timings


def _raw_copy(organisations: list[Any], workers: list[Any], fee: int) -> tuple[int, float]:
    """COPYs the very rows the settlement will write, then rolls them back.

    COPY is the fastest way PostgreSQL has to load rows: the floor for writing
    these ledger rows, with the same indexes, checks and foreign keys (checked
    at once here, since this transaction never reaches its commit).
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from ledger import accounts

    fees = accounts.coop_fees().pk
    earnings = accounts.worker_earnings_many([worker.pk for worker in workers])
    books = [(accounts.org_available(o).pk, accounts.org_escrow(o).pk) for o in organisations]
    per_organisation = -(-SLOTS // ORGANISATIONS)
    now = timezone.now()
    rows: list[tuple[Any, ...]] = []
    for n in range(SLOTS):
        available, escrow = books[n // per_organisation]
        pending = f"escrow:assignment:{n}"
        earning = earnings[workers[n % len(workers)].pk].pk
        rows += [
            (
                f"{pending}:post",
                "post_pending",
                available,
                escrow,
                REWARD + fee,
                "EUR",
                "escrow_reserve",
                "",
                pending,
                0,
                now,
            ),
            (
                f"{pending}:reward",
                "posted",
                escrow,
                earning,
                REWARD,
                "EUR",
                "escrow_reward",
                f"assignment:{n}",
                None,
                0,
                now,
            ),
            (f"{pending}:fee", "posted", escrow, fees, fee, "EUR", "escrow_fee", f"assignment:{n}", None, 0, now),
        ]
    columns = "id, kind, debit_account_id, credit_account_id, amount, currency, code, memo, pending_id, fee_part"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with cursor.cursor.copy(f"COPY ledger_transfer ({columns}, created_at) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        # The rows are not balanced by account totals, so they must not stay.
        transaction.set_rollback(True)
    return len(rows), elapsed


def run() -> list[dict[str, str]]:
    from django.conf import settings

    if not settings.IS_POSTGRES:
        raise SystemExit("bench/settlement.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    from ledger.escrow import escrow_settle_many, escrow_status
    from ledger.models import Transfer
    from ledger.selectors import ledger_check

    organisations, workers, timings = _seed()
    # The reference first, on the same rows, so it cannot clash with them.
    copied, raw_seconds = _raw_copy(organisations, workers, timings["fee"])
    items = [(f"assignment:{n}", workers[n % len(workers)]) for n in range(SLOTS)]
    rows_before = Transfer.objects.count()
    started = time.perf_counter()
    settled = escrow_settle_many(items=items)
    settle_seconds = time.perf_counter() - started
    written = Transfer.objects.count() - rows_before
    assert written == copied, (written, copied)
    problems = ledger_check()
    statuses = set(escrow_status([key for key, _ in items]).values())
    assert settled == SLOTS and statuses == {"posted"}, (settled, statuses)
    ratio = settle_seconds / raw_seconds
    return [
        {
            "what": f"settlement: escrow_settle_many, {SLOTS:,} slots ({written:,} rows, {WORKERS:,} workers)",
            "figure": f"{SLOTS / settle_seconds:,.0f} slots/s ({settle_seconds:.2f} s)",
            "reference": f"raw COPY of {written:,} rows: {raw_seconds:.2f} s ({written / raw_seconds:,.0f} rows/s)",
            "ratio": f"{ratio:.2f}x",
            "goal": "<= 3x raw COPY" + (" (met)" if ratio <= 3 else " (MISSED)"),
        },
        {
            "what": f"settlement: escrow_reserve_slots of {SLOTS:,} slots (publishing, {ORGANISATIONS} batches)",
            "figure": f"{SLOTS / timings['reserve']:,.0f} slots/s ({timings['reserve']:.2f} s)",
            "reference": "-",
            "ratio": "-",
            "goal": "-",
        },
        {
            "what": "settlement: ledger_verify after the run",
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

    sys.exit(main(["settlement"]))
