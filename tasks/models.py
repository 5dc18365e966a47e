"""The marketplace: batches (a HIT type), tasks (one input row each) and
assignments (one worker's slot on a task, the row that is claimed).

Money is integer minor units of the platform currency. Escrow lives in the
ledger under the key ``assignment:<id>`` (see ``Assignment.escrow_key``).
"""

from django.conf import settings
from django.db import models


class DispatchMode(models.TextChoices):
    """How a batch's slots open (the requester's choice, bounded by the dispatch rule)."""

    AUTO = "auto"  # all at once where the rule allows it, else waves
    WAVES = "waves"
    ALL_AT_ONCE = "all_at_once"


class Batch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        PAUSED = "paused"
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        EXPIRED = "expired"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    # Both shown to workers before they accept; both required.
    purpose = models.TextField()
    data_use = models.TextField()
    content_warnings = models.TextField(blank=True)
    keywords = models.CharField(max_length=400, blank=True)
    reward = models.BigIntegerField(help_text="Minor units per assignment.")
    currency = models.CharField(max_length=3)
    assignments_per_task = models.PositiveIntegerField()
    estimated_minutes = models.PositiveIntegerField()
    # reward * 60 / estimated_minutes, stored so the feed can sort and filter on it.
    estimated_hourly_pay = models.BigIntegerField(default=0, db_index=True)
    time_allotted_minutes = models.PositiveIntegerField()
    lifetime_hours = models.PositiveIntegerField()
    # None: the governed auto_approval_hours in force at publish.
    auto_approval_hours = models.PositiveIntegerField(null=True, blank=True)
    template_html = models.TextField(blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    # Prolific-style completion codes of an external task (a survey that cannot post back):
    # the worker pastes the code the survey showed them; any code listed here submits.
    # Never shown to workers.
    completion_codes = models.JSONField(default=list, blank=True)
    # [{"name": str, "required": bool}] parsed from the template's form fields.
    answer_fields = models.JSONField(default=list, blank=True)
    placeholders = models.JSONField(default=list, blank=True)
    fee_per_assignment = models.BigIntegerField(default=0)
    # {rule key: {"version_id": int, "value": int}} in force at publish.
    rule_versions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    fair_pay_reviewed_at = models.DateTimeField(null=True, blank=True)
    # A fair-pay review that failed: how often, the last error, and when the job tries again.
    fair_pay_failures = models.PositiveIntegerField(default=0)
    fair_pay_error = models.TextField(blank=True)
    fair_pay_retry_at = models.DateTimeField(null=True, blank=True)
    # Quality control (issue 27), disclosed on the batch card. Attention checks are taken out
    # of the template as it is saved: {answer field: {"expected", "tolerance"}}; workers never
    # receive them.
    attention_checks = models.JSONField(default=dict, blank=True)
    # Share of tasks that are controls (basis points), set with the input rows.
    control_share_bps = models.PositiveIntegerField(default=0)
    # Control accuracy (basis points) under which the requester may reject a worker's work in
    # this batch (provisionally, disputable); None: no threshold. Applies only to a worker who
    # answered at least ``control_min_answered`` checks.
    control_threshold_bps = models.PositiveIntegerField(null=True, blank=True)
    control_min_answered = models.PositiveIntegerField(default=3)
    # The batch's data use allows reuse of the answers beyond its stated purpose: each worker
    # may then opt out for their own answers (``ReuseOptOut``), and exports say so per answer.
    reuse_beyond_purpose = models.BooleanField(default=False)
    # Set once by the beat job when the end-of-batch data report was not filed in time;
    # shown on the requester's public page for good.
    data_report_overdue_at = models.DateTimeField(null=True, blank=True)
    # Fair dispatch (tasks.dispatch): what the requester asked for, and what the governed
    # rule decided at publish. ``dispatch_fcfs_at`` null: every slot open to first come,
    # first served from publication; else slots are given only by wave lotteries until then.
    dispatch_mode = models.CharField(max_length=12, choices=DispatchMode.choices, default=DispatchMode.AUTO)
    dispatch_fcfs_at = models.DateTimeField(null=True, blank=True)
    # Until then no worker holds more than ``dispatch_cap_slots`` of the batch's slots.
    dispatch_cap_until = models.DateTimeField(null=True, blank=True)
    dispatch_cap_slots = models.PositiveIntegerField(default=0)
    # {rule key: {"version_id": int, "value": int}}: the dispatch rule in force at publish.
    dispatch_rules = models.JSONField(default=dict, blank=True)
    # The measured activity the waves were sized by (``tasks.activity.ActivityMeasure.stored``):
    # {"first_day", "last_day", "days", "hours": [24 counts, UTC hour 0 first], "floor",
    # "equal"}; empty for a batch opened all at once (or planned before it was measured).
    dispatch_activity = models.JSONField(default=dict, blank=True)
    # A sandbox batch (issue 24.6), fixed at creation: published with play money that never
    # touches the ledger (no escrow, fees, payouts or bonuses), worked only by the
    # organisation's own staff, and left out of the real feed, reports, exports, reputation
    # and disputes. See docs/contracts.md "Sandbox".
    is_sandbox = models.BooleanField(default=False, db_index=True)

    class Meta:
        permissions = [("review_batch", "Review submissions and pay workers of the batch")]
        constraints = [
            models.CheckConstraint(condition=models.Q(reward__gt=0), name="batch_reward_positive"),
            models.CheckConstraint(condition=models.Q(assignments_per_task__gt=0), name="batch_assignments_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def rule(self, key: str) -> int:
        return int(self.rule_versions[key]["value"])

    @property
    def effective_auto_approval_hours(self) -> int:
        if self.auto_approval_hours is not None:
            return self.auto_approval_hours
        return self.rule("auto_approval_hours")

    @property
    def requirement_rows(self) -> list["QualificationRequirement"]:
        """The requirements with their qualifications, in the order they were set: the list
        ``tasks.selectors.attach_requirements`` set when a selector did, else read now."""
        prefetched: list[QualificationRequirement] | None = self.__dict__.get("requirement_list")
        if prefetched is not None:
            return prefetched
        return list(self.requirements.select_related("qualification").order_by("id"))


class TaskTemplate(models.Model):
    """An organisation's own task template in its library (the co-op's starter templates
    are in ``tasks.starter_templates``): a form template or an external task URL."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="task_templates")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    template_html = models.TextField(blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="one_template_name_per_org")]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="tasks")
    row_number = models.PositiveIntegerField()
    input = models.JSONField(default=dict)
    # A control task's known answers (issue 27), never shown to workers:
    # {answer field: {"expected": str, "tolerance": str}}; empty for an ordinary task.
    control = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "row_number"], name="unique_task_row")]
        ordering = ["batch_id", "row_number"]


class Assignment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        ACCEPTED = "accepted"
        SUBMITTED = "submitted"
        APPROVED = "approved"
        # Provisional: escrow stays reserved until final (contest window) or settled.
        REJECTED = "rejected"
        DISPUTED = "disputed"
        # Rejection final: escrow voided back to the requester.
        REFUNDED = "refunded"
        # A dispute outcome paid ``settled_share_bps`` of the reward.
        SETTLED = "settled"
        # Never claimed before the batch was cancelled or expired: escrow returned.
        WITHDRAWN = "withdrawn"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="assignments")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    auto_approve_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=40, blank=True)
    rejection_text = models.TextField(blank=True)
    # When a provisional rejection becomes final unless disputed (disputes may move it).
    rejection_final_at = models.DateTimeField(null=True, blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    settled_share_bps = models.PositiveIntegerField(null=True, blank=True)
    requester_feedback = models.TextField(blank=True)
    # A rejection for control accuracy under the batch's threshold keeps its evidence here
    # (accuracy, threshold, each check with the expected and given answer) for the jurors.
    control_evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["batch", "status"]),
            models.Index(fields=["status", "deadline_at"]),
            models.Index(fields=["status", "auto_approve_at"]),
            models.Index(fields=["status", "rejection_final_at"]),
            models.Index(fields=["worker", "batch"]),
            # The claim walks this in id order, skipping locked rows: it stays small as slots fill.
            models.Index(fields=["batch", "id"], condition=models.Q(status="open"), name="assignment_open_slot"),
        ]
        constraints = [
            # A worker holds at most one slot per task (the claim relies on it).
            models.UniqueConstraint(
                fields=["task", "worker"], condition=models.Q(worker__isnull=False), name="one_slot_per_worker_task"
            ),
        ]

    @property
    def escrow_key(self) -> str:
        return f"assignment:{self.pk}"


class AssignmentAttempt(models.Model):
    """One worker's go at a slot: accept to submit, return or expiry. Measures work time."""

    class Outcome(models.TextChoices):
        ACTIVE = "active"
        SUBMITTED = "submitted"
        RETURNED = "returned"
        EXPIRED = "expired"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="attempts")
    # A copy of the assignment's batch, for the pay statistics, written by the claim in the
    # same statement as the slot. Without a database constraint: under a claim storm every
    # claimer would otherwise take a KEY SHARE lock on the one batch row at commit (a
    # MultiXact per claim). Indexed by (batch, outcome) below, not on its own.
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ACTIVE)
    work_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The worker tried to submit after the time allotted and its grace: the attempt expired
    # while they were working, and the fair-pay median counts it as at least the time allotted.
    late_submission_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["batch", "outcome"])]


