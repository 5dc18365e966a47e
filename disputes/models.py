"""Disputes: a worker contests a rejection (or a suspension), a requester answers,
a panel of co-op members drawn at random decides, once, with one appeal.

A ``Case`` holds one or more ``CaseItem`` rows, one per disputed assignment: a
worker's own case has one (or, split out of a mass case, several), a case opened
by the mass-rejection guard holds every frozen rejection. The outcome is a share
of the reward in basis points (0 upholds the rejection, 10 000 pays in full) and
is executed on every held item exactly once.

Parties and jurors never see each other's identities: jurors see labels
("Worker", "Requester"), parties see "Juror 1", "Juror 2", ...
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Case(models.Model):
    class Kind(models.TextChoices):
        REJECTION = "rejection"
        MASS_REJECTION = "mass_rejection"
        SUSPENSION = "suspension"

    class State(models.TextChoices):
        AWAITING_RESPONSE = "awaiting_response"
        OFFER_MADE = "offer_made"
        EVIDENCE = "evidence"
        VOTING = "voting"
        DECIDED = "decided"
        CLOSED = "closed"

    class Outcome(models.TextChoices):
        PAY_FULL = "pay_full"
        PAY_PARTIAL = "pay_partial"
        UPHOLD = "uphold"

    class Resolution(models.TextChoices):
        REQUESTER_ACCEPTED = "requester_accepted"
        OFFER_ACCEPTED = "offer_accepted"
        REQUESTER_SILENT = "requester_silent"
        PANEL = "panel"
        APPEAL_PANEL = "appeal_panel"
        # Every worker of a mass case asked for their own case: nothing left to decide here.
        SPLIT = "split"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.AWAITING_RESPONSE, db_index=True)
    # The worker party; empty for a mass case, whose workers are those of its items.
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="dispute_cases"
    )
    # The requester party (rejection cases); empty for a suspension appeal.
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="dispute_cases"
    )
    batch = models.ForeignKey("tasks.Batch", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The co-op staff member who answers a suspension appeal (the one who suspended).
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A worker's own case split out of a mass case.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="splits")
    statement = models.TextField()
    response_text = models.TextField(blank=True)
    offer_share_bps = models.PositiveIntegerField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(default=1)
    # The deadline of the current stage; the Celery job acts on it.
    due_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    outcome_share_bps = models.PositiveIntegerField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    appealed_by = models.CharField(max_length=10, blank=True)
    appeal_reason = models.TextField(blank=True)
    # Mass cases: the items the panel examines, a sample of each worker's held items.
    sample_item_ids = models.JSONField(default=list, blank=True)
    # Mass cases decided by a panel: {worker id: share in basis points}, one decision per
    # worker from the jurors' per-worker votes; no worker's outcome follows from another's work.
    worker_shares = models.JSONField(default=dict, blank=True)
    # {rule key: {"version_id", "value"}} in force when the case opened; the case runs on them.
    rule_versions = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome_share_bps__isnull=True) | Q(outcome_share_bps__lte=10_000),
                name="case_share_at_most_full",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.kind}, {self.state})"

    def rule(self, key: str) -> int:
        return int(self.rule_versions[key]["value"])


class CaseItem(models.Model):
    """One disputed assignment inside a case."""

    class State(models.TextChoices):
        HELD = "held"
        # Moved to the worker's own case (``split_to``).
        SPLIT = "split"
        EXECUTED = "executed"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="items")
    assignment = models.ForeignKey("tasks.Assignment", on_delete=models.PROTECT, related_name="dispute_items")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    split_to = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    executed_share_bps = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # An assignment is in at most one live case at a time.
            models.UniqueConstraint(
                fields=["assignment"], condition=~Q(state="split"), name="one_live_case_per_assignment"
            ),
        ]


class Draw(models.Model):
    """A random draw of jurors, stored so that anyone auditing can re-run it:
    ``random.Random(int(seed, 16)).sample(pool, size)`` gives ``chosen``."""

    class Purpose(models.TextChoices):
        PANEL = "panel"
        REPLACEMENT = "replacement"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="draws")
    round = models.PositiveSmallIntegerField()
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    seed = models.CharField(max_length=64)
    # Eligible user ids, ascending.
    pool = models.JSONField()
    size = models.PositiveSmallIntegerField()
    chosen = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class Juror(models.Model):
    class Status(models.TextChoices):
        SERVING = "serving"
        VOTED = "voted"
        # Did not vote in time; another member took the seat.
        REPLACED = "replaced"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="jurors")
    round = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jury_seats")
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="jurors")
    # What the parties see instead of a name.
    label = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SERVING)
    seated_at = models.DateTimeField(auto_now_add=True)
    # The fee this juror is owed for the round, written with the round's decision (0: none
    # owed); ``fee_transfer_id`` is set when the job ``disputes.jobs.pay_juror_fees`` pays it.
    fee_owed = models.PositiveIntegerField(default=0)
    fee_transfer_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Nobody sits twice on one case: later rounds and replacements draw fresh members.
            models.UniqueConstraint(fields=["case", "user"], name="one_seat_per_case"),
        ]


class Vote(models.Model):
    """A sealed vote: nobody but its juror knows it until the round is decided."""

    juror = models.OneToOneField(Juror, on_delete=models.PROTECT, related_name="vote")
    share_bps = models.PositiveIntegerField()
    # On a mass case: {worker id: share} for every worker whose items are held; ``share_bps``
    # is then the middle of them, for the record only.
    worker_shares = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    cast_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(share_bps__lte=10_000), name="vote_share_at_most_full"),
        ]


class Evidence(models.Model):
    class Side(models.TextChoices):
        WORKER = "worker"
        REQUESTER = "requester"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    round = models.PositiveSmallIntegerField()
    side = models.CharField(max_length=10, choices=Side.choices)
    # Never shown to jurors; kept for the audit trail.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class Precedent(models.Model):
    """A decided case, published without names for jurors and requesters to read."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="precedent")
    kind = models.CharField(max_length=16)
    task_type = models.CharField(max_length=200, blank=True)
    rejection_reason = models.CharField(max_length=40, blank=True)
    rejection_text = models.TextField(blank=True)
    outcome = models.CharField(max_length=12)
    share_bps = models.PositiveIntegerField()
    items = models.PositiveIntegerField(default=1)
    appealed = models.BooleanField(default=False)
    juror_reasons = models.JSONField(default=list)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-id"]
