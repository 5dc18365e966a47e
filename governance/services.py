"""Writes to governance: proposals, discussion, ballots, closing and taking effect.

Every service is one transaction and writes an audit row. Rules change only
here, through ``proposal_schedule`` appending a version for an adopted
proposal; there is no other writer of ``RuleVersion``.

Lock order, everywhere: proposal, then roll entry, then rule, then rule class.
Voters hold a shared lock on the proposal row (PostgreSQL ``FOR SHARE``) while
closing takes an exclusive one, so a ballot either commits before the tally or
is refused as late; voters never block each other.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.appointments import staff_role_grant, staff_role_remove
from accounts.models import Membership, StaffAppointment, StaffRole, User
from accounts.selectors import user_has_staff_role, user_is_member
from core.audit import audit_record
from core.errors import AppError, InvalidTransition, PermissionDenied
from core.labels import label, rule_name
from core.models import AuditEvent
from core.moments import moment_text
from core.rule_text import rule_value_text
from governance import dividends, notices, states
from governance.models import Ballot, Comment, Proposal, Rule, RuleClass, RuleVersion, VoterRollEntry
from governance.selectors import rule_cache_invalidate, rule_value
from governance.states import proposal_machine

logger = logging.getLogger(__name__)

BYLAWS_CLASS = "bylaws"
# The class of appointments to and removals from the co-op's staff roles.
APPOINTMENTS_CLASS = "appointments"
APPOINTMENT_ACTIONS = ("grant", "remove")
# The class that decides patronage dividends: the co-op's economic decisions.
DIVIDENDS_CLASS = "economic"
BALLOT_SECRET_MIN_LENGTH = 16
BALLOT_SECRET_MAX_LENGTH = 128

# The parameters a bylaw amendment may give a rule class, with their limits.
CLASS_PARAMETER_LIMITS: dict[str, tuple[int, int]] = {
    "quorum_bps": (0, 10_000),
    "threshold_numerator": (1, 1000),
    "threshold_denominator": (1, 1000),
    "threshold_inclusive": (0, 1),
    "notice_days": (0, 365),
    "discussion_days": (0, 90),
    "voting_days": (1, 90),
    "secret_ballot": (0, 1),
}
_BOOLEAN_CLASS_PARAMETERS = {"threshold_inclusive", "secret_ballot"}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# What only members may do: one whole sentence each (the English fragment used to be slotted in).
_MEMBERS_ONLY = {
    "make proposals": gettext_lazy("Only active co-op members can make proposals; join the co-op first."),
    "open a discussion": gettext_lazy("Only active co-op members can open a discussion; join the co-op first."),
    "take part in the discussion": gettext_lazy(
        "Only active co-op members can take part in the discussion; join the co-op first."
    ),
}


def _require_member(user: User, doing: str) -> None:
    if not user_is_member(user):
        raise AppError("not_a_member", str(_MEMBERS_ONLY[doing]), status=403)


def _require_state(proposal: Proposal, allowed: frozenset[str], action: str) -> None:
    if proposal.state not in allowed:
        raise InvalidTransition("proposal", proposal.state, action)


def _check_rule_value(rule: Rule, value: int) -> None:
    if not rule.min_value <= value <= rule.max_value:
        message = _("%(rule)s must be between %(low)s and %(high)s; %(value)s is outside those limits.") % {
            "rule": rule_name(rule),
            "low": rule_value_text(rule, rule.min_value),
            "high": rule_value_text(rule, rule.max_value),
            "value": rule_value_text(rule, value),
        }
        raise AppError("value_out_of_limits", message, fields={"proposed_value": [message]})


# Each rule class parameter named in words (the API's key stays the key a caller types).
_CLASS_PARAMETER_NAMES = {
    "quorum_bps": gettext_lazy("the quorum, in hundredths of a percent of the voter roll"),
    "threshold_numerator": gettext_lazy("the pass threshold's numerator"),
    "threshold_denominator": gettext_lazy("the pass threshold's denominator"),
    "threshold_inclusive": gettext_lazy("whether a vote exactly at the threshold passes"),
    "notice_days": gettext_lazy("the notice period, in days"),
    "discussion_days": gettext_lazy("the discussion period, in days"),
    "voting_days": gettext_lazy("the voting period, in days"),
    "secret_ballot": gettext_lazy("whether the ballot is secret"),
}
# A value out of its limits: one whole sentence per parameter.
_CLASS_PARAMETER_LIMITS_TEXT = {
    "quorum_bps": gettext_lazy(
        "The quorum must be a whole number of hundredths of a percent of the voter roll, from %(low)s to %(high)s."
    ),
    "threshold_numerator": gettext_lazy(
        "The pass threshold's numerator must be a whole number from %(low)s to %(high)s."
    ),
    "threshold_denominator": gettext_lazy(
        "The pass threshold's denominator must be a whole number from %(low)s to %(high)s."
    ),
    "notice_days": gettext_lazy("The notice period must be a whole number of days from %(low)s to %(high)s."),
    "discussion_days": gettext_lazy("The discussion period must be a whole number of days from %(low)s to %(high)s."),
    "voting_days": gettext_lazy("The voting period must be a whole number of days from %(low)s to %(high)s."),
}
# A yes/no parameter given something else.
_CLASS_PARAMETER_YES_NO_TEXT = {
    "threshold_inclusive": gettext_lazy(
        "Whether a vote exactly at the threshold passes must be given as true or false."
    ),
    "secret_ballot": gettext_lazy("Whether the ballot is secret must be given as true or false."),
}


def _check_class_parameters(parameters: dict[str, Any]) -> dict[str, int | bool]:
    if not parameters:
        raise AppError(
            "invalid",
            _("Say which parameters of the rule class should change."),
            fields={"class_parameters": [_("Give at least one parameter.")]},
        )
    unknown = sorted(set(parameters) - set(CLASS_PARAMETER_LIMITS))
    if unknown:
        allowed = "; ".join(
            _("%(key)s (%(name)s)") % {"key": key, "name": _CLASS_PARAMETER_NAMES[key]}
            for key in sorted(CLASS_PARAMETER_LIMITS)
        )
        raise AppError(
            "invalid",
            _("Unknown rule class parameters: %(unknown)s.") % {"unknown": ", ".join(unknown)},
            fields={"class_parameters": [_("The parameters a rule class has: %(allowed)s.") % {"allowed": allowed}]},
        )
    clean: dict[str, int | bool] = {}
    for name, value in parameters.items():
        low, high = CLASS_PARAMETER_LIMITS[name]
        if name in _BOOLEAN_CLASS_PARAMETERS:
            if not isinstance(value, bool):
                message = str(_CLASS_PARAMETER_YES_NO_TEXT[name])
                raise AppError("invalid", message, fields={"class_parameters": [message]})
            clean[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            message = str(_CLASS_PARAMETER_LIMITS_TEXT[name]) % {
                "low": formats.number_format(low, use_l10n=True, force_grouping=True),
                "high": formats.number_format(high, use_l10n=True, force_grouping=True),
            }
            raise AppError("value_out_of_limits", message, fields={"class_parameters": [message]})
        clean[name] = value
    return clean


def _check_class_result(rule_class: RuleClass, parameters: dict[str, int | bool]) -> None:
    numerator = int(parameters.get("threshold_numerator", rule_class.threshold_numerator))
    denominator = int(parameters.get("threshold_denominator", rule_class.threshold_denominator))
    if numerator > denominator:
        raise AppError(
            "value_out_of_limits",
            _(
                "A pass threshold of %(numerator)s/%(denominator)s is more than "
                "everyone; keep the numerator at most the denominator."
            )
            % {"numerator": numerator, "denominator": denominator},
            fields={"class_parameters": [_("The pass threshold's numerator must not exceed its denominator.")]},
        )


def _class_snapshot(rule_class: RuleClass) -> dict[str, Any]:
    return {name: getattr(rule_class, name) for name in CLASS_PARAMETER_LIMITS}


# --- proposals -------------------------------------------------------------------------------


def proposal_create(
    *,
    author: User,
    kind: str,
    title: str,
    body: str,
    rule_key: str | None = None,
    proposed_value: int | None = None,
    rule_class_key: str | None = None,
    target_class_key: str | None = None,
    class_parameters: dict[str, Any] | None = None,
    appointee_username: str | None = None,
    staff_role: str | None = None,
    appointment_action: str | None = None,
    dividend_period_start: date | None = None,
    dividend_period_end: date | None = None,
    dividend_amount: int | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Creates a draft proposal by a member.

    A dividend (``kind="dividend"``) names a finished period and the amount to share out;
    it is governed by the economic class and checked against the period's surplus here
    (``governance.dividends.dividend_proposal_check``) and again when it takes effect.

    An appointment (``kind="appointment"``) names a person, a staff role and ``grant`` or
    ``remove``; it is governed by the appointments class and, once in effect, grants or
    removes the role in the running platform (``accounts.appointments``).

    The governing class follows from the kind: a rule change is governed by the
    rule's class, a bylaw amendment by the bylaws class, a policy text by the
    class the author names. A proposed rule value is checked against the rule's
    hard limits here and again before voting opens. Raises ``AppError``
    (``not_a_member``, ``invalid``, ``unknown_rule``, ``value_out_of_limits``).
    """
    _require_member(author, "make proposals")
    title, body = title.strip(), body.strip()
    fields: dict[str, list[str]] = {}
    if not title:
        fields["title"] = [_("Give the proposal a title.")]
    if not body:
        fields["body"] = [_("Explain the proposal.")]
    if kind not in Proposal.Kind.values:
        fields["kind"] = [_("Choose one of: %(values)s.") % {"values": ", ".join(Proposal.Kind.values)}]
    if fields:
        raise AppError("invalid", _("Some fields need attention."), fields=fields)

    rule: Rule | None = None
    target_class: RuleClass | None = None
    parameters: dict[str, int | bool] = {}
    appointee: User | None = None
    if kind == Proposal.Kind.APPOINTMENT:
        rule_class = RuleClass.objects.get(key=APPOINTMENTS_CLASS)
        appointee = _check_appointment(appointee_username, staff_role, appointment_action)
    elif kind == Proposal.Kind.DIVIDEND:
        rule_class = RuleClass.objects.get(key=DIVIDENDS_CLASS)
        dividends.dividend_proposal_check(
            period_start=dividend_period_start, period_end=dividend_period_end, amount=dividend_amount, now=now
        )
    elif kind == Proposal.Kind.RULE_CHANGE:
        rule = Rule.objects.select_related("rule_class").filter(key=rule_key or "").first()
        if rule is None:
            raise AppError(
                "unknown_rule",
                _("There is no governed rule named '%(rule_key)s'; see /api/governance/rules/.")
                % {"rule_key": rule_key},
                fields={"rule": [_("Unknown rule.")]},
            )
        if proposed_value is None:
            raise AppError("invalid", _("Say which value you propose."), fields={"proposed_value": [_("Required.")]})
        _check_rule_value(rule, proposed_value)
        rule_class = rule.rule_class
    elif kind == Proposal.Kind.BYLAW:
        rule_class = RuleClass.objects.get(key=BYLAWS_CLASS)
        if target_class_key or class_parameters:
            target_class = RuleClass.objects.filter(key=target_class_key or "").first()
            if target_class is None:
                raise AppError(
                    "unknown_rule_class",
                    _("There is no rule class named '%(target_class_key)s'.") % {"target_class_key": target_class_key},
                    fields={"target_class": [_("Unknown rule class.")]},
                )
            parameters = _check_class_parameters(class_parameters or {})
            _check_class_result(target_class, parameters)
    else:
        found = RuleClass.objects.filter(key=rule_class_key or "").first()
        if found is None:
            raise AppError(
                "unknown_rule_class",
                _("Name the rule class that decides this policy (e.g. operational)."),
                fields={"rule_class": [_("Unknown rule class.")]},
            )
        rule_class = found

    with transaction.atomic():
        proposal = Proposal.objects.create(
            kind=kind,
            title=title,
            body=body,
            author=author,
            rule_class=rule_class,
            rule=rule,
            proposed_value=proposed_value if rule is not None else None,
            target_class=target_class,
            class_parameters=parameters,
            appointee=appointee,
            staff_role=(staff_role or "") if appointee else "",
            appointment_action=(appointment_action or "") if appointee else "",
            dividend_period_start=dividend_period_start if kind == Proposal.Kind.DIVIDEND else None,
            dividend_period_end=dividend_period_end if kind == Proposal.Kind.DIVIDEND else None,
            dividend_amount=dividend_amount if kind == Proposal.Kind.DIVIDEND else None,
        )
        after: dict[str, Any] = {
            "kind": kind,
            "rule": rule_key if rule else None,
            "proposed_value": proposal.proposed_value,
        }
        if kind == Proposal.Kind.DIVIDEND:
            after["dividend"] = {
                "period": [str(dividend_period_start), str(dividend_period_end)],
                "amount": dividend_amount,
            }
        audit_record(actor=author, action="proposal.created", target=proposal, after=after)
    return proposal


