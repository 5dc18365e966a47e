"""Governed rules and the proposals, rolls and ballots that change them.

A rule's values are append-only versions with an effective time and the
proposal that adopted them (none for the founding values, loaded by migration).
Code reads them only through ``governance.selectors.rule_value``; the only
writer of new versions is ``governance.services.proposal_schedule``.
"""

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from core.errors import AppError


class RuleClass(models.Model):
    """How a kind of rule is changed: quorum, pass threshold and notice period.

    The pass threshold is the fraction ``threshold_numerator / threshold_denominator``
    of the decisive ballots (yes + no): a proposal passes when
    yes * denominator > numerator * (yes + no), or >= when ``threshold_inclusive``.
    A fraction (not basis points) so that "two thirds" means exactly two thirds.
    The classes are themselves bylaws: their parameters change only through an
    adopted bylaw proposal.
    """

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    quorum_bps = models.PositiveIntegerField(help_text="Share of the voter roll that must cast a ballot.")
    threshold_numerator = models.PositiveIntegerField()
    threshold_denominator = models.PositiveIntegerField()
    threshold_inclusive = models.BooleanField(default=False)
    notice_days = models.PositiveIntegerField(help_text="Days between adoption and taking effect.")
    discussion_days = models.PositiveIntegerField(default=7)
    voting_days = models.PositiveIntegerField(default=7)
    secret_ballot = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold_denominator__gt=0)
                & models.Q(threshold_numerator__lte=models.F("threshold_denominator")),
                name="rule_class_threshold_is_a_fraction",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def threshold_bps(self) -> int:
        """The threshold in basis points, rounded, for display only."""
        return round(self.threshold_numerator * 10_000 / self.threshold_denominator)


class Rule(models.Model):
    class ValueType(models.TextChoices):
        INTEGER = "integer"
        MONEY = "money"  # minor units of the platform currency
        BASIS_POINTS = "basis_points"  # hundredths of a percent
        HOURS = "hours"
        DAYS = "days"
        BOOLEAN = "boolean"  # 0 or 1

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField()
    value_type = models.CharField(max_length=16, choices=ValueType.choices)
    unit = models.CharField(max_length=40)
    min_value = models.BigIntegerField()
    max_value = models.BigIntegerField()
    rule_class = models.ForeignKey(RuleClass, on_delete=models.PROTECT, related_name="rules")

    def __str__(self) -> str:
        return self.key


class RuleVersionImmutable(AppError):
    def __init__(self) -> None:
        super().__init__(
            "rule_version_immutable",
            "Rule versions are permanent; a rule changes only by an adopted proposal appending a new version.",
            status=409,
        )


class RuleVersionQuerySet(models.QuerySet["RuleVersion"]):
    """Bulk writes that would rewrite history are refused like single ones."""

    def update(self, **kwargs: Any) -> int:
        raise RuleVersionImmutable()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuleVersionImmutable()


class RuleVersion(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    value = models.BigIntegerField()
    effective_at = models.DateTimeField()
    # Null only for the founding values loaded by migration.
    adopted_by_proposal = models.ForeignKey(
        "Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="adopted_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[RuleVersionQuerySet] = RuleVersionQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["rule_id", "effective_at", "id"]
        indexes = [models.Index(fields=["rule", "effective_at"])]
        constraints = [
            models.UniqueConstraint(fields=["rule", "effective_at"], name="one_rule_version_per_instant"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuleVersionImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuleVersionImmutable()


class Proposal(models.Model):
    class Kind(models.TextChoices):
        RULE_CHANGE = "rule_change"  # a new value for a governed rule
        POLICY = "policy"  # a policy text
        BYLAW = "bylaw"  # a bylaw amendment, optionally changing a rule class's parameters
        APPOINTMENT = "appointment"  # appoints a person to a staff role, or removes them from it
        DIVIDEND = "dividend"  # distributes part of a period's surplus as a patronage dividend

    class State(models.TextChoices):
        DRAFT = "draft"
        DISCUSSION = "discussion"
        VOTING = "voting"
        ADOPTED = "adopted"
        REJECTED = "rejected"
        FAILED_QUORUM = "failed_quorum"
        SCHEDULED = "scheduled"
        IN_EFFECT = "in_effect"
        WITHDRAWN = "withdrawn"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The class whose quorum, threshold and notice govern this proposal.
    rule_class = models.ForeignKey(RuleClass, on_delete=models.PROTECT, related_name="proposals")
    # rule_change: the rule and the value proposed for it.
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals")
    proposed_value = models.BigIntegerField(null=True, blank=True)
    # bylaw: optionally, a rule class and the parameters it should get.
    target_class = models.ForeignKey(
        RuleClass, null=True, blank=True, on_delete=models.PROTECT, related_name="amending_proposals"
    )
    class_parameters = models.JSONField(default=dict, blank=True)
    # appointment: who, which staff role (accounts.models.StaffRole) and grant or remove.
    appointee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff_role = models.CharField(max_length=12, blank=True)
    appointment_action = models.CharField(max_length=8, blank=True)
    # dividend: the period (first and last day, UTC, both included) and the amount to distribute.
    dividend_period_start = models.DateField(null=True, blank=True)
    dividend_period_end = models.DateField(null=True, blank=True)
    dividend_amount = models.BigIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    discussion_started_at = models.DateTimeField(null=True, blank=True)
    discussion_ends_at = models.DateTimeField(null=True, blank=True, db_index=True)
    voting_opened_at = models.DateTimeField(null=True, blank=True)
    voting_closes_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True, db_index=True)
    in_effect_at = models.DateTimeField(null=True, blank=True)

    # The class's parameters as they stood when voting opened: a class amended
    # mid-vote does not change the rules of a vote already running.
    quorum_bps = models.PositiveIntegerField(null=True, blank=True)
    threshold_numerator = models.PositiveIntegerField(null=True, blank=True)
    threshold_denominator = models.PositiveIntegerField(null=True, blank=True)
    threshold_inclusive = models.BooleanField(null=True, blank=True)
    notice_days = models.PositiveIntegerField(null=True, blank=True)
    secret_ballot = models.BooleanField(null=True, blank=True)

    # The frozen roll's size and the published result (set at close).
    roll_size = models.PositiveIntegerField(null=True, blank=True)
    yes_count = models.PositiveIntegerField(null=True, blank=True)
    no_count = models.PositiveIntegerField(null=True, blank=True)
    abstain_count = models.PositiveIntegerField(null=True, blank=True)
    quorum_met = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def turnout(self) -> int | None:
        if self.yes_count is None or self.no_count is None or self.abstain_count is None:
            return None
        return self.yes_count + self.no_count + self.abstain_count


class Comment(models.Model):
    """A discussion comment; ``parent`` makes threads."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class VoterRollEntry(models.Model):
    """One eligible member on a proposal's roll, frozen when voting opens.

    ``voted`` says that the member cast a ballot, never which; it carries no
    time so that it cannot be matched to a secret ballot.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="roll")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    voted = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="one_roll_entry_per_member")]


