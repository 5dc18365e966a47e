"""What MTurk's API needs beyond the marketplace's own rows.

A HIT is a one-task batch of the marketplace (``tasks.Batch`` + its single
``tasks.Task``); its HIT type is the set of properties MTurk groups HITs by.
Assignments, qualifications, blocks and bonuses are the marketplace's own rows;
only MTurk's extra attributes live here.
"""

from django.conf import settings
from django.db import models


class HitType(models.Model):
    """MTurk's HIT type: identical properties give the same id, as on MTurk."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="hit_types")
    hit_type_id = models.CharField(max_length=30, unique=True)
    # sha256 of the canonical properties; same properties, same type.
    fingerprint = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    description = models.TextField()
    keywords = models.CharField(max_length=1000, blank=True)
    reward = models.BigIntegerField(help_text="Minor units per assignment.")
    assignment_duration_seconds = models.PositiveIntegerField()
    auto_approval_delay_seconds = models.PositiveIntegerField(null=True, blank=True)
    # MTurk's QualificationRequirements as sent, so GetHIT returns them unchanged.
    qualification_requirements = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fingerprint"], name="one_hit_type_per_properties")
        ]


class Hit(models.Model):
    """A HIT: one marketplace batch with one task. Its HITId is the task's id, so the
    marketplace's batch-results export and this API name HITs alike."""

    class QuestionKind(models.TextChoices):
        HTML = "html"
        EXTERNAL = "external"
        FORM = "form"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="hits")
    hit_type = models.ForeignKey(HitType, on_delete=models.PROTECT, related_name="hits")
    batch = models.OneToOneField("tasks.Batch", on_delete=models.PROTECT, related_name="mturk_hit")
    task = models.OneToOneField("tasks.Task", on_delete=models.PROTECT, related_name="mturk_hit")
    hit_id = models.CharField(max_length=30, unique=True)
    question_kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    question_xml = models.TextField()
    requester_annotation = models.CharField(max_length=255, blank=True)
    # UpdateHITReviewStatus: the requester marks the HIT as being reviewed.
    reviewing = models.BooleanField(default=False)
    # DeleteHIT: hidden from ListHITs; GetHIT still answers (status Disposed).
    disposed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class RequestToken(models.Model):
    """A UniqueRequestToken: the first call's answer, returned again to retries."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64)
    operation = models.CharField(max_length=64)
    # sha256 of the canonical parameters: a reused token with other parameters is refused.
    request_hash = models.CharField(max_length=64)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "token"], name="one_request_per_token")]


class QualificationTypeInfo(models.Model):
    """MTurk's attributes of a marketplace qualification (its QualificationTypeId is the
    qualification's id)."""

    class Status(models.TextChoices):
        ACTIVE = "Active"
        INACTIVE = "Inactive"
        DISPOSED = "Disposed"

    qualification = models.OneToOneField("tasks.Qualification", on_delete=models.CASCADE, related_name="mturk_info")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    keywords = models.CharField(max_length=1000, blank=True)
    auto_granted = models.BooleanField(default=False)
    auto_granted_value = models.IntegerField(null=True, blank=True)
    retry_delay_seconds = models.PositiveIntegerField(null=True, blank=True)
    test_xml = models.TextField(blank=True)
    answer_key_xml = models.TextField(blank=True)
    test_duration_seconds = models.PositiveIntegerField(null=True, blank=True)


class QualificationRequest(models.Model):
    """A worker asks for a qualification (optionally with test answers); the requester
    accepts or rejects it unless a test or auto-grant decided at once."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    qualification = models.ForeignKey("tasks.Qualification", on_delete=models.CASCADE, related_name="mturk_requests")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)


class NotificationSetting(models.Model):
    """UpdateNotificationSettings of a HIT type: events POSTed to an https URL, signed
    with HMAC-SHA256 under the secret of the API key that configured it."""

    hit_type = models.OneToOneField(HitType, on_delete=models.CASCADE, related_name="notification")
    destination = models.URLField(max_length=500)
    transport = models.CharField(max_length=10)
    version = models.CharField(max_length=20, default="2014-08-15")
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)


class NotificationDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    destination = models.URLField(max_length=500)
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.CASCADE, related_name="+")
    # "audit:<id>:<setting id>" or "test:<uuid>": one delivery per event and destination.
    event_key = models.CharField(max_length=100, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