def _check_appointment(username: str | None, role: str | None, action: str | None) -> User:
    fields: dict[str, list[str]] = {}
    appointee = User.objects.filter(username=username or "").first()
    if appointee is None:
        fields["appointee"] = [_("Name the person by their user name.")]
    if role not in StaffRole.values:
        fields["staff_role"] = [
            _("Choose one of the staff roles: %(roles)s.")
            % {"roles": ", ".join(label(role) for role in StaffRole.values)}
        ]
    if action not in APPOINTMENT_ACTIONS:
        fields["appointment_action"] = [_("Choose whether to grant the role or remove it.")]
    if fields or appointee is None:
        raise AppError(
            "invalid",
            _("An appointment names a person, a staff role and whether to grant or remove it."),
            fields=fields,
        )
    holds = user_has_staff_role(user=appointee, role=role or "")
    if action == "grant" and holds:
        raise AppError(
            "invalid",
            _("%(username)s already holds the role “%(role)s”.")
            % {"username": appointee.username, "role": label(role)},
            fields={"appointee": [_("Holds it.")]},
        )
    if action == "remove" and not holds:
        raise AppError(
            "invalid",
            _("%(username)s does not hold the role “%(role)s”.")
            % {"username": appointee.username, "role": label(role)},
            fields={"appointee": [_("Not a holder.")]},
        )
    return appointee


