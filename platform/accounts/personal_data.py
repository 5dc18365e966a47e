"""Personal data rights: a person downloads everything the platform holds about them,
and can have it erased.

Each app says what it holds about a person by registering a ``PersonalDataSection`` at
start-up (``<app>/personal_data.py``, imported from its ``AppConfig.ready``): what to
export, how to pseudonymise it, and what must be settled before erasure. The core
(this module) keeps the person's own rows: account, profile and its history,
membership, organisation roles, second factor, tokens.

Erasure pseudonymises; it never deletes what the books and the audit trail need. The
person's row stays (the ledger's accounts, the audit rows and every record of work point
to it) but holds no name, e-mail or password any more: the username becomes
``erased-<pseudonym>``, the e-mail an address at ``.invalid``, the account is closed. The
profile, its history, payout destinations' details, the person's notices and every
mention of their user name in other people's texts (comments, evidence, statements) are
replaced by the same label. Audit rows are kept, one per act, with their times, actions
and targets; identifying values in their before/after (user name, e-mail, profile
values) are replaced by the label. Ledger rows are not touched at all.

Refused (``erasure_refused``, 409, with every reason) while money or duties are open: a
balance not yet paid out (the person would lose it) or payouts in flight, work accepted
or submitted and not yet decided, open dispute cases as a worker or a juror, owning an
organisation, holding a treasurer or staff role. The person settles these (ask for a
payout, finish or return work, wait for the case) and asks again.
"""

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authentication import forget_tokens
from accounts.models import (
    TREASURER_GROUP,
    ApiKey,
    Membership,
    OrganisationStaff,
    User,
    WebAuthnDevice,
    WorkerProfile,
    WorkerProfileChange,
)
from accounts.reauthentication import FreshSignIn, fresh_sign_in_check
from core.audit import audit_record
from core.errors import AppError
from core.models import AuditEvent


@dataclass(frozen=True)
class PersonalDataSection:
    name: str
    export: Callable[[User], Any]
    erase: Callable[[User, "Erasure"], None] | None = None
    blockers: Callable[[User], list[str]] | None = None


@dataclass(frozen=True)
class Erasure:
    """What an app needs to pseudonymise a person: the label that replaces them and the
    identifying strings to look for in free text."""

    label: str
    identifiers: tuple[str, ...]

    def scrub(self, text: str) -> str:
        """``text`` with every mention of the person replaced by the label."""
        for identifier in self.identifiers:
            if identifier:
                text = re.sub(rf"(?<![\w@.]){re.escape(identifier)}(?![\w@])", self.label, text, flags=re.IGNORECASE)
        return text

    def scrub_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_json(item) for key, item in value.items()}
        return value


_SECTIONS: dict[str, PersonalDataSection] = {}


def personal_data_register(section: PersonalDataSection) -> None:
    """Called once per app at start-up."""
    _SECTIONS[section.name] = section


def _core_export(user: User) -> dict[str, Any]:
    from accounts.two_factor import two_factor_enabled

    profile = WorkerProfile.objects.filter(user=user).first()
    membership = Membership.objects.filter(user=user).first()
    return {
        "account": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "pseudonym": user.pseudonym,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "suspended_at": user.suspended_at,
            "suspension_reason": user.suspension_reason,
            "two_factor_enabled": two_factor_enabled(user),
            "groups": sorted(user.groups.values_list("name", flat=True)),
        },
        "profile": None
        if profile is None
        else {
            "country": profile.country,
            "languages": profile.languages,
            "demographics": profile.demographics,
            "updated_at": profile.updated_at,
            "history": list(
                WorkerProfileChange.objects.filter(profile=profile).values(
                    "field", "old_value", "new_value", "changed_at"
                )
            ),
        },
        "membership": None
        if membership is None
        else {
            "member_class": membership.member_class,
            "status": membership.status,
            "joined_at": membership.joined_at,
            "juror_opt_in": membership.juror_opt_in,
        },
        "organisation_roles": list(
            OrganisationStaff.objects.filter(user=user).values("organisation__slug", "role", "added_at")
        ),
        "passkeys": list(
            WebAuthnDevice.objects.filter(user=user).order_by("id").values("name", "created_at", "last_used_at")
        ),
        "api_keys_created": list(
            ApiKey.objects.filter(created_by=user).values("organisation__slug", "access_key_id", "label", "created_at")
        ),
        "audit_trail": list(
            AuditEvent.objects.filter(actor=user)
            .order_by("id")
            .values("created_at", "action", "target_type", "target_id", "before", "after")
        ),
    }


