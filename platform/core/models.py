"""The audit log: who changed what, when, with the state before and after."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    # Every service writes one of these rows, the claim of a slot included, so only the
    # indexes that reads use are kept: by target, and by actor over time (recent activity
    # for the voter roll and the juror pool). No query filters on the action alone.
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # "system" for Celery jobs and webhooks, "user" otherwise.
    actor_kind = models.CharField(max_length=16, default="user")
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id"]), models.Index(fields=["actor", "created_at"])]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class JobItemFailure(models.Model):
    """One item a periodic job failed on (``core.runner``): the run moved on to the next
    item; this one is retried after a growing delay and parked, for staff to look at,
    once it has failed ``attempts`` times in a row. The row is deleted when the item
    goes through, so the table holds only what is failing now."""

    job = models.CharField(max_length=100)
    item_key = models.CharField(max_length=100)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    parked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "item_key"], name="job_item_failure_unique")]
        ordering = ["job", "first_failed_at"]

    def __str__(self) -> str:
        return f"{self.job} {self.item_key} ({self.attempts} attempts)"


class JobRun(models.Model):
    """The last run of each periodic job, for the health page: when it ran, what it did,
    and the due time of the oldest item it left undone (failed, waiting or parked)."""

    job = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField()
    processed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    oldest_undone_due_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.job} at {self.last_run_at}"


class OutboxEvent(models.Model):
    """An event for subscribers outside the transaction that made it (MTurk callbacks,
    requesters' webhooks), written by ``audit_record`` in the same transaction as the
    change, so it exists exactly when the change committed. Read by ``core.outbox`` with
    a cursor on the primary key: no read grows with the table's history."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    after = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class OutboxCursor(models.Model):
    """How far one subscriber has read the outbox: every id up to ``last_id`` is handled
    (or was a gap that never filled); ``handled`` lists ids above it already handled, and
    ``gaps`` the ids missing above it with when each was first seen missing (a transaction
    that took the id may still commit)."""

    subscriber = models.CharField(max_length=50, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    handled = models.JSONField(default=list, blank=True)
    gaps = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.subscriber} at {self.last_id}"