class Bonus(models.Model):
    class Kind(models.TextChoices):
        BONUS = "bonus"
        FAIR_PAY_TOP_UP = "fair_pay_top_up"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="bonuses")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BONUS)
    amount = models.BigIntegerField()
    reason = models.TextField()
    # Caller-chosen idempotency key; also the ledger transfer key.
    key = models.CharField(max_length=100, unique=True)
    paid = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="bonus_amount_positive")]


class FairPayReview(models.Model):
    """The measured pay of a finished batch against the wage floor it was published under."""

    batch = models.OneToOneField(Batch, on_delete=models.CASCADE, related_name="fair_pay_review")
    median_work_seconds = models.PositiveIntegerField()
    median_hourly_pay = models.BigIntegerField()
    floor_hourly = models.BigIntegerField()
    top_up_per_assignment = models.BigIntegerField(default=0)
    top_ups_paid = models.PositiveIntegerField(default=0)
    top_ups_owed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)


class Qualification(models.Model):
    """A requester's qualification: granted by hand, or automatically by a test with an answer key."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="qualifications")
    name = models.CharField(max_length=120)
    description = models.TextField()
    # [{"name": str, "question": str, "options": [str]}]; the answer key is never shown to workers.
    test_questions = models.JSONField(default=list, blank=True)
    answer_key = models.JSONField(default=dict, blank=True)
    # Share of correct answers (basis points) that grants the qualification.
    pass_bps = models.PositiveIntegerField(default=10_000)
    # The requester's estimate of the test's length; a test longer than the governed
    # ``qualification_test_free_minutes`` is paid at the wage floor, escrowed when started.
    estimated_minutes = models.PositiveIntegerField(default=1)
    # How many questions each attempt draws from ``test_questions`` (in random order); 0: all.
    pool_size = models.PositiveIntegerField(default=0)
    # Made at the sandbox endpoint (/mturk/sandbox/): it gates only sandbox batches, its test
    # pays nothing, and the real endpoint never sees it (MTurk's sandbox kept its own
    # qualification types); a grant of it never opens real work.
    is_sandbox = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def has_test(self) -> bool:
        return bool(self.test_questions)

    @property
    def questions_per_attempt(self) -> int:
        return self.pool_size or len(self.test_questions)


class QualificationTestAttempt(models.Model):
    """One go at a qualification test: the questions drawn for it (names, in the order shown)
    and, once submitted, the score. Retakes wait for the governed cooldown and stop at the
    governed number of attempts (issue 27.4)."""

    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="attempts")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    question_names = models.JSONField(default=list)
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    correct = models.PositiveIntegerField(null=True, blank=True)
    score_bps = models.PositiveIntegerField(null=True, blank=True)
    # The pass mark in force when it was scored (the requester may not move it afterwards).
    pass_bps = models.PositiveIntegerField()

    class Meta:
        ordering = ["qualification_id", "worker_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["qualification", "worker", "number"], name="one_attempt_number"),
        ]

    @property
    def passed(self) -> bool:
        return self.score_bps is not None and self.score_bps >= self.pass_bps


class QualificationTestOffer(models.Model):
    """A paid qualification test a worker started: its pay (the wage floor for the test's
    estimated length) is escrowed from the requester when the test is offered and paid to
    the worker when they take it, whatever their score (issue 20.8)."""

    class Status(models.TextChoices):
        OFFERED = "offered"
        PAID = "paid"

    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="offers")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OFFERED)
    offered_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["qualification", "worker"], name="one_test_offer_per_worker"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="test_offer_amount_positive"),
        ]

    @property
    def escrow_key(self) -> str:
        return f"qualification-test:{self.pk}"


class QualificationGrant(models.Model):
    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="grants")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qualifications")
    value = models.IntegerField(default=1)
    granted_at = models.DateTimeField(auto_now_add=True)
    by_test = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["qualification", "worker"], name="one_grant_per_worker")]


class QualificationRequirement(models.Model):
    class Kind(models.TextChoices):
        APPROVAL_RATE = "approval_rate"  # value: minimum basis points
        APPROVED_COUNT = "approved_count"  # value: minimum approved assignments
        LOCALE = "locale"  # countries: allowed countries; reason required
        QUALIFICATION = "qualification"  # qualification granted with at least value

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="requirements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.IntegerField(default=0)
    # ",DE,FR," so that a country test is a plain substring match on every database.
    countries = models.CharField(max_length=400, blank=True)
    reason = models.TextField(blank=True)
    qualification = models.ForeignKey(
        Qualification, null=True, blank=True, on_delete=models.PROTECT, related_name="requirements"
    )

    @property
    def country_list(self) -> list[str]:
        return [c for c in self.countries.split(",") if c]


class BlockedWorker(models.Model):
    """A requester's own block list: affects only its batches, never the worker's standing."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="blocked_workers")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "worker"], name="one_block_per_worker")]


