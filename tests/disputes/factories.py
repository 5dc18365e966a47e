"""Disputes test helpers: real rejected work made through the marketplace's services,
eligible jurors, and a clock that moves time forward for every ``timezone.now()``."""

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Organisation, User
from tasks import services as task_services
from tasks.models import Assignment, Batch
from tests.factories import MemberFactory, OrganisationFactory, UserFactory
from tests.ledger.factories import fund

REWARD = 1000  # minor units; the founding 10% fee makes 1100 reserved per slot
FEE = 100
_titles = itertools.count(1)


@dataclass
class Clock:
    """Moves ``django.utils.timezone.now`` forward (installed by the ``clock`` fixture)."""

    offset: timedelta = field(default_factory=timedelta)

    def advance(self, **delta: Any) -> datetime:
        self.offset += timedelta(**delta)
        return timezone.now()


def batch_for(organisation: Organisation, *, slots: int = 1, deposit: int | None = None) -> Batch:
    """A published batch of ``slots`` single-slot tasks, its pay reserved in escrow."""
    owner = organisation.staff.get(role="owner").user
    fund(organisation, deposit if deposit is not None else slots * (REWARD + FEE))
    batch = task_services.batch_create(
        organisation=organisation,
        actor=owner,
        title=f"Label images {next(_titles)}",
        description="Say what the picture shows.",
        purpose="Train a classifier.",
        data_use="Research only.",
        reward=REWARD,
        assignments_per_task=slots,
        estimated_minutes=5,
        time_allotted_minutes=30,
        lifetime_hours=48,
        external_url="https://example.org/task",
    )
    return task_services.batch_publish(batch=batch, actor=owner)


def submitted(batch: Batch, worker: User) -> Assignment:
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    return task_services.assignment_submit(worker=worker, assignment=slot, answers={"label": "cat"})


def reject(assignment: Assignment, text: str = "The label is wrong.") -> Assignment:
    owner = assignment.batch.organisation.staff.get(role="owner").user
    return task_services.assignment_reject(
        actor=owner, assignment=assignment, reason="did_not_follow_instructions", text=text
    )


def rejected_work(organisation: Organisation | None = None, worker: User | None = None) -> Assignment:
    organisation = organisation or OrganisationFactory()
    worker = worker or UserFactory()
    batch = batch_for(organisation)
    return reject(submitted(batch, worker))


def jurors(count: int, **membership: Any) -> list[User]:
    """Members opted in to jury service, a year in the co-op."""
    return [MemberFactory(**{f"membership__{k}": v for k, v in membership.items()}) for _ in range(count)]


def adopt(key: str, value: int) -> None:
    """Appends a rule version in force from now (what an adopted proposal does)."""
    from governance.models import Rule, RuleVersion
    from governance.selectors import rule_cache_invalidate

    RuleVersion.objects.create(
        rule=Rule.objects.get(key=key), value=value, effective_at=timezone.now() - timedelta(seconds=1)
    )
    rule_cache_invalidate(key)


def approve(assignment: Assignment) -> Assignment:
    owner = assignment.batch.organisation.staff.get(role="owner").user
    return task_services.assignment_approve(actor=owner, assignment=assignment)
