"""Benchmark: the juror draw over a large membership, and the mass-rejection guard on a
large batch, on PostgreSQL.

- The draw: 20,000 opted-in members, 2,000 of them conflicted (they worked on the case's
  batch). Times ``disputes.draw.draw_make`` (eligibility, conflicts, the seeded choice,
  the stored draw). Reference: reading the 20,000 member ids alone, the floor of any
  draw that looks at the whole membership.
- The guard: one batch of 2,000 decisions, 700 of them rejections (35%, above the
  founding 30% share). Times ``disputes.services.mass_rejection_check``, which freezes
  the 700 into one case. Reference: the same 700 rejections held one by one, each in
  its own transaction (what a worker-by-worker dispute would cost).

Everything runs inside transactions that are rolled back, so the database given in
DATABASE_URL is left as it was (apart from ``migrate``).

    DATABASE_URL=postgres://... .venv/bin/python bench/dispute_draw.py
"""

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = 20_000
CONFLICTED = 2_000
DECISIONS = 2_000
REJECTIONS = 700
DRAWS = 20


class _Rollback(Exception):
    pass


def _setup() -> None:
    for entry in (str(ROOT), str(ROOT / "platform")):
        if entry not in sys.path:
            sys.path.append(entry)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
    os.environ.setdefault("COOP_TESTING", "1")
    import django

    django.setup()


def _organisation_and_batch(prefix: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import Organisation, OrganisationStaff, User
    from tasks.models import Batch, Task

    owner = User.objects.create(username=f"{prefix}-owner", email=f"{prefix}-owner@example.org", password="!")
    organisation = Organisation.objects.create(
        slug=f"{prefix}-lab",
        legal_name="Bench Lab GmbH",
        display_name="Bench Lab",
        country="DE",
        contact_email="lab@example.org",
        staff_group=Group.objects.create(name=f"organisation:{prefix}-lab"),
        verified_at=timezone.now(),
    )
    OrganisationStaff.objects.create(organisation=organisation, user=owner, role="owner")
    batch = Batch.objects.create(
        organisation=organisation,
        created_by=owner,
        status="published",
        title="Bench batch",
        description="d",
        purpose="p",
        data_use="u",
        reward=1000,
        currency="EUR",
        assignments_per_task=DECISIONS,
        estimated_minutes=5,
        time_allotted_minutes=30,
        lifetime_hours=48,
        external_url="https://example.org/task",
    )
    task = Task.objects.create(batch=batch, row_number=1, input={})
    return organisation, batch, task


def _bench_draw() -> dict[str, str]:
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Membership, User
    from disputes import draw, services
    from disputes.models import Case, Draw
    from tasks.models import AssignmentAttempt

    figures: dict[str, float] = {}
    try:
        with transaction.atomic():
            now = timezone.now()
            users = User.objects.bulk_create(
                [
                    User(username=f"bench-juror-{i}", email=f"bench-juror-{i}@example.org", password="!")
                    for i in range(MEMBERS)
                ],
                batch_size=5_000,
            )
            Membership.objects.bulk_create(
                [Membership(user=user, joined_at=now - timedelta(days=400), juror_opt_in=True) for user in users],
                batch_size=5_000,
            )
            organisation, batch, task = _organisation_and_batch("bench-draw")
            from tasks.models import Assignment

            slots = Assignment.objects.bulk_create(
                [Assignment(batch=batch, task=task, status="approved", worker=user) for user in users[:CONFLICTED]],
                batch_size=5_000,
            )
            AssignmentAttempt.objects.bulk_create(
                [
                    AssignmentAttempt(
                        assignment=slot, batch=batch, worker_id=slot.worker_id, accepted_at=now, outcome="submitted"
                    )
                    for slot in slots
                ],
                batch_size=5_000,
            )
            case = services._new_case(
                kind=Case.Kind.REJECTION, organisation=organisation, batch=batch, statement="bench"
            )
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            started = time.perf_counter()
            list(Membership.objects.values_list("user_id", flat=True))
            figures["reference"] = time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(DRAWS):
                made = draw.draw_make(case=case, size=3, purpose=Draw.Purpose.PANEL, at=now)
            figures["draw"] = (time.perf_counter() - started) / DRAWS
            conflicted = {user.pk for user in users[:CONFLICTED]}
            figures["pool"] = len(made.pool)
            figures["clean"] = float(not conflicted & set(made.pool))
            raise _Rollback
    except _Rollback:
        pass
    return {
        "what": f"juror draw over {MEMBERS:,} members ({CONFLICTED:,} conflicted), per draw",
        "figure": f"{figures['draw'] * 1000:.0f} ms (pool {int(figures['pool']):,}, conflicts excluded: "
        f"{'yes' if figures['clean'] else 'NO'})",
        "reference": f"{figures['reference'] * 1000:.0f} ms to read the member ids alone",
        "ratio": f"{figures['draw'] / figures['reference']:.1f}x",
        "goal": "< 500 ms per draw",
    }


def _bench_guard() -> list[dict[str, str]]:
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from disputes import services
    from tasks import services as task_services
    from tasks.models import Assignment

    def fill() -> tuple[int, list[Assignment]]:
        now = timezone.now()
        organisation, batch, task = _organisation_and_batch("bench-guard")
        workers = User.objects.bulk_create(
            [User(username=f"bench-w-{i}", email=f"bench-w-{i}@example.org", password="!") for i in range(DECISIONS)],
            batch_size=5_000,
        )
        slots = [
            Assignment(
                batch=batch,
                task=task,
                worker=worker,
                status="rejected" if i < REJECTIONS else "approved",
                rejected_at=now if i < REJECTIONS else None,
                rejection_final_at=now + timedelta(days=7) if i < REJECTIONS else None,
                approved_at=None if i < REJECTIONS else now,
                rejection_reason="incomplete",
                rejection_text="bench",
            )
            for i, worker in enumerate(workers)
        ]
        Assignment.objects.bulk_create(slots, batch_size=5_000)
        return organisation.pk, [slot for slot in slots if slot.status == "rejected"]

    figures: dict[str, float] = {}
    try:
        with transaction.atomic():
            organisation_id, _ = fill()
            started = time.perf_counter()
            case = services.mass_rejection_check(organisation_id=organisation_id)
            figures["guard"] = time.perf_counter() - started
            figures["items"] = case.items.count() if case else 0
            raise _Rollback
    except _Rollback:
        pass
    try:
        with transaction.atomic():
            _, rejected = fill()
            started = time.perf_counter()
            for assignment in rejected:
                with transaction.atomic():
                    task_services.assignment_rejection_dispute(assignment=assignment)
            figures["reference"] = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return [
        {
            "what": f"mass-rejection guard: {REJECTIONS} of {DECISIONS:,} decisions frozen into one case",
            "figure": f"{figures['guard'] * 1000:.0f} ms ({int(figures['items'])} items held)",
            "reference": f"{figures['reference'] * 1000:.0f} ms holding the same rejections one by one",
            "ratio": f"{figures['guard'] / figures['reference']:.2f}x",
            "goal": "< 5 s; within a beat period (300 s) by far",
        }
    ]


def run() -> list[dict[str, str]]:
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    if not settings.IS_POSTGRES:
        raise SystemExit("bench/dispute_draw.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    return [_bench_draw(), *_bench_guard()]


if __name__ == "__main__":
    for row in run():
        print(" | ".join(f"{key}: {value}" for key, value in row.items()))