class RequesterRating(models.Model):
    """A worker's rating of a requester, 1 to 5 on each axis; one per worker, editable."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="ratings")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pay_fairness = models.PositiveSmallIntegerField()
    communication = models.PositiveSmallIntegerField()
    review_speed = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "worker"], name="one_rating_per_worker")]


class RequesterPayStat(models.Model):
    """A requester's measured effective hourly pay (median over recent submitted work),
    refreshed by a Celery job so the feed can show it without per-row queries."""

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.CASCADE, related_name="pay_stat")
    median_hourly_pay = models.BigIntegerField()
    sample_size = models.PositiveIntegerField()
    computed_at = models.DateTimeField()


class SavedSearch(models.Model):
    """A worker's saved feed filters, with how they want to hear about new matching work."""

    class Alert(models.TextChoices):
        NONE = "none"  # saved only, no alert
        INBOX = "inbox"
        EMAIL = "email"  # inbox and an immediate e-mail
        PUSH = "push"  # inbox and a browser push (where the worker allowed it)

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=80)
    min_hourly_pay = models.BigIntegerField(null=True, blank=True)
    max_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Words that must all appear in the title, description or keywords (any case).
    keywords = models.CharField(max_length=200, blank=True)
    requester = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    alert = models.CharField(max_length=8, choices=Alert.choices, default=Alert.INBOX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["alert"], condition=~models.Q(alert="none"), name="saved_search_alerting")]
        constraints = [models.UniqueConstraint(fields=["worker", "name"], name="one_search_name_per_worker")]


