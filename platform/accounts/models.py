"""Identities: users, requester organisations, worker profiles, co-op membership, API keys."""

import os
import secrets
import string
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django_otp.models import Device

_PSEUDONYM_ALPHABET = string.ascii_uppercase + string.digits


def new_pseudonym() -> str:
    """A stable worker id in MTurk's shape (``A`` + 13 characters); reveals nothing."""
    return "A" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(13))


class User(AbstractUser):  # type: ignore[django-manager-missing]  # django-otp's untyped Device.user (passkeys)
    email = models.EmailField(unique=True)
    # The only name requesters and jurors ever see of a worker.
    pseudonym = models.CharField(max_length=14, unique=True, default=new_pseudonym, editable=False)
    # A suspension always states its reason; earnings stay payable (see payouts).
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)
    # The code of the reason from the published list (``accounts.reasons.SUSPENSION_REASONS``).
    suspension_code = models.CharField(max_length=40, blank=True)

    REQUIRED_FIELDS = ["email"]

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def suspension_text(self) -> str:
        """The suspension's reason in the active language: the published reason (stored in
        English, as the audit log is, with its code beside it) then the moderator's words as
        typed. A reason stored without a known code is shown as stored."""
        from accounts.reasons import suspension_text

        return suspension_text(code=self.suspension_code, stored=self.suspension_reason)


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
    # Used where a batch does not state its own (MTurk code that writes no "Purpose:",
    # "Data use:" or "Location reason:" line); workers still read them before accepting.
    default_purpose = models.TextField(blank=True)
    default_data_use = models.TextField(blank=True)
    default_location_reason = models.TextField(blank=True)
    # The language its API keys' answers (refusals, errors) are written in; empty: the
    # calling program's Accept-Language (accounts.authentication).
    language = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        permissions = [("manage_organisation", "Manage the organisation, its keys and money")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class OrganisationStaff(models.Model):
    """A person on a requester's team. Owners manage members and keys (and may do
    everything else); reviewers prepare, publish and review batches; finance funds and
    withdraws. ``ROLE_CAPABILITIES`` says which capability each role carries."""

    class Role(models.TextChoices):
        OWNER = "owner"
        REVIEWER = "reviewer"
        FINANCE = "finance"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_roles")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REVIEWER)
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
    # When the worker read or skipped the first-visit introduction (None: not yet shown it).
    introduced_at = models.DateTimeField(null=True, blank=True)
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


class KeyScope(models.TextChoices):
    """What an organisation's API key may do: publish (batches, HITs, qualifications),
    review (read and decide submitted work, bonuses), funds (balance, deposits, withdrawals)."""

    PUBLISH = "publish"
    REVIEW = "review"
    FUNDS = "funds"


def all_key_scopes() -> list[str]:
    return list(KeyScope.values)


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
    # What the key may do for its organisation: a subset of ``KEY_SCOPES``.
    scopes = models.JSONField(default=all_key_scopes)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


TREASURER_GROUP = "treasurers"
VERIFIER_GROUP = "verifiers"
MODERATOR_GROUP = "moderators"


class StaffRole(models.TextChoices):
    """The co-op's staff roles, appointed and removed by the members' vote."""

    VERIFIER = "verifier"
    TREASURER = "treasurer"
    MODERATOR = "moderator"


# Each role's Django group: the checks of every app read the group, one join.
STAFF_ROLE_GROUPS = {
    StaffRole.VERIFIER: VERIFIER_GROUP,
    StaffRole.TREASURER: TREASURER_GROUP,
    StaffRole.MODERATOR: MODERATOR_GROUP,
}


class StaffAppointment(models.Model):
    """Who holds (or held) which staff role, since when and by which decision.

    Rows are never deleted: a removal sets ``ended_at``. The public list of role holders
    is read from here. ``granted_by_proposal_id`` names the adopted governance proposal
    (an id, not a foreign key: governance builds on accounts, not the other way)."""

    class Source(models.TextChoices):
        PROPOSAL = "proposal"
        BOOTSTRAP = "bootstrap"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_appointments")
    role = models.CharField(max_length=12, choices=StaffRole.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    granted_by_proposal_id = models.PositiveIntegerField(null=True, blank=True)
    granted_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_proposal_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["role", "granted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"], condition=models.Q(ended_at__isnull=True), name="one_open_appointment"
            )
        ]


class PrivateDocumentStorage(FileSystemStorage):
    """Files under ``PRIVATE_MEDIA_ROOT``, read from the settings at each use (tests move it)."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def private_documents() -> Storage:
    """Where identity documents live: outside MEDIA_ROOT and STATIC_ROOT, never served by
    a URL of their own; only the verifier's download view reads them."""
    return PrivateDocumentStorage()


class OrganisationVerification(models.Model):
    """A requester's request to have its legal identity verified, and the verifier's answer.

    submitted --approve--> verified; submitted --refuse--> refused;
    submitted --ask--> more_information --resubmit--> submitted.
    At most one request per organisation is pending (submitted or more_information)."""

    class State(models.TextChoices):
        SUBMITTED = "submitted"
        MORE_INFORMATION = "more_information"
        VERIFIED = "verified"
        REFUSED = "refused"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="verifications")
    state = models.CharField(max_length=20, choices=State.choices, default=State.SUBMITTED, db_index=True)
    legal_name = models.CharField(max_length=200)
    country = models.CharField(max_length=2)
    registration_number = models.CharField(max_length=80)
    address = models.TextField()
    responsible_person = models.CharField(max_length=200)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A refusal's code from ``accounts.reasons.VERIFICATION_REFUSAL_REASONS``.
    refusal_code = models.CharField(max_length=40, blank=True)
    # The verifier's words: the refusal's explanation, the information asked for, or the approval note.
    decision_text = models.TextField(blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(state__in=["submitted", "more_information"]),
                name="one_pending_verification",
            )
        ]


class VerificationDocument(models.Model):
    """A document attached to a verification request (PDF, PNG or JPEG, checked by content)."""

    verification = models.ForeignKey(OrganisationVerification, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(storage=private_documents, upload_to="verification/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class OrganisationInvitation(models.Model):
    """An invitation to join a requester's team, sent by e-mail as a link with a token.

    Only the token's hash is stored. Accepted once, by a signed-in person whose e-mail
    address is the invited one."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=OrganisationStaff.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class WebAuthnDevice(Device):
    """A passkey (a WebAuthn credential: a phone, a security key, the computer's own
    authenticator) used as the second factor. A django-otp device, so a session signed in
    with it is verified (``user.is_verified()``) and it counts wherever a confirmed second
    factor is asked for (``two_factor_enabled``, the roles that require one). It has no
    typed code: ``verify_token`` stays django-otp's ``False``; it is checked by
    ``accounts.passkeys.passkey_verify``."""

    # base64url of the credential id the authenticator made (what the browser names it by).
    # (Annotated: django-otp's Device is untyped, so the stubs' plugin cannot infer them.)
    credential_id: "models.CharField[str, str]" = models.CharField(max_length=400, unique=True)
    public_key: "models.BinaryField[bytes, bytes]" = models.BinaryField()  # COSE key, as py_webauthn returns it
    sign_count: "models.PositiveBigIntegerField[int, int]" = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at: "models.DateTimeField[Any, Any]" = models.DateTimeField(auto_now_add=True)
    last_used_at: "models.DateTimeField[Any, Any]" = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "passkey"
