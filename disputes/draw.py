"""The juror draw: who may serve on a case, and a reproducible random choice among them.

The pool is every eligible member minus every conflict of interest, sorted by
user id. The choice is ``random.Random(int(seed, 16)).sample(pool, size)`` with a
seed from ``secrets``; both are stored on the ``Draw`` so that anyone auditing the
case can re-run it (``draw_rerun``) and get the same jurors.
"""

import random
import secrets
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q

from accounts.models import MODERATOR_GROUP, Membership, User
from accounts.selectors import organisation_staff_ids
from core.models import AuditEvent
from disputes.models import Case, CaseItem, Draw, Juror
from governance.selectors import rule_value
from tasks.models import Assignment, AssignmentAttempt


def draw_rerun(*, seed: str, pool: list[int], size: int) -> list[int]:
    """The jurors a draw with this seed and pool chooses: the audit re-run."""
    return random.Random(int(seed, 16)).sample(sorted(pool), min(size, len(pool)))


def eligible_member_ids(*, at: datetime, tenure_days: int) -> set[int]:
    """Members who may be drawn at ``at``: active, opted in, not suspended, members for at
    least ``tenure_days``; and, when the governed ``voter_activity_days`` is above 0,
    active in that period (any audit row they caused), the co-op's one activity test."""
    members = Membership.objects.filter(
        status=Membership.Status.ACTIVE,
        juror_opt_in=True,
        joined_at__lte=at - timedelta(days=tenure_days),
        user__is_active=True,
        user__suspended_at__isnull=True,
    )
    activity_days = rule_value("voter_activity_days", at=at)
    if activity_days > 0:
        recent = AuditEvent.objects.filter(
            actor_id=OuterRef("user_id"), created_at__gte=at - timedelta(days=activity_days)
        )
        members = members.filter(Exists(recent))
    return set(members.values_list("user_id", flat=True))


def conflicted_ids(*, case: Case, at: datetime) -> set[int]:
    """Everyone with a conflict of interest in ``case``: the parties, the requester's staff
    and its former staff (left within the governed ``former_staff_days``; the co-op's staff on a
    suspension appeal), anyone who ever worked on a batch of the case
    or for the requester within the governed look-back, and every juror of this case (and of
    the mass case it was split from)."""
    conflicted: set[int] = set()
    for user_id in (case.worker_id, case.respondent_id):
        if user_id is not None:
            conflicted.add(user_id)
    conflicted.update(CaseItem.objects.filter(case=case).values_list("worker_id", flat=True))
    case_ids = [case.pk] + ([case.parent_id] if case.parent_id else [])
    conflicted.update(Juror.objects.filter(case_id__in=case_ids).values_list("user_id", flat=True))
    if case.kind == Case.Kind.SUSPENSION:
        # The co-op's staff are the other side of a suspension appeal.
        conflicted.update(
            User.objects.filter(Q(is_staff=True) | Q(groups__name=MODERATOR_GROUP)).values_list("id", flat=True)
        )
    if case.organisation_id is not None:
        # Present staff and those who left within the governed ``former_staff_days``.
        conflicted.update(organisation_staff_ids(organisation_id=case.organisation_id, at=at))
        since = at - timedelta(days=case.rule("conflict_lookback_days"))
        batch_ids = set(CaseItem.objects.filter(case=case).values_list("assignment__batch_id", flat=True))
        if case.batch_id is not None:
            batch_ids.add(case.batch_id)
        # Attempts record every worker who ever held a slot, even one returned or expired.
        conflicted.update(AssignmentAttempt.objects.filter(batch_id__in=batch_ids).values_list("worker_id", flat=True))
        conflicted.update(
            Assignment.objects.filter(batch_id__in=batch_ids, worker__isnull=False).values_list("worker_id", flat=True)
        )
        conflicted.update(
            AssignmentAttempt.objects.filter(
                batch__organisation_id=case.organisation_id, accepted_at__gte=since
            ).values_list("worker_id", flat=True)
        )
    return conflicted


def draw_pool(*, case: Case, at: datetime) -> list[int]:
    """The sorted ids of the members who may be drawn for ``case`` at ``at``."""
    eligible = eligible_member_ids(at=at, tenure_days=case.rule("juror_min_tenure_days"))
    return sorted(eligible - conflicted_ids(case=case, at=at))


def draw_make(*, case: Case, size: int, purpose: str, at: datetime) -> Draw:
    """Draws up to ``size`` jurors for the case's current round and stores the draw.
    The caller seats them (``disputes.services``) inside its transaction."""
    pool = draw_pool(case=case, at=at)
    seed = secrets.token_hex(16)
    chosen = draw_rerun(seed=seed, pool=pool, size=size)
    return Draw.objects.create(
        case=case, round=case.round, purpose=purpose, seed=seed, pool=pool, size=size, chosen=chosen
    )


def draw_sample(*, seed: str, item_ids: list[int], size: int) -> list[int]:
    """The items of a mass case the panel examines, reproducible from the panel draw's seed."""
    # A separate stream from the jurors' so the sample does not depend on the pool size.
    rng = random.Random(f"sample:{seed}")
    return sorted(rng.sample(sorted(item_ids), min(size, len(item_ids))))