class TaskThread(models.Model):
    """Messages between the worker of an assignment and the requester's staff. The worker is
    shown by pseudonym, the requester by display name; nobody sees an e-mail address.
    A dispute's case file shows the thread only when both sides consented."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="thread")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    worker_shares_with_case = models.BooleanField(default=False)
    requester_shares_with_case = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)


class TaskMessage(models.Model):
    class Side(models.TextChoices):
        WORKER = "worker"
        REQUESTER = "requester"

    thread = models.ForeignKey(TaskThread, on_delete=models.CASCADE, related_name="messages")
    side = models.CharField(max_length=10, choices=Side.choices)
    # Kept for the audit trail; never shown to the other side.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class BatchDataReport(models.Model):
    """What the requester says became of a closed batch's data, filed once, shown to the
    workers who worked on it (inbox and work history) and on the requester's public page."""

    class Matched(models.TextChoices):
        YES = "yes"
        PARTLY = "partly"
        NO = "no"

    batch = models.OneToOneField(Batch, on_delete=models.PROTECT, related_name="data_report")
    used_for = models.TextField()
    matched = models.CharField(max_length=8, choices=Matched.choices)
    matched_explanation = models.TextField(blank=True)
    published_where = models.TextField(blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField()
    due_at = models.DateTimeField()

    @property
    def late(self) -> bool:
        return self.filed_at > self.due_at


class ReuseOptOut(models.Model):
    """A worker's refusal that their answers on one slot be reused beyond the batch's purpose.
    Keyed by slot and worker: a slot returned and taken by someone else is not covered."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="reuse_opt_outs")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "worker"], name="one_reuse_opt_out_per_slot_and_worker")
        ]


class DispatchWave(models.Model):
    """One wave of a batch opened in waves: workers apply during ``opens_at`` to
    ``draws_at``; then a weighted lottery gives up to the slots planned so far. The seed,
    the pool (worker ids and weights, in id order, with each one's time zone stratum when the
    draw was stratified) and the order drawn are kept, so anyone can re-run the draw
    (``tasks.dispatch.wave_rerun``)."""

    class State(models.TextChoices):
        PENDING = "pending"
        DRAWN = "drawn"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveIntegerField()
    opens_at = models.DateTimeField()
    draws_at = models.DateTimeField(db_index=True)
    # Share of the batch's slots planned in hands by the end of this wave, in basis points
    # (for display; the draw computes it exactly from the waves' weights).
    cumulative_bps = models.PositiveIntegerField()
    # Why the wave has its size (``tasks.dispatch.wave_weights``): ``activity`` is the measured
    # figure of its hour (eligible workers active in that UTC hour, summed over the days
    # measured), ``weight`` that figure raised to the governed floor. The wave's cumulative
    # share is the sum of the weights up to it over the sum of all. Waves planned before the
    # measure have weight 1 each: equal shares.
    activity = models.PositiveIntegerField(default=0)
    weight = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    seed = models.CharField(max_length=64, blank=True)
    # The formula drawn with (``tasks.lottery``): 1, the weighted lottery over the whole pool;
    # 2, stratified by time zone. Waves drawn before the stratified draw existed are 1.
    draw_formula = models.PositiveSmallIntegerField(default=1)
    # [[worker id, weight], ...] in worker id order: the pool as drawn; formula 2 adds each
    # entry's stratum, [worker id, weight, UTC offset hour or null], which the re-run needs.
    pool = models.JSONField(default=list, blank=True)
    # Formula 2's record (``tasks.lottery.stratified_record``): the strata's carries in and
    # out, their quotas and how many each phase of the draw drew. Empty for formula 1.
    strata = models.JSONField(default=dict, blank=True)
    # Worker ids in the order the lottery drew them (including any skipped at the draw).
    drawn = models.JSONField(default=list, blank=True)
    slots_offered = models.PositiveIntegerField(default=0)
    slots_given = models.PositiveIntegerField(default=0)
    drawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch_id", "number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="one_wave_number_per_batch")]


class WorkerActivity(models.Model):
    """The hours of one UTC day in which a worker looked for work (the feed or a batch's page):
    bit ``h`` of ``hours`` set means active in hour ``h`` (UTC). Written at most once a worker
    an hour by each web process (``tasks.services.activity``), kept ``ACTIVITY_KEEP_DAYS``
    (``tasks.jobs.activity_prune``), so the table holds at most that many rows a worker.
    The dispatch plan reads it (``tasks.activity.activity_measure``)."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hours = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["worker", "day"], name="one_activity_row_per_worker_day")]
        indexes = [models.Index(fields=["day"])]


class WaveApplication(models.Model):
    """A worker's request for a slot in one wave, with the weight the lottery gives them."""

    class Outcome(models.TextChoices):
        PENDING = "pending"
        GIVEN = "given"  # drawn and given a slot
        NOT_DRAWN = "not_drawn"
        SKIPPED = "skipped"  # drawn, but no longer eligible (or at the cap) at the draw

    wave = models.ForeignKey(DispatchWave, on_delete=models.CASCADE, related_name="applications")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    applied_at = models.DateTimeField()
    # What the worker earned in the lookback before applying (minor units) and the weight it gives.
    recent_earnings = models.BigIntegerField(default=0)
    weight = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wave", "worker"], name="one_application_per_wave")]
        indexes = [models.Index(fields=["worker", "wave"])]


class PlayBook(models.Model):
    """An organisation's sandbox money (issue 24.6): play money that sandbox batches reserve,
    pay and return as real batches do with the ledger, kept apart from the ledger's books
    (``tasks.play``; no ledger row is ever written for it). One row per organisation, whose
    running totals change only with a ``PlayTransfer`` in the same transaction; the database
    holds them balanced: all the play money issued is available, held, paid or charged."""

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.PROTECT, related_name="play_book")
    currency = models.CharField(max_length=3)
    # Play money given to the organisation: the opening amount and every top-up.
    issued = models.BigIntegerField(default=0)
    available = models.BigIntegerField(default=0)
    # Reserved for unfinished sandbox slots (reward + fee each).
    held = models.BigIntegerField(default=0)
    # Rewards and bonuses paid to the organisation's testers.
    paid = models.BigIntegerField(default=0)
    # The platform fee a real batch would have paid.
    fees = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(issued__gte=0, available__gte=0, held__gte=0, paid__gte=0, fees__gte=0),
                name="play_book_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    issued=models.F("available") + models.F("held") + models.F("paid") + models.F("fees")
                ),
                name="play_book_balanced",
            ),
        ]