def _core_blockers(user: User) -> list[str]:
    reasons = []
    owned = list(
        OrganisationStaff.objects.filter(user=user, role=OrganisationStaff.Role.OWNER).values_list(
            "organisation__display_name", flat=True
        )
    )
    if owned:
        reasons.append(_("You own %(owned)s: hand ownership to someone else first.") % {"owned": ", ".join(owned)})
    if user.is_staff or user.is_superuser or user.groups.filter(name=TREASURER_GROUP).exists():
        reasons.append(_("You hold a co-op staff or treasurer role: the members must relieve you of it first."))
    return reasons


def personal_data_export(*, user: User) -> bytes:
    """A zip of JSON files, one per section, plus a README saying what each holds."""
    sections: dict[str, Any] = {"account": _core_export(user)}
    for name, section in sorted(_SECTIONS.items()):
        sections[name] = section.export(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Everything the co-op platform holds about you, exported "
            f"{timezone.now().isoformat()}.\nOne JSON file per part of the platform: "
            + ", ".join(f"{name}.json" for name in sections)
            + ".\nAmounts are integers in minor units (cents).\n",
        )
        for name, data in sections.items():
            archive.writestr(f"{name}.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
    return buffer.getvalue()


def erasure_blockers(*, user: User) -> list[str]:
    """Why ``user`` cannot be erased now (empty: they can)."""
    reasons = _core_blockers(user)
    for _name, section in sorted(_SECTIONS.items()):
        if section.blockers is not None:
            reasons.extend(section.blockers(user))
    return reasons


def personal_data_erase(*, user: User, fresh_sign_in: FreshSignIn | None) -> User:
    """Pseudonymises ``user`` everywhere and closes the account, in one transaction.

    Needs a fresh sign-in (``reauthentication_required``); refused with
    ``erasure_refused`` (409, ``details.reasons``) while anything is open; nothing
    changes then. Idempotent in effect: an erased account cannot sign in to ask again.
    """
    fresh_sign_in_check(user=user, proof=fresh_sign_in)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        reasons = erasure_blockers(user=user)
        if reasons:
            raise AppError(
                "erasure_refused",
                "Your account cannot be erased yet: " + " ".join(reasons),
                status=409,
                details={"reasons": reasons},
            )
        label = f"erased-{user.pseudonym.lower()}"
        erasure = Erasure(
            label=label,
            identifiers=tuple(
                sorted(
                    {user.username, user.email, f"{user.first_name} {user.last_name}".strip()}, key=len, reverse=True
                )
            ),
        )
        for _name, section in sorted(_SECTIONS.items()):
            if section.erase is not None:
                section.erase(user, erasure)
        _core_erase(user, erasure)
        audit_record(actor=None, action="person.erased", target=user, after={"label": label})
    return user


def _core_erase(user: User, erasure: Erasure) -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from rest_framework.authtoken.models import Token

    profile = WorkerProfile.objects.filter(user=user).first()
    if profile is not None:
        WorkerProfileChange.objects.filter(profile=profile).update(old_value=None, new_value=None)
        profile.country, profile.languages, profile.demographics = "", [], {}
        profile.save(update_fields=["country", "languages", "demographics", "updated_at"])
    Membership.objects.filter(user=user).update(status=Membership.Status.LEFT, juror_opt_in=False)
    for staff in OrganisationStaff.objects.filter(user=user).select_related("organisation"):
        user.groups.remove(staff.organisation.staff_group)
        staff.delete()
    ApiKey.objects.filter(created_by=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user.groups.remove(*Group.objects.filter(user=user))
    forget_tokens(user=user)
    Token.objects.filter(user=user).delete()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    WebAuthnDevice.objects.filter(user=user).delete()
    # The audit trail keeps every row; only the identifying values inside it go.
    rows = AuditEvent.objects.filter(actor=user) | AuditEvent.objects.filter(
        target_type="accounts.user", target_id=str(user.pk)
    )
    if profile is not None:
        rows = rows | AuditEvent.objects.filter(target_type="accounts.workerprofile", target_id=str(profile.pk))
    for event in rows:
        before, after = erasure.scrub_json(event.before), erasure.scrub_json(event.after)
        if event.action == "profile.updated":
            before = dict.fromkeys(before, erasure.label)
            after = dict.fromkeys(after, erasure.label)
        if (before, after) != (event.before, event.after):
            AuditEvent.objects.filter(pk=event.pk).update(before=before, after=after)
    user.username = erasure.label
    user.email = f"{erasure.label}@erased.invalid"
    user.first_name = user.last_name = ""
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["username", "email", "first_name", "last_name", "password", "is_active"])
