"""The governance jobs as Celery sees them: registered under their names, on the
beat schedule, and safe to run again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coop.celery import app
from coop.schedule import BEAT_SCHEDULE
from governance import jobs, services
from governance.models import Proposal
from tests.governance.factories import members, policy

pytestmark = pytest.mark.django_db

JOB_NAMES = {
    "governance.jobs.open_due_votes",
    "governance.jobs.close_due_votes",
    "governance.jobs.activate_due_proposals",
}


def test_every_governance_job_is_registered_and_on_the_beat_schedule() -> None:
    app.loader.import_default_modules()
    assert set(app.tasks) >= JOB_NAMES
    scheduled = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert scheduled >= JOB_NAMES


def test_jobs_run_through_celery_and_repeat_harmlessly() -> None:
    voters = members(2)
    start = timezone.now() - timedelta(days=20)
    proposal = policy(voters[0], "operational")
    services.proposal_open_discussion(proposal=proposal, actor=voters[0], now=start)
    opens = (start + timedelta(days=3)).isoformat()
    assert jobs.open_due_votes.delay(now=opens).get() == 1
    assert jobs.open_due_votes.delay(now=opens).get() == 0
    proposal.refresh_from_db()
    services.ballot_cast(proposal_id=proposal.pk, voter=voters[1], choice="yes", now=proposal.voting_opened_at)
    closes = proposal.voting_closes_at.isoformat()
    assert jobs.close_due_votes.delay(now=closes).get() == 1
    assert jobs.close_due_votes.delay(now=closes).get() == 0
    proposal.refresh_from_db()
    assert (proposal.state, proposal.yes_count, proposal.roll_size) == ("scheduled", 1, 2)
    assert jobs.activate_due_proposals.delay(now=proposal.effective_at.isoformat()).get() == 1
    assert jobs.activate_due_proposals.delay(now=proposal.effective_at.isoformat()).get() == 0
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.IN_EFFECT
