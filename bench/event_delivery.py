"""Event delivery from the outbox on PostgreSQL: the cost of one collector run (the
MTurk callbacks' and the requesters' webhooks', each through its own outbox cursor) with
the audit and outbox tables at 10,000 rows, then grown to 100,000 and 1,000,000.

Each run first gets ``EVENTS_PER_RUN`` new events (written by ``audit_record`` as the
services write them), then both collectors run; the figure is the median time of a run over ``RUNS`` runs. The
subscribers have kept up with the older rows (their cursors are at the end), so a run
must cost the same whatever the size of the history: the reference is the figure at
10,000 rows. ``BENCH_OUTBOX_TOP`` lowers the top size for a quick check.
"""

import os
import statistics
import time
from typing import Any

SIZES = [10_000, 100_000, int(os.environ.get("BENCH_OUTBOX_TOP", "1000000"))]
RUNS = 30
EVENTS_PER_RUN = 20


def _seed() -> Any:
    """One published batch with one submitted assignment; the runs' events are about it,
    written by ``audit_record`` as the services write them. Another organisation has a
    webhook endpoint, so the webhook collector looks endpoints up on every run."""
    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from ledger.accounts import external_bank, org_available
    from ledger.services import transfer
    from tasks import services as task_services
    from webhooks.models import WebhookEndpoint

    def person(name: str, staff: bool = False) -> User:
        user = User.objects.create_user(username=name, email=f"{name}@o.example", password="x" * 20, is_staff=staff)
        WorkerProfile.objects.create(user=user)
        return user

    staff = person("outbox-staff", staff=True)
    organisations = []
    for name in ("Outbox Bench", "Outbox Other"):
        owner = person(f"{name.lower().replace(' ', '-')}-owner")
        organisation = accounts_services.organisation_create(
            owner=owner, legal_name=name, display_name=name, country="DE", contact_email="o@b.example"
        )
        accounts_services.organisation_verify(organisation=organisation, verified_by=staff, legal_name=name)
        organisations.append((organisation, owner))
    organisation, owner = organisations[0]
    transfer(
        transfer_id="outbox-bench:deposit",
        debit=external_bank(),
        credit=org_available(organisation),
        amount=1_000_000,
        code="deposit",
    )
    WebhookEndpoint.objects.create(
        organisation=organisations[1][0], url="https://hooks.example.org/x", events=["submitted"], secret_encrypted=""
    )
    created = task_services.batch_create(
        organisation=organisation,
        actor=owner,
        title="Outbox bench",
        description="Label a sentence.",
        purpose="Benchmarking event delivery.",
        data_use="Discarded after the run.",
        reward=50,
        assignments_per_task=1,
        estimated_minutes=1,
        time_allotted_minutes=10,
        lifetime_hours=48,
        template_html='<input name="label" required>',
    )
    batch = task_services.batch_publish(batch=created, actor=owner)
    worker = person("outbox-worker")
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    return task_services.assignment_submit(worker=worker, assignment=slot, answers={"label": "x"})


def _grow_to(size: int) -> None:
    """Adds history rows (claims of long ago) until both tables hold ``size`` rows, and
    moves every subscriber's cursor to the end, as subscribers that kept up."""
    from django.db import connection

    from core.models import AuditEvent, OutboxCursor, OutboxEvent

    for model in (AuditEvent, OutboxEvent):
        missing = size - model.objects.count()
        if missing <= 0:
            continue
        table = model._meta.db_table
        extra = ", actor_kind, before" if model is AuditEvent else ""
        values = ", 'system', '{}'::jsonb" if model is AuditEvent else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (created_at, action, target_type, target_id, after{extra}) "
                f"SELECT now() - interval '30 days', 'assignment.accepted', 'tasks.assignment', n::text, "
                f"'{{}}'::jsonb{values} FROM generate_series(1, %s) AS n",
                [missing],
            )
            cursor.execute(f"ANALYZE {table}")
    top = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for subscriber in ("mturk", "webhooks"):
        OutboxCursor.objects.update_or_create(
            subscriber=subscriber, defaults={"last_id": top, "handled": [], "gaps": {"ranges": []}}
        )


def _run_median(assignment: Any) -> float:
    from django.db import transaction

    from core.audit import audit_record
    from mturk.jobs import collect_notifications
    from webhooks.jobs import collect

    samples = []
    for _ in range(RUNS):
        for _ in range(EVENTS_PER_RUN):
            with transaction.atomic():
                audit_record(actor=None, action="assignment.submitted", target=assignment)
        started = time.perf_counter()
        collect_notifications()
        collect()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def run() -> list[dict[str, str]]:
    from core.models import OutboxCursor, OutboxEvent

    assignment = _seed()
    rows: list[dict[str, str]] = []
    reference = 0.0
    for size in SIZES:
        _grow_to(size)
        figure = _run_median(assignment)
        left = sum(OutboxEvent.objects.filter(id__gt=cursor.last_id).count() for cursor in OutboxCursor.objects.all())
        if size == SIZES[0]:
            reference = figure
        rows.append(
            {
                "what": f"event delivery run ({EVENTS_PER_RUN} new events, 2 subscribers), history {size:,} rows"
                + (f"; {left} unread" if left else ""),
                "figure": f"{figure:.2f} ms",
                "reference": f"{reference:.2f} ms at {SIZES[0]:,}",
                "ratio": f"{figure / reference:.2f}x",
                "goal": "flat: < 1.5x the 10,000-row run",
            }
        )
    return rows
