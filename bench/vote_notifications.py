"""Benchmark: a vote opening tells 100,000 members, in bulk, with flat memory.

Times ``governance.services.proposal_open_voting`` for a roll of 100,000 (the roll freeze
and one inbox entry per member, written by ``notifications.services.notify`` in chunks).
Then measures the Python memory peak (tracemalloc) of ``notify`` alone for 10,000 and for
100,000 members: chunked reading and ``bulk_create`` keep it the same size, whatever the
roll. Everything runs inside one transaction that is rolled back.

    DATABASE_URL=postgres://... .venv/bin/python bench/run.py vote_notifications
"""

import os
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = 100_000
SMALL = 10_000
GOAL_SECONDS = 30.0


class _Rollback(Exception):
    pass


def _setup() -> None:
    for entry in (str(ROOT), str(ROOT / "platform")):
        if entry not in sys.path:
            sys.path.append(entry)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
    import django

    django.setup()


def _peak_of_notify(user_ids) -> float:
    from notifications.services import notify

    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    notify(
        users=user_ids,
        category="proposal_voting",
        params={"proposal": "Bench", "deadline": "2027-01-01T00:00:00+00:00"},
    )
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak / 1_000_000


def run() -> list[dict[str, str]]:
    _setup()
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Membership, User
    from governance import services
    from governance.models import Proposal, VoterRollEntry
    from notifications.models import Notification

    if not settings.IS_POSTGRES:
        raise SystemExit("bench/vote_notifications.py needs PostgreSQL: set DATABASE_URL=postgres://...")

    rows: list[dict[str, str]] = []
    try:
        with transaction.atomic():
            now = timezone.now()
            users = User.objects.bulk_create(
                [
                    User(username=f"bench-member-{i}", email=f"bench-member-{i}@example.org", password="!")
                    for i in range(MEMBERS)
                ],
                batch_size=10_000,
            )
            Membership.objects.bulk_create(
                [Membership(user=user, joined_at=now - timedelta(days=400)) for user in users], batch_size=10_000
            )
            author = users[0]
            del users
            proposal = services.proposal_create(
                author=author, kind=Proposal.Kind.POLICY, title="Bench", body="A vote of 100,000.",
                rule_class_key="operational",
            )  # fmt: skip
            start = now - timedelta(days=10)
            services.proposal_open_discussion(proposal=proposal, actor=author, now=start)
            Notification.objects.all().delete()
            opened = time.perf_counter()
            services.proposal_open_voting(proposal_id=proposal.pk, now=start + timedelta(days=3))
            seconds = time.perf_counter() - opened
            told = Notification.objects.filter(category="proposal_voting").count()
            rows.append(
                {
                    "what": f"vote opening: roll + inbox entries for {told:,} members (s)",
                    "figure": f"{seconds:.2f}",
                    "reference": f"{GOAL_SECONDS:.0f} s goal",
                    "ratio": f"{seconds / GOAL_SECONDS:.2f}",
                    "goal": "< 30 s, one entry per member",
                }
            )
            roll = VoterRollEntry.objects.filter(proposal=proposal).order_by("user_id")
            ids = roll.values_list("user_id", flat=True)
            small = _peak_of_notify(ids[:SMALL])
            large = _peak_of_notify(ids)
            rows.append(
                {
                    "what": f"notify: Python memory peak, {MEMBERS:,} vs {SMALL:,} members (MB)",
                    "figure": f"{large:.1f}",
                    "reference": f"{small:.1f}",
                    "ratio": f"{large / small:.2f}",
                    "goal": "ratio ~1 (flat), not 10",
                }
            )
            raise _Rollback
    except _Rollback:
        pass
    return rows


if __name__ == "__main__":
    _setup()
    for row in run():
        print(row)