def _appointment_take_effect(proposal: Proposal) -> None:
    """Grants or removes the role the adopted appointment names. A removal of someone who
    no longer holds the role (removed by a later decision meanwhile) changes nothing and
    says so in the audit log, so the proposal still takes effect."""
    assert proposal.appointee is not None
    if proposal.appointment_action == "grant":
        staff_role_grant(
            user=proposal.appointee,
            role=proposal.staff_role,
            source=StaffAppointment.Source.PROPOSAL,
            proposal_id=proposal.pk,
        )
    elif user_has_staff_role(user=proposal.appointee, role=proposal.staff_role):
        staff_role_remove(user=proposal.appointee, role=proposal.staff_role, proposal_id=proposal.pk)
    else:
        audit_record(
            actor=None,
            action="appointment.moot",
            target=proposal,
            after={"role": proposal.staff_role, "user": proposal.appointee_id},
        )


def proposal_update(
    *,
    proposal: Proposal,
    actor: User,
    title: str | None = None,
    body: str | None = None,
    proposed_value: int | None = None,
    class_parameters: dict[str, Any] | None = None,
) -> Proposal:
    """The author edits a draft or a proposal under discussion.

    Once voting opens the text members vote on is fixed: raises
    ``InvalidTransition`` (``invalid_state``, 409) and changes nothing.
    """
    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update(of=("self",)).select_related("rule", "target_class").get(pk=proposal.pk)
        )
        if proposal.author_id != actor.pk:
            raise PermissionDenied(_("Only the author can edit a proposal."))
        _require_state(proposal, states.EDITABLE, "edited")
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        if title is not None:
            if not title.strip():
                raise AppError("invalid", _("The title cannot be empty."), fields={"title": [_("Required.")]})
            changes["title"] = title.strip()
        if body is not None:
            if not body.strip():
                raise AppError("invalid", _("The text cannot be empty."), fields={"body": [_("Required.")]})
            changes["body"] = body.strip()
        if proposed_value is not None:
            if proposal.rule is None:
                raise AppError(
                    "invalid", _("Only a rule change has a proposed value."), fields={"proposed_value": ["-"]}
                )
            _check_rule_value(proposal.rule, proposed_value)
            changes["proposed_value"] = proposed_value
        if class_parameters is not None:
            if proposal.target_class is None:
                raise AppError(
                    "invalid", _("This proposal does not amend a rule class."), fields={"class_parameters": ["-"]}
                )
            clean = _check_class_parameters(class_parameters)
            _check_class_result(proposal.target_class, clean)
            changes["class_parameters"] = clean
        for name, value in changes.items():
            if getattr(proposal, name) != value:
                before[name], after[name] = getattr(proposal, name), value
                setattr(proposal, name, value)
        if after:
            proposal.save(update_fields=list(after))
            audit_record(actor=actor, action="proposal.edited", target=proposal, before=before, after=after)
    return proposal


