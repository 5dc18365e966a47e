"""The one way the platform reads a governed rule: the value in force at time T.

Versions of a rule are cached per rule (they are append-only and few) and the
cache entry is dropped whenever a version is appended (``governance.services``).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import AppError, NotFound
from governance.models import Ballot, Comment, Proposal, Rule, RuleClass, RuleVersion, VoterRollEntry
from governance.states import CLOSED

_CACHE_PREFIX = "rule-versions:v1:"


@dataclass(frozen=True, slots=True)
class RuleValue:
    key: str
    value: int
    version_id: int
    effective_at: datetime


def _versions(key: str) -> list[tuple[datetime, int, int]]:
    cached = cache.get(_CACHE_PREFIX + key)
    if cached is not None:
        return list(cached)
    rows = list(
        RuleVersion.objects.filter(rule__key=key)
        .order_by("effective_at", "id")
        .values_list("effective_at", "value", "id")
    )
    if not rows and not Rule.objects.filter(key=key).exists():
        raise AppError("unknown_rule", f"There is no governed rule named '{key}'.", status=500)
    cache.set(_CACHE_PREFIX + key, rows, timeout=3600)
    return rows


def rule_in_force(key: str, *, at: datetime | None = None) -> RuleValue:
    """The version of rule ``key`` in force at ``at`` (default: now)."""
    moment = at or timezone.now()
    current: tuple[datetime, int, int] | None = None
    for row in _versions(key):
        if row[0] <= moment:
            current = row
        else:
            break
    if current is None:
        raise AppError("rule_not_in_force", f"The rule '{key}' has no value in force at {moment.isoformat()}.")
    return RuleValue(key=key, value=current[1], effective_at=current[0], version_id=current[2])


def rule_value(key: str, *, at: datetime | None = None) -> int:
    """The value of rule ``key`` in force at ``at`` (default: now). Record
    ``rule_in_force(...).version_id`` where the decision must be traceable."""
    return rule_in_force(key, at=at).value


def rule_cache_invalidate(key: str) -> None:
    cache.delete(_CACHE_PREFIX + key)


def rules_in_force(*, at: datetime | None = None) -> dict[str, RuleValue]:
    """Every rule's version in force at ``at`` in one query, for listings and for
    recording the versions a batch, case or payout was made under."""
    moment = at or timezone.now()
    current: dict[str, RuleValue] = {}
    rows = (
        RuleVersion.objects.filter(effective_at__lte=moment)
        .order_by("rule_id", "effective_at", "id")
        .values_list("rule__key", "value", "id", "effective_at")
    )
    for key, value, version_id, effective_at in rows:
        current[key] = RuleValue(key=key, value=value, version_id=version_id, effective_at=effective_at)
    return current


def rules_list() -> QuerySet[Rule]:
    return Rule.objects.select_related("rule_class").order_by("key")


def rule_get(*, key: str) -> Rule:
    rule = Rule.objects.select_related("rule_class").filter(key=key).first()
    if rule is None:
        raise NotFound("rule")
    return rule


def rule_history(*, rule: Rule) -> QuerySet[RuleVersion]:
    """All versions of ``rule``, past and scheduled, oldest first."""
    return rule.versions.order_by("effective_at", "id")


def rule_classes_list() -> QuerySet[RuleClass]:
    return RuleClass.objects.order_by("id")


def proposals_visible(*, user: Any) -> QuerySet[Proposal]:
    """Proposals ``user`` may see: every proposal past draft, and their own drafts."""
    visible = ~Q(state=Proposal.State.DRAFT)
    if user.is_authenticated:
        visible |= Q(author_id=user.pk)
    return Proposal.objects.filter(visible).select_related("rule_class", "rule", "target_class", "author")


def access_proposal(*, user: Any, proposal_id: int) -> Proposal:
    """The one way in to a proposal: ``NotFound`` for someone else's draft too."""
    proposal = proposals_visible(user=user).filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound("proposal")
    return proposal


def proposal_comments(*, proposal: Proposal) -> QuerySet[Comment]:
    return proposal.comments.select_related("author").order_by("created_at", "id")


@dataclass(frozen=True, slots=True)
class OwnBallot:
    """What a member may know about their own ballot. ``choice`` only for an open
    ballot: a secret ballot is not linked to its voter, so it cannot be shown."""

    on_roll: bool
    voted: bool
    secret: bool
    choice: str | None


def ballot_own(*, user: Any, proposal: Proposal) -> OwnBallot:
    entry = VoterRollEntry.objects.filter(proposal=proposal, user_id=user.pk).first()
    secret = bool(proposal.secret_ballot if proposal.secret_ballot is not None else proposal.rule_class.secret_ballot)
    if entry is None:
        return OwnBallot(on_roll=False, voted=False, secret=secret, choice=None)
    choice: str | None = None
    if entry.voted and not secret:
        choice = Ballot.objects.filter(proposal=proposal, voter_id=user.pk).values_list("choice", flat=True).first()
    return OwnBallot(on_roll=True, voted=entry.voted, secret=secret, choice=choice)


def _require_published(proposal: Proposal) -> None:
    if proposal.state not in CLOSED:
        raise AppError(
            "results_not_published",
            f"This proposal is {proposal.state}; results are published when voting closes.",
            status=409,
        )


@dataclass(frozen=True, slots=True)
class ProposalResult:
    state: str
    roll_size: int
    turnout: int
    yes: int
    no: int
    abstain: int
    quorum_bps: int
    quorum_met: bool
    threshold_numerator: int
    threshold_denominator: int
    threshold_inclusive: bool
    secret_ballot: bool
    closed_at: datetime
    effective_at: datetime | None


def proposal_result(*, proposal: Proposal) -> ProposalResult:
    """The published result; ``results_not_published`` (409) while voting runs."""
    _require_published(proposal)
    yes, no, abstain = proposal.yes_count or 0, proposal.no_count or 0, proposal.abstain_count or 0
    assert proposal.closed_at is not None
    return ProposalResult(
        state=proposal.state,
        roll_size=proposal.roll_size or 0,
        turnout=yes + no + abstain,
        yes=yes,
        no=no,
        abstain=abstain,
        quorum_bps=proposal.quorum_bps or 0,
        quorum_met=bool(proposal.quorum_met),
        threshold_numerator=proposal.threshold_numerator or 0,
        threshold_denominator=proposal.threshold_denominator or 1,
        threshold_inclusive=bool(proposal.threshold_inclusive),
        secret_ballot=bool(proposal.secret_ballot),
        closed_at=proposal.closed_at,
        effective_at=proposal.effective_at,
    )


def secret_ballot_receipts(*, proposal: Proposal, receipt: str | None = None) -> QuerySet[Ballot, Any]:
    """The published list of a secret vote: receipt and choice, no voter.

    Only after close, so that nobody sees a running count. Each member finds
    their own receipt in it to verify that their ballot was counted as cast.
    """
    _require_published(proposal)
    if not proposal.secret_ballot:
        raise AppError("not_a_secret_ballot", "This vote was not secret; it has no receipt list.", status=404)
    receipts = Ballot.objects.filter(proposal=proposal).order_by("receipt").values("receipt", "choice")
    if receipt is not None:
        receipts = receipts.filter(receipt=receipt.strip().lower())
    return receipts
