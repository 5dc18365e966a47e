"""Identities: users, requester organisations, worker profiles, co-op membership, API keys."""

import secrets
import string

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.db import models

_PSEUDONYM_ALPHABET = string.ascii_uppercase + string.digits


def new_pseudonym() -> str:
    """A stable worker id in MTurk's shape (``A`` + 13 characters); reveals nothing."""
    return "A" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(13))


class User(AbstractUser):
    email = models.EmailField(unique=True)
    # The only name requesters and jurors ever see of a worker.
    pseudonym = models.CharField(max_length=14, unique=True, default=new_pseudonym, editable=False)
    # A suspension always states its reason; earnings stay payable (see payouts).
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)

    REQUIRED_FIELDS = ["email"]

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class Organisation(models.Model):
    """A requester: an organisation with a verified legal identity."""

    slug = models.SlugField(max_length=60, unique=True)
    legal_name = models.CharField(max_length=200)
    display_name = models.CharField(max_length=120)
    country = models.CharField(max_length=2)
    contact_email = models.EmailField()
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # django-guardian object permissions are granted to this group.
    staff_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("manage_organisation", "Manage the organisation, its keys and money")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class OrganisationStaff(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        STAFF = "staff"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_roles")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="unique_org_staff")]


class OrganisationStaffDeparture(models.Model):
    """A person who left an organisation's staff, and when: for the governed
    ``former_staff_days`` they still count as its staff (no self-dealing, issue 19)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff_departures")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    left_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organisation", "user", "left_at"])]


class OrganisationNameChange(models.Model):
    """Public, permanent history of a requester's display names."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="name_changes")
    old_name = models.CharField(max_length=120)
    new_name = models.CharField(max_length=120)
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["changed_at", "id"]


class WorkerProfile(models.Model):
    """What the worker chooses to share; edited only by the worker, with history."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="worker_profile")
    country = models.CharField(max_length=2, blank=True)
    languages = models.JSONField(default=list, blank=True)
    # Free-form, opt-in demographics (e.g. {"age_range": "30-39"}); never required.
    demographics = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class WorkerProfileChange(models.Model):
    profile = models.ForeignKey(WorkerProfile, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=40)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]


class Membership(models.Model):
    """A co-op member. One verified person, one membership, one vote."""

    class MemberClass(models.TextChoices):
        WORKER = "worker"
        SUPPORTER = "supporter"

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        LEFT = "left"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership")
    member_class = models.CharField(max_length=12, choices=MemberClass.choices, default=MemberClass.WORKER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    joined_at = models.DateTimeField()
    juror_opt_in = models.BooleanField(default=False)


class ApiKey(models.Model):
    """An organisation's key pair, for the REST API and the MTurk-compatible endpoint.

    The secret is stored twice, never in clear: a hash (to check ``ApiKey`` bearer
    requests) and an encryption under a server key, because AWS SigV4 verification
    needs the shared secret itself to recompute the signature.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=80, blank=True)
    access_key_id = models.CharField(max_length=20, unique=True)
    secret_hash = models.CharField(max_length=128)
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


TREASURER_GROUP = "treasurers"