def proposal_open_discussion(*, proposal: Proposal, actor: User, now: datetime | None = None) -> Proposal:
    """The author opens the discussion; voting opens automatically when the
    class's discussion period has passed (``governance.jobs.open_due_votes``)."""
    moment = _now(now)
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update(of=("self",)).select_related("rule_class").get(pk=proposal.pk)
        if proposal.author_id != actor.pk:
            raise PermissionDenied(_("Only the author can open the discussion."))
        _require_member(actor, "open a discussion")
        proposal.state = proposal_machine.target(proposal.state, "open_discussion")
        proposal.discussion_started_at = moment
        proposal.discussion_ends_at = moment + timedelta(days=proposal.rule_class.discussion_days)
        proposal.save(update_fields=["state", "discussion_started_at", "discussion_ends_at"])
        notices.discussion_opened(proposal)
        audit_record(
            actor=actor,
            action="proposal.discussion_opened",
            target=proposal,
            before={"state": states.DRAFT},
            after={"state": proposal.state, "discussion_ends_at": proposal.discussion_ends_at.isoformat()},
        )
    return proposal


def proposal_withdraw(*, proposal: Proposal, actor: User) -> Proposal:
    """The author withdraws a proposal before voting opens."""
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.author_id != actor.pk:
            raise PermissionDenied(_("Only the author can withdraw a proposal."))
        before = proposal.state
        proposal.state = proposal_machine.target(proposal.state, "withdraw")
        proposal.save(update_fields=["state"])
        audit_record(
            actor=actor,
            action="proposal.withdrawn",
            target=proposal,
            before={"state": before},
            after={"state": Proposal.State.WITHDRAWN},
        )
    return proposal


def eligible_voter_ids(*, at: datetime) -> QuerySet[Membership, int]:
    """User ids of the members who may vote at ``at``, by the governed rules.

    Active membership for at least ``voter_min_tenure_days``; when
    ``voter_activity_days`` is above 0, also some recorded activity (any audit
    row the member caused: work, jury service, votes) within that many days.
    """
    tenure = rule_value("voter_min_tenure_days", at=at)
    activity_days = rule_value("voter_activity_days", at=at)
    members = Membership.objects.filter(
        status=Membership.Status.ACTIVE, user__is_active=True, joined_at__lte=at - timedelta(days=tenure)
    )
    if activity_days > 0:
        recent = AuditEvent.objects.filter(
            actor_id=OuterRef("user_id"), created_at__gte=at - timedelta(days=activity_days), created_at__lte=at
        )
        members = members.filter(Exists(recent))
    return members.order_by("user_id").values_list("user_id", flat=True)


def _roll_freeze(*, proposal_id: int, at: datetime) -> int:
    """Writes the voter roll in one ``INSERT ... SELECT`` (no round trip per
    member: a roll of 100,000 is one statement); returns its size."""
    eligible_sql, params = eligible_voter_ids(at=at).query.sql_with_params()
    table = VoterRollEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (proposal_id, user_id, voted) SELECT %s, eligible.user_id, %s "  # noqa: S608
            f"FROM ({eligible_sql}) AS eligible",
            [proposal_id, False, *params],
        )
        return int(cursor.rowcount)


