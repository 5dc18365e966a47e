"""Governed rules: every parameter that shapes working conditions.

A rule's values are append-only versions with an effective time and the
proposal that adopted them (none for the founding values, loaded by migration).
Code reads them only through ``governance.selectors.rule_value``.
"""

from django.db import models


class RuleClass(models.Model):
    """How a kind of rule is changed: quorum, pass threshold and notice period.

    Thresholds are in basis points of yes / (yes + no); a proposal passes when
    yes * 10000 > threshold * (yes + no), or >= when ``threshold_inclusive``.
    """

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    quorum_bps = models.PositiveIntegerField(help_text="Share of the voter roll that must cast a ballot.")
    threshold_bps = models.PositiveIntegerField()
    threshold_inclusive = models.BooleanField(default=False)
    notice_days = models.PositiveIntegerField(help_text="Days between adoption and taking effect.")
    discussion_days = models.PositiveIntegerField(default=7)
    voting_days = models.PositiveIntegerField(default=7)
    secret_ballot = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


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


class RuleVersion(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    value = models.BigIntegerField()
    effective_at = models.DateTimeField()
    # Null only for the founding values loaded by migration.
    adopted_by_proposal_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule_id", "effective_at", "id"]
        indexes = [models.Index(fields=["rule", "effective_at"])]
        constraints = [
            models.UniqueConstraint(fields=["rule", "effective_at"], name="one_rule_version_per_instant"),
        ]
