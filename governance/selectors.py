"""Reads of governance: rules, proposals, ballots and results.

The one way to read a governed rule's value in force is ``core.rules`` (re-exported
here); this module supplies its rows (``GovernanceRuleSource``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import StaffRole
from accounts.selectors import require_staff_role, user_has_staff_role, user_is_member
from core.errors import AppError, NotFound, PermissionDenied

# The reader of rules in force lives in the platform core; these names stay importable from here.
from core.rules import RuleValue, rule_cache_invalidate, rule_in_force, rule_value, rules_in_force
from governance import dividends
from governance.models import (
    Ballot,
    Comment,
    Dividend,
    DividendAllocation,
    Proposal,
    Rule,
    RuleClass,
    RuleVersion,
    VoterRollEntry,
)
from governance.states import CLOSED

__all__ = ["RuleValue", "rule_cache_invalidate", "rule_in_force", "rule_value", "rules_in_force"]


class GovernanceRuleSource:
    """The rows behind ``core.rules`` (registered in ``GovernanceConfig.ready``): the
    reader lives in the platform core, the tables and their only writer here."""

    def versions(self, key: str) -> list[tuple[datetime, int, int]] | None:
        rows = list(
            RuleVersion.objects.filter(rule__key=key)
            .order_by("effective_at", "id")
            .values_list("effective_at", "value", "id")
        )
        if not rows and not Rule.objects.filter(key=key).exists():
            return None
        return rows

    def versions_until(self, moment: datetime) -> Iterable[tuple[str, int, int, datetime]]:
        return (
            RuleVersion.objects.filter(effective_at__lte=moment)
            .order_by("rule_id", "effective_at", "id")
            .values_list("rule__key", "value", "id", "effective_at")
        )


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
    return Proposal.objects.filter(visible).select_related("rule_class", "rule", "target_class", "author", "appointee")


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
        # One whole sentence per state: a state's stored name slotted into a frame read as
        # English (and as an internal name) in every language.
        unpublished: dict[str, str] = {
            Proposal.State.DRAFT: _("This proposal is still a draft; results are published when voting closes."),
            Proposal.State.DISCUSSION: _(
                "This proposal is still being discussed; results are published when voting closes."
            ),
            Proposal.State.VOTING: _("Voting on this proposal is still open; results are published when it closes."),
        }
        raise AppError(
            "results_not_published",
            unpublished.get(
                proposal.state,
                _("This proposal was withdrawn before any vote; it has no results."),
            ),
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
        raise AppError("not_a_secret_ballot", _("This vote was not secret; it has no receipt list."), status=404)
    receipts = Ballot.objects.filter(proposal=proposal).order_by("receipt").values("receipt", "choice")
    if receipt is not None:
        receipts = receipts.filter(receipt=receipt.strip().lower())
    return receipts


# --- patronage dividends ---------------------------------------------------------------------


def require_dividend_reader(user: Any) -> None:
    """Members and the treasurer read the surplus and the dividends; anyone else is refused
    (``permission_denied``) before their input is even looked at."""
    _require_member_or_treasurer(user, _("see the co-op's surplus and dividends"))


def _require_member_or_treasurer(user: Any, doing: str) -> None:
    if user.is_authenticated and (user_is_member(user) or user_has_staff_role(user=user, role=StaffRole.TREASURER)):
        return
    raise PermissionDenied(_("Only co-op members and the treasurer can %(doing)s.") % {"doing": doing})


def surplus_preview(*, user: Any, period_start: date, period_end: date) -> dividends.Surplus:
    """The surplus of a period as the formula computes it from the ledger (members and the
    treasurer); a period backwards is ``invalid``."""
    _require_member_or_treasurer(user, _("see the co-op's surplus"))
    if period_end < period_start:
        raise AppError("invalid", _("The last day comes before the first day."), fields={"period_end": ["-"]})
    return dividends.surplus_compute(period_start=period_start, period_end=period_end)


def dividends_visible(*, user: Any) -> QuerySet[Dividend]:
    """Every dividend decided (members and the treasurer), newest period first."""
    _require_member_or_treasurer(user, _("see the co-op's dividends"))
    return Dividend.objects.select_related("proposal").order_by("-period_end", "-id")


def access_dividend(*, user: Any, dividend_id: int) -> Dividend:
    dividend = dividends_visible(user=user).filter(pk=dividend_id).first()
    if dividend is None:
        raise NotFound("dividend")
    return dividend


@dataclass(frozen=True, slots=True)
class DividendComputation:
    """One member's dividend with every figure of its computation, so the member can redo it:
    share = amount x patronage / total patronage (then largest remainders, see
    ``governance.dividends``)."""

    dividend: Dividend
    patronage: int
    share: int
    status: str | None  # owed | paid; None when the member had no patronage in the period


def dividend_computations_own(*, user: Any) -> list[DividendComputation]:
    """The dividends and, for each, the member's own patronage and share (two queries)."""
    listed = list(dividends_visible(user=user)[:200])
    own = {
        a.dividend_id: a
        for a in DividendAllocation.objects.filter(user_id=user.pk, dividend_id__in=[d.pk for d in listed])
    }
    return [
        DividendComputation(
            dividend=d,
            patronage=own[d.pk].patronage if d.pk in own else 0,
            share=own[d.pk].amount if d.pk in own else 0,
            status=own[d.pk].status if d.pk in own else None,
        )
        for d in listed
    ]


def dividend_allocations_for_treasurer(*, user: Any, dividend: Dividend) -> QuerySet[DividendAllocation]:
    """Every member's share of ``dividend``: the treasurer's whole view."""
    require_staff_role(user=user, role=StaffRole.TREASURER, doing=_("see every member's dividend"))
    return DividendAllocation.objects.filter(dividend=dividend).select_related("user").order_by("user__username")


def dividends_for_treasurer(*, user: Any) -> QuerySet[Dividend]:
    """Every dividend with every member's share (the treasurer's page; two queries)."""
    require_staff_role(user=user, role=StaffRole.TREASURER, doing=_("see every member's dividend"))
    shares = DividendAllocation.objects.select_related("user").order_by("user__username")
    return Dividend.objects.prefetch_related(Prefetch("allocations", queryset=shares)).order_by("-period_end", "-id")