def proposal_open_voting(*, proposal_id: int, now: datetime | None = None) -> Proposal:
    """Opens voting once the discussion period is over.

    Checks the proposed value against the rule's limits one last time, copies
    the class's quorum, threshold, notice and secrecy onto the proposal, and
    freezes the voter roll (one row per eligible member, inserted in bulk).
    Idempotent: a proposal already past discussion is returned unchanged.
    Raises ``discussion_not_over`` (409) before the discussion period ends.
    """
    moment = _now(now)
    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("rule_class", "rule", "target_class")
            .get(pk=proposal_id)
        )
        if proposal.state in {states.VOTING, *states.CLOSED}:
            return proposal
        proposal_machine.target(proposal.state, "open_voting")
        assert proposal.discussion_ends_at is not None
        if moment < proposal.discussion_ends_at:
            raise AppError(
                "discussion_not_over",
                _("The discussion runs until %(moment)s; voting opens after it.")
                % {"moment": moment_text(proposal.discussion_ends_at, deadline=True)},
                status=409,
            )
        if proposal.rule is not None and proposal.proposed_value is not None:
            _check_rule_value(proposal.rule, proposal.proposed_value)
        if proposal.target_class is not None:
            _check_class_result(proposal.target_class, _check_class_parameters(proposal.class_parameters))
        rule_class = proposal.rule_class
        proposal.quorum_bps = rule_class.quorum_bps
        proposal.threshold_numerator = rule_class.threshold_numerator
        proposal.threshold_denominator = rule_class.threshold_denominator
        proposal.threshold_inclusive = rule_class.threshold_inclusive
        proposal.notice_days = rule_class.notice_days
        proposal.secret_ballot = rule_class.secret_ballot
        proposal.roll_size = _roll_freeze(proposal_id=proposal.pk, at=moment)
        proposal.state = states.VOTING
        proposal.voting_opened_at = moment
        proposal.voting_closes_at = moment + timedelta(days=rule_class.voting_days)
        proposal.save(
            update_fields=[
                "state",
                "quorum_bps",
                "threshold_numerator",
                "threshold_denominator",
                "threshold_inclusive",
                "notice_days",
                "secret_ballot",
                "roll_size",
                "voting_opened_at",
                "voting_closes_at",
            ]
        )
        notices.voting_opened(proposal)
        audit_record(
            actor=None,
            action="proposal.voting_opened",
            target=proposal,
            before={"state": states.DISCUSSION},
            after={
                "state": states.VOTING,
                "roll_size": proposal.roll_size,
                "voting_closes_at": proposal.voting_closes_at.isoformat(),
                "class": _class_snapshot(rule_class),
            },
        )
    return proposal


def comment_add(*, proposal: Proposal, author: User, body: str, parent_id: int | None = None) -> Comment:
    """A member comments during discussion or voting; ``parent_id`` replies in a thread."""
    _require_member(author, "take part in the discussion")
    body = body.strip()
    if not body:
        raise AppError("invalid", _("The comment is empty."), fields={"body": [_("Write something.")]})
    with transaction.atomic():
        proposal = Proposal.objects.get(pk=proposal.pk)
        if proposal.state not in states.COMMENTABLE:
            raise AppError(
                "discussion_closed",
                _("Comments are open during discussion and voting. This proposal's stage: %(state)s.")
                % {"state": label(proposal.state)},
                status=409,
            )
        parent: Comment | None = None
        if parent_id is not None:
            parent = Comment.objects.filter(pk=parent_id, proposal=proposal).first()
            if parent is None:
                raise AppError(
                    "invalid",
                    _("The comment you reply to is not in this discussion."),
                    fields={"parent": [_("Unknown.")]},
                )
        comment = Comment.objects.create(proposal=proposal, author=author, parent=parent, body=body)
        audit_record(actor=author, action="comment.added", target=comment, after={"proposal": proposal.pk})
    return comment


# --- ballots --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BallotReceipt:
    """What a voter gets back. For a secret ballot, ``receipt`` is the code to
    look up in the published receipt list; ``ballot_secret`` is set only when
    the platform generated it, and is shown this once: it is needed to change
    the vote and is never stored."""

    proposal_id: int
    secret: bool
    receipt: str | None = None
    ballot_secret: str | None = None


def ballot_receipt(*, proposal_id: int, ballot_secret: str) -> str:
    """The receipt of a secret ballot: HMAC-SHA256 keyed by the member's secret.

    Anyone holding the secret can recompute it; nobody else can link it to them.
    """
    return hmac.new(ballot_secret.encode(), f"coop-ballot:{proposal_id}".encode(), hashlib.sha256).hexdigest()


def ballot_voter_binding(*, proposal_id: int, ballot_secret: str, voter_id: int) -> str:
    """Ties a secret ballot to its voter: HMAC-SHA256 of the voter's id keyed by the
    member's secret. Nobody without the secret can compute it for any member, so it
    links nothing; a person who learned someone else's secret computes it with their
    own id and does not match."""
    message = f"coop-ballot-voter:{proposal_id}:{voter_id}".encode()
    return hmac.new(ballot_secret.encode(), message, hashlib.sha256).hexdigest()


def _lock_proposal_for_vote(proposal_id: int) -> Proposal:
    """Reads the proposal under a shared row lock (PostgreSQL ``FOR SHARE``).

    Ballots take the shared lock and closing takes ``FOR UPDATE``, so closing
    waits for ballots in flight and later ballots see the closed state. SQLite
    serialises writing transactions anyway (``transaction_mode=IMMEDIATE``).
    """
    if connection.vendor == "postgresql":
        found = list(Proposal.objects.raw("SELECT * FROM governance_proposal WHERE id = %s FOR SHARE", [proposal_id]))
        if not found:
            raise Proposal.DoesNotExist()
        return found[0]
    return Proposal.objects.get(pk=proposal_id)