class PlayTransfer(models.Model):
    """One immutable movement of play money in a ``PlayBook``, keyed by the caller's
    idempotency key as the ledger's transfers are: ``issue`` (opening, top-up), ``reserve``
    (a sandbox slot's reward + fee held), its one resolution ``post`` (paid, the rest
    returned) or ``void`` (all returned), and ``bonus``. ``pending`` is one-to-one, so the
    database itself lets a reservation be resolved exactly once."""

    class Kind(models.TextChoices):
        ISSUE = "issue"
        RESERVE = "reserve"
        POST = "post"
        VOID = "void"
        BONUS = "bonus"

    id = models.CharField(primary_key=True, max_length=200)
    book = models.ForeignKey(PlayBook, on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Issue, reserve, bonus: the amount moved. Post: the reward and fee shares paid (the rest
    # of the reservation returns to available). Void: the reservation's amount.
    amount = models.BigIntegerField()
    # Reserve: the fee within the amount; post: the fee share paid.
    fee_part = models.BigIntegerField(default=0)
    pending = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="resolution")
    # Post and bonus: the tester paid.
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Issue: who topped up (None for the opening amount).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["book", "kind"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="play_transfer_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(fee_part__gte=0, fee_part__lte=models.F("amount")),
                name="play_transfer_fee_part_in_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["issue", "reserve", "bonus"], pending__isnull=True)
                | models.Q(kind__in=["post", "void"], pending__isnull=False),
                name="play_transfer_resolves_iff_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id}: {self.amount} {self.kind}"