class Ballot(models.Model):
    """A ballot. Open ballots name their voter; secret ballots carry only a receipt.

    A secret ballot's receipt is an HMAC keyed by a secret only the member holds,
    so nobody (staff included) can link it to a person, while the member can find
    it in the published receipt list. The primary key is random and there is no
    timestamp, so neither the order of insertion nor the time can link a secret
    ballot to the member's "voted" mark or audit row.
    """

    class Choice(models.TextChoices):
        YES = "yes"
        NO = "no"
        ABSTAIN = "abstain"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="ballots")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receipt = models.CharField(max_length=64, null=True, blank=True)
    # A secret ballot's tie to its voter, keyed like the receipt by the member's secret
    # (``services.ballot_voter_binding``): without the secret nobody can link the two; with
    # it, only the member who voted can change the ballot (knowing someone's secret is not
    # enough). Never published. Empty on secret ballots cast before it existed.
    voter_binding = models.CharField(max_length=64, blank=True, default="")
    choice = models.CharField(max_length=8, choices=Choice.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "voter"], condition=models.Q(voter__isnull=False), name="one_open_ballot_per_voter"
            ),
            models.UniqueConstraint(
                fields=["proposal", "receipt"],
                condition=models.Q(receipt__isnull=False),
                name="one_secret_ballot_per_receipt",
            ),
            models.CheckConstraint(
                condition=models.Q(voter__isnull=False, receipt__isnull=True)
                | models.Q(voter__isnull=True, receipt__isnull=False),
                name="ballot_is_open_or_secret",
            ),
        ]
        indexes = [models.Index(fields=["proposal", "choice"])]


class Dividend(models.Model):
    """A patronage dividend decided by an adopted proposal: one per period, for good.

    The figures are the ones computed when the proposal took effect (the period had
    ended, so its ledger rows no longer change); each member's share is a
    ``DividendAllocation``, written as owed in the same transaction that set the money
    aside, then paid one by one (``governance.dividends.dividend_allocation_pay``).
    """

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="dividend")
    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3)
    fees_earned = models.BigIntegerField()
    rail_fees = models.BigIntegerField()
    juror_pay = models.BigIntegerField()
    reserve_bps = models.PositiveIntegerField()
    reserve = models.BigIntegerField()
    surplus = models.BigIntegerField()
    amount = models.BigIntegerField()
    bonuses_count = models.BooleanField()
    total_patronage = models.BigIntegerField()
    # The rule versions the computation read (rule key -> version id), shown with it.
    rule_versions = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["period_start", "period_end"], name="one_dividend_per_period"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="dividend_amount_not_negative"),
            models.CheckConstraint(condition=models.Q(amount__lte=models.F("surplus")), name="dividend_within_surplus"),
        ]

    def __str__(self) -> str:
        return f"dividend {self.period_start}..{self.period_end}"


class DividendAllocation(models.Model):
    """One member's share of a dividend: owed when decided, paid when booked to their earnings."""

    class Status(models.TextChoices):
        OWED = "owed"
        PAID = "paid"

    dividend = models.ForeignKey(Dividend, on_delete=models.PROTECT, related_name="allocations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dividend_allocations")
    patronage = models.BigIntegerField()
    amount = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OWED, db_index=True)
    transfer_id = models.CharField(max_length=200, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dividend_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["dividend", "user"], name="one_allocation_per_member_and_dividend"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="dividend_allocation_not_negative"),
        ]