def _voting_gate(proposal_id: int, voter: User, choice: str, moment: datetime) -> tuple[Proposal, VoterRollEntry]:
    if choice not in Ballot.Choice.values:
        raise AppError("invalid", _("Vote yes, no or abstain."), fields={"choice": [_("Choose yes, no or abstain.")]})
    proposal = _lock_proposal_for_vote(proposal_id)
    if proposal.state in states.CLOSED or (
        proposal.state == states.VOTING and proposal.voting_closes_at and moment >= proposal.voting_closes_at
    ):
        closed_at = proposal.closed_at or proposal.voting_closes_at
        raise AppError(
            "voting_closed",
            _("Voting on this proposal closed (%(moment)s); ballots are no longer accepted.")
            % {"moment": moment_text(closed_at)}
            if closed_at
            else _("Voting on this proposal has closed; ballots are no longer accepted."),
            status=409,
        )
    if proposal.state != states.VOTING:
        raise AppError(
            "voting_not_open",
            _("Voting on this proposal has not opened. Its stage: %(state)s.") % {"state": label(proposal.state)},
            status=409,
        )
    entry = VoterRollEntry.objects.select_for_update().filter(proposal_id=proposal_id, user_id=voter.pk).first()
    if entry is None:
        raise AppError(
            "not_on_roll",
            _(
                "You are not on this proposal's voter roll, which was frozen when "
                "voting opened; only members eligible at that moment can vote on it."
            ),
            status=403,
        )
    return proposal, entry


def _clean_secret(ballot_secret: str | None) -> str:
    if ballot_secret is None:
        return secrets.token_urlsafe(24)
    if not BALLOT_SECRET_MIN_LENGTH <= len(ballot_secret) <= BALLOT_SECRET_MAX_LENGTH:
        raise AppError(
            "invalid",
            _(
                "A ballot secret has %(BALLOT_SECRET_MIN_LENGTH)s to "
                "%(BALLOT_SECRET_MAX_LENGTH)s characters; leave it out and the "
                "platform makes one for you."
            )
            % {
                "BALLOT_SECRET_MIN_LENGTH": BALLOT_SECRET_MIN_LENGTH,
                "BALLOT_SECRET_MAX_LENGTH": BALLOT_SECRET_MAX_LENGTH,
            },
            fields={"ballot_secret": [_("Wrong length.")]},
        )
    return ballot_secret


def ballot_cast(
    *, proposal_id: int, voter: User, choice: str, ballot_secret: str | None = None, now: datetime | None = None
) -> BallotReceipt:
    """Casts ``voter``'s first ballot on an open vote.

    One ballot per member: a second cast is refused (``already_voted``, 409);
    change the ballot with ``ballot_change`` instead. Also refused: not on the
    frozen roll (``not_on_roll``, 403), voting not open or closed
    (``voting_not_open`` / ``voting_closed``, 409). The roll entry is locked
    for the transaction, so concurrent casts by one member serialise and the
    loser gets ``already_voted``. A secret ballot stores only the choice and
    the receipt; the audit row says that the member voted, never how.
    """
    moment = _now(now)
    with transaction.atomic():
        proposal, entry = _voting_gate(proposal_id, voter, choice, moment)
        if entry.voted:
            raise AppError(
                "already_voted",
                _("You have already voted on this proposal. You can change your ballot until voting closes."),
                status=409,
            )
        receipt: str | None = None
        generated_secret: str | None = None
        if proposal.secret_ballot:
            secret = _clean_secret(ballot_secret)
            generated_secret = secret if ballot_secret is None else None
            receipt = ballot_receipt(proposal_id=proposal.pk, ballot_secret=secret)
            try:
                with transaction.atomic():
                    Ballot.objects.create(
                        proposal_id=proposal.pk,
                        receipt=receipt,
                        voter_binding=ballot_voter_binding(
                            proposal_id=proposal.pk, ballot_secret=secret, voter_id=voter.pk
                        ),
                        choice=choice,
                    )
            except IntegrityError:
                raise AppError(
                    "invalid",
                    _("That ballot secret is already in use on this proposal; choose another one."),
                    fields={"ballot_secret": [_("Choose another secret.")]},
                ) from None
        else:
            Ballot.objects.create(proposal_id=proposal.pk, voter=voter, choice=choice)
        entry.voted = True
        entry.save(update_fields=["voted"])
        audit_record(
            actor=voter,
            action="ballot.cast",
            target=proposal,
            after={"ballot": "secret" if proposal.secret_ballot else "open"},
        )
    return BallotReceipt(
        proposal_id=proposal.pk,
        secret=bool(proposal.secret_ballot),
        receipt=receipt,
        ballot_secret=generated_secret,
    )


