"""Benchmark: closing a vote with 100,000 ballots on PostgreSQL.

Fills a proposal's frozen roll and its ballots in bulk, then times
``governance.services.proposal_close`` (row lock, the one aggregate tally
query, the result and the audit row). The reference is the same count done the
way the tally must not be done: fetching every ballot and counting in Python.
Everything runs inside one transaction that is rolled back, so the database
given in DATABASE_URL is left as it was (apart from ``migrate``).

    DATABASE_URL=postgres://... .venv/bin/python bench/vote_tally.py
"""

import os
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BALLOTS = 100_000
GOAL_SECONDS = 1.0


class _Rollback(Exception):
    pass


def _setup() -> None:
    for entry in (str(ROOT), str(ROOT / "platform")):
        if entry not in sys.path:
            sys.path.append(entry)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
    import django

    django.setup()


def run() -> list[dict[str, str]]:
    _setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Membership, User
    from governance import services
    from governance.models import Ballot, Proposal, VoterRollEntry

    if not settings.IS_POSTGRES:
        raise SystemExit("bench/vote_tally.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)

    rows: list[dict[str, str]] = []
    try:
        with transaction.atomic():
            now = timezone.now()
            users = User.objects.bulk_create(
                [
                    User(username=f"bench-voter-{i}", email=f"bench-voter-{i}@example.org", password="!")
                    for i in range(BALLOTS)
                ],
                batch_size=10_000,
            )
            Membership.objects.bulk_create(
                [Membership(user=user, joined_at=now - timedelta(days=400)) for user in users], batch_size=10_000
            )
            proposal = services.proposal_create(
                author=users[0],
                kind=Proposal.Kind.POLICY,
                title="Bench",
                body="A vote of 100,000.",
                rule_class_key="operational",
            )
            start = now - timedelta(days=10)
            services.proposal_open_discussion(proposal=proposal, actor=users[0], now=start)
            opened = time.perf_counter()
            proposal = services.proposal_open_voting(proposal_id=proposal.pk, now=start + timedelta(days=3))
            roll_seconds = time.perf_counter() - opened

            choices = ["yes", "yes", "no", "abstain"]
            Ballot.objects.bulk_create(
                [Ballot(proposal=proposal, voter=user, choice=choices[i % 4]) for i, user in enumerate(users)],
                batch_size=10_000,
            )
            VoterRollEntry.objects.filter(
                proposal=proposal, user__in=User.objects.filter(username__startswith="bench-voter-")
            ).update(voted=True)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE governance_ballot")

            with CaptureQueriesContext(connection) as tally_queries:
                services.ballot_tally(proposal_id=proposal.pk)

            looped = time.perf_counter()
            counted = Counter(
                Ballot.objects.filter(proposal=proposal).values_list("choice", flat=True).iterator(chunk_size=10_000)
            )
            loop_seconds = time.perf_counter() - looped

            closing = time.perf_counter()
            closed = services.proposal_close(proposal_id=proposal.pk, now=proposal.voting_closes_at)
            close_seconds = time.perf_counter() - closing
            agrees = (closed.yes_count, closed.no_count, closed.abstain_count) == (
                counted["yes"],
                counted["no"],
                counted["abstain"],
            )

            rows.append(
                {
                    "what": (
                        f"close a vote with {BALLOTS:,} ballots (lock, tally in {len(tally_queries)} aggregate "
                        f"query, publish, audit; counts {'match' if agrees else 'DO NOT match'} the loop)"
                    ),
                    "figure": f"{close_seconds * 1000:.0f} ms",
                    "reference": f"fetching the ballots and counting in Python: {loop_seconds * 1000:.0f} ms",
                    "ratio": f"{loop_seconds / close_seconds:.1f}x faster than the loop",
                    "goal": f"under {GOAL_SECONDS:.0f} s: {'met' if close_seconds < GOAL_SECONDS else 'MISSED'}",
                }
            )
            rows.append(
                {
                    "what": f"open voting: freeze a roll of {proposal.roll_size:,} members (one INSERT ... SELECT)",
                    "figure": f"{roll_seconds * 1000:.0f} ms",
                    "reference": "-",
                    "ratio": "-",
                    "goal": "a few seconds at most (runs once per vote, in a job)",
                }
            )
            raise _Rollback()
    except _Rollback:
        pass
    return rows


if __name__ == "__main__":
    for row in run():
        print(" | ".join(f"{key}: {value}" for key, value in row.items()))
