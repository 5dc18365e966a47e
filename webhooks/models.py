"""Requesters' webhook endpoints and the log of each delivery to them."""

from django.conf import settings
from django.db import models


class WebhookEndpoint(models.Model):
    """An https URL of a requester that receives the events it chose, signed with a
    secret shown once at registration (``core.delivery``)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.url}"


class WebhookDelivery(models.Model):
    """One event for one endpoint; unique per (event, endpoint), so reading an outbox
    event again after a crash adds nothing. Retried with growing delays until delivered
    or ``core.delivery.MAX_ATTEMPTS`` is reached."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_key = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=30)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"]), models.Index(fields=["endpoint", "-id"])]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"

    @property
    def is_sandbox(self) -> bool:
        """An event of sandbox work (play money, issue 24.6), as its payload says."""
        return self.payload.get("sandbox") is True