def ballot_change(
    *, proposal_id: int, voter: User, choice: str, ballot_secret: str | None = None, now: datetime | None = None
) -> BallotReceipt:
    """Replaces ``voter``'s ballot with ``choice`` until voting closes.

    A secret ballot is found by its receipt, so the member must send the
    ballot secret used when voting (``ballot_secret_mismatch``, 403 otherwise), and
    only its own voter can change it: the ballot's voter binding must match the
    caller (``not_your_ballot``, 403, nothing changed), so knowing another member's
    secret is not enough. A secret ballot cast before bindings existed is bound to
    the first member who changes it with its secret.
    Refused like ``ballot_cast`` when voting is not open, when the member is not
    on the roll, and with ``not_voted`` (409) before a first ballot.
    """
    moment = _now(now)
    with transaction.atomic():
        proposal, entry = _voting_gate(proposal_id, voter, choice, moment)
        if not entry.voted:
            raise AppError("not_voted", _("You have not voted on this proposal yet; cast a ballot first."), status=409)
        receipt: str | None = None
        if proposal.secret_ballot:
            if ballot_secret is None:
                raise AppError(
                    "ballot_secret_mismatch",
                    _("Send the ballot secret you were given when you voted; without it nobody can find your ballot."),
                    status=403,
                    fields={"ballot_secret": [_("Required to change a secret ballot.")]},
                )
            receipt = ballot_receipt(proposal_id=proposal.pk, ballot_secret=ballot_secret)
            ballot = Ballot.objects.select_for_update().filter(proposal_id=proposal.pk, receipt=receipt).first()
            if ballot is None:
                raise AppError(
                    "ballot_secret_mismatch",
                    _("That ballot secret does not match a ballot on this proposal; send the one you voted with."),
                    status=403,
                    fields={"ballot_secret": [_("Does not match.")]},
                )
            binding = ballot_voter_binding(proposal_id=proposal.pk, ballot_secret=ballot_secret, voter_id=voter.pk)
            if ballot.voter_binding and not hmac.compare_digest(ballot.voter_binding, binding):
                raise AppError(
                    "not_your_ballot",
                    _("That is not your ballot: a secret ballot can be changed only by the member who cast it."),
                    status=403,
                )
            ballot.choice = choice
            ballot.voter_binding = binding
            ballot.save(update_fields=["choice", "voter_binding"])
        else:
            Ballot.objects.filter(proposal_id=proposal.pk, voter=voter).update(choice=choice)
        audit_record(
            actor=voter,
            action="ballot.changed",
            target=proposal,
            after={"ballot": "secret" if proposal.secret_ballot else "open"},
        )
    return BallotReceipt(proposal_id=proposal.pk, secret=bool(proposal.secret_ballot), receipt=receipt)


# --- closing and taking effect ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    yes: int
    no: int
    abstain: int


def ballot_tally(*, proposal_id: int) -> Tally:
    """Counts the ballots of a proposal in one aggregate query."""
    counts = Ballot.objects.filter(proposal_id=proposal_id).aggregate(
        yes=Count("pk", filter=Q(choice=Ballot.Choice.YES)),
        no=Count("pk", filter=Q(choice=Ballot.Choice.NO)),
        abstain=Count("pk", filter=Q(choice=Ballot.Choice.ABSTAIN)),
    )
    return Tally(yes=counts["yes"], no=counts["no"], abstain=counts["abstain"])


def quorum_met(*, turnout: int, roll_size: int, quorum_bps: int) -> bool:
    """At least ``quorum_bps`` of the roll cast a ballot (abstentions count)."""
    return turnout * 10_000 >= quorum_bps * roll_size


def threshold_met(*, yes: int, no: int, numerator: int, denominator: int, inclusive: bool) -> bool:
    """yes / (yes + no) above (or, inclusive, at least) numerator / denominator.

    Abstentions are not decisive; with no decisive ballot nothing passes.
    """
    decisive = yes + no
    if decisive == 0:
        return False
    if inclusive:
        return yes * denominator >= numerator * decisive
    return yes * denominator > numerator * decisive


def proposal_close(*, proposal_id: int, now: datetime | None = None) -> Proposal:
    """Closes a vote whose time is up and publishes the result.

    Takes the proposal row ``FOR UPDATE`` (waiting for ballots in flight),
    counts the ballots in one aggregate query and moves the proposal to
    adopted, rejected or failed_quorum with the counts, turnout and quorum.
    Idempotent: a closed proposal is returned unchanged. Raises
    ``voting_still_open`` (409) before the closing time.
    """
    moment = _now(now)
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
        if proposal.state in states.CLOSED:
            return proposal
        if proposal.state != states.VOTING:
            raise InvalidTransition("proposal", proposal.state, "closed")
        assert proposal.voting_closes_at is not None
        if moment < proposal.voting_closes_at:
            raise AppError(
                "voting_still_open",
                _("Voting runs until %(moment)s.") % {"moment": moment_text(proposal.voting_closes_at, deadline=True)},
                status=409,
            )
        tally = ballot_tally(proposal_id=proposal.pk)
        turnout = tally.yes + tally.no + tally.abstain
        assert proposal.roll_size is not None and proposal.quorum_bps is not None
        has_quorum = quorum_met(turnout=turnout, roll_size=proposal.roll_size, quorum_bps=proposal.quorum_bps)
        if not has_quorum:
            action = "fail_quorum"
        elif threshold_met(
            yes=tally.yes,
            no=tally.no,
            numerator=proposal.threshold_numerator or 0,
            denominator=proposal.threshold_denominator or 1,
            inclusive=bool(proposal.threshold_inclusive),
        ):
            action = "adopt"
        else:
            action = "reject"
        proposal.state = proposal_machine.target(proposal.state, action)
        proposal.yes_count, proposal.no_count, proposal.abstain_count = tally.yes, tally.no, tally.abstain
        proposal.quorum_met = has_quorum
        proposal.closed_at = moment
        proposal.save(update_fields=["state", "yes_count", "no_count", "abstain_count", "quorum_met", "closed_at"])
        audit_record(
            actor=None,
            action=f"proposal.{proposal.state}",
            target=proposal,
            before={"state": states.VOTING},
            after={
                "state": proposal.state,
                "yes": tally.yes,
                "no": tally.no,
                "abstain": tally.abstain,
                "turnout": turnout,
                "roll_size": proposal.roll_size,
                "quorum_met": has_quorum,
            },
        )
    return proposal


