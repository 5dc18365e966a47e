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