def proposal_schedule(*, proposal_id: int) -> Proposal:
    """Schedules an adopted proposal to take effect after the class's notice period.

    For a rule change this appends the new ``RuleVersion`` (effective from
    ``closed_at + notice_days``), so the rule selector returns the new value
    from exactly that moment, and drops the rule's cache entry on commit.
    Idempotent: a scheduled or effective proposal is returned unchanged.
    """
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
        if proposal.state in {states.SCHEDULED, states.IN_EFFECT}:
            return proposal
        proposal.state = proposal_machine.target(proposal.state, "schedule")
        assert proposal.closed_at is not None and proposal.notice_days is not None
        effective_at = proposal.closed_at + timedelta(days=proposal.notice_days)
        version: RuleVersion | None = None
        if proposal.rule_id is not None and proposal.proposed_value is not None:
            rule = Rule.objects.select_for_update().get(pk=proposal.rule_id)
            _check_rule_value(rule, proposal.proposed_value)
            latest = RuleVersion.objects.filter(rule=rule).order_by("-effective_at").first()
            if latest is not None and latest.effective_at >= effective_at:
                # A later decision supersedes an earlier one, even if that one
                # was scheduled with a longer notice: it takes effect just after.
                effective_at = latest.effective_at + timedelta(seconds=1)
            version = RuleVersion.objects.create(
                rule=rule, value=proposal.proposed_value, effective_at=effective_at, adopted_by_proposal=proposal
            )
            audit_record(
                actor=None,
                action="rule.version_appended",
                target=version,
                before={"value": latest.value if latest else None},
                after={"rule": rule.key, "value": version.value, "effective_at": effective_at.isoformat()},
            )
            # Dropped now for readers in this transaction, and again on commit
            # in case another process re-cached the old list in between.
            rule_key = rule.key
            rule_cache_invalidate(rule_key)
            transaction.on_commit(lambda: rule_cache_invalidate(rule_key))
        proposal.effective_at = effective_at
        proposal.save(update_fields=["state", "effective_at"])
        notices.rule_adopted(proposal)
        audit_record(
            actor=None,
            action="proposal.scheduled",
            target=proposal,
            before={"state": states.ADOPTED},
            after={"state": states.SCHEDULED, "effective_at": effective_at.isoformat()},
        )
    return proposal


def proposal_take_effect(*, proposal_id: int, now: datetime | None = None) -> Proposal:
    """Marks a scheduled proposal in effect once its effective time has come.

    A bylaw amendment of a rule class changes that class's parameters here
    (later votes of the class use them; votes already open keep theirs). A
    rule change needs nothing more: its version has been in the registry since
    scheduling and is in force from its effective time. Idempotent; raises
    ``not_yet_effective`` (409) before the effective time.
    """
    moment = _now(now)
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
        if proposal.state == states.IN_EFFECT:
            return proposal
        proposal.state = proposal_machine.target(proposal.state, "take_effect")
        assert proposal.effective_at is not None
        if moment < proposal.effective_at:
            raise AppError(
                "not_yet_effective",
                _("This proposal does not take effect before %(moment)s.")
                % {"moment": moment_text(proposal.effective_at, deadline=True)},
                status=409,
            )
        if proposal.target_class_id is not None:
            rule_class = RuleClass.objects.select_for_update().get(pk=proposal.target_class_id)
            parameters = _check_class_parameters(proposal.class_parameters)
            _check_class_result(rule_class, parameters)
            before = _class_snapshot(rule_class)
            for name, value in parameters.items():
                setattr(rule_class, name, value)
            rule_class.save(update_fields=list(parameters))
            audit_record(
                actor=None,
                action="rule_class.amended",
                target=rule_class,
                before=before,
                after={**_class_snapshot(rule_class), "proposal": proposal.pk},
            )
        if proposal.kind == Proposal.Kind.APPOINTMENT:
            _appointment_take_effect(proposal)
        if proposal.kind == Proposal.Kind.DIVIDEND:
            dividends.dividend_decide(proposal=proposal, now=moment)
        proposal.in_effect_at = moment
        proposal.save(update_fields=["state", "in_effect_at"])
        notices.rule_in_effect(proposal)
        audit_record(
            actor=None,
            action="proposal.in_effect",
            target=proposal,
            before={"state": states.SCHEDULED},
            after={"state": states.IN_EFFECT},
        )
    return proposal
