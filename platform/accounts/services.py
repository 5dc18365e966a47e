"""Writes to identities. Each service is one transaction and writes an audit row."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from accounts import hooks, keys, selectors
from accounts.appointments import staff_role_grant
from accounts.models import (
    ApiKey,
    KeyScope,
    Membership,
    Organisation,
    OrganisationNameChange,
    OrganisationStaff,
    OrganisationStaffDeparture,
    StaffAppointment,
    StaffRole,
    User,
    WorkerProfile,
    WorkerProfileChange,
)
from core.audit import audit_record
from core.errors import AppError, PermissionDenied, language_problem
from core.rules import rule_value

# The "verified" notice's explanation when the legal identity was checked outside the request
# flow: stored as this msgid with the name, written in each reader's language when read.
LEGAL_IDENTITY_SENTENCE = gettext_noop("Legal identity checked: %(detail)s.")


def user_register(*, username: str, email: str, password: str) -> User:
    """Creates a user with an empty worker profile. Raises ``AppError`` with field errors."""
    fields: dict[str, list[str]] = {}
    if not username.strip():
        fields["username"] = [_("Choose a user name.")]
    elif User.objects.filter(username__iexact=username).exists():
        fields["username"] = [_("That user name is taken.")]
    if User.objects.filter(email__iexact=email).exists():
        fields["email"] = [_("An account with that email address exists; sign in or reset your password.")]
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as error:
        fields["password"] = list(error.messages)
    if fields:
        raise AppError("invalid", _("Some fields need attention."), fields=fields)
    with transaction.atomic():
        try:
            user = User.objects.create_user(username=username, email=email, password=password)
        except IntegrityError:
            raise AppError("invalid", _("That user name or email is taken."), status=409) from None
        WorkerProfile.objects.create(user=user)
        audit_record(actor=user, action="user.registered", target=user, after={"username": username})
    return user


def organisation_create(
    *, owner: User, legal_name: str, display_name: str, country: str, contact_email: str, slug: str = ""
) -> Organisation:
    """Creates an unverified organisation with ``owner`` as its first staff member.

    Staff get their object permissions through the organisation's guardian group.
    """
    slug = slugify(slug or display_name)[:60]
    if not slug:
        raise AppError("invalid", _("The organisation needs a name."), fields={"display_name": [_("Required.")]})
    if len(country) != 2 or not country.isalpha():
        raise AppError(
            "invalid", _("Country must be a two-letter code."), fields={"country": [_("Use e.g. DE or US.")]}
        )
    with transaction.atomic():
        if Organisation.objects.filter(slug=slug).exists():
            raise AppError(
                "invalid", _("That organisation address is taken."), fields={"slug": [_("Taken.")]}, status=409
            )
        group = Group.objects.create(name=f"organisation:{slug}")
        organisation = Organisation.objects.create(
            slug=slug,
            legal_name=legal_name,
            display_name=display_name,
            country=country.upper(),
            contact_email=contact_email,
            staff_group=group,
        )
        assign_perm("accounts.manage_organisation", group, organisation)
        organisation_staff_add(organisation=organisation, user=owner, role=OrganisationStaff.Role.OWNER, actor=owner)
        audit_record(actor=owner, action="organisation.created", target=organisation, after={"slug": slug})
    return organisation


def organisation_staff_add(
    *, organisation: Organisation, user: User, role: str = OrganisationStaff.Role.REVIEWER, actor: Any
) -> OrganisationStaff:
    with transaction.atomic():
        staff, _created = OrganisationStaff.objects.get_or_create(
            organisation=organisation, user=user, defaults={"role": role}
        )
        user.groups.add(organisation.staff_group)
        audit_record(actor=actor, action="organisation.staff_added", target=organisation, after={"user": user.pk})
    return staff


def organisation_staff_remove(*, organisation: Organisation, user: User, actor: Any) -> None:
    with transaction.atomic():
        if OrganisationStaff.objects.filter(organisation=organisation, user=user).delete()[0]:
            OrganisationStaffDeparture.objects.create(organisation=organisation, user=user, left_at=timezone.now())
        user.groups.remove(organisation.staff_group)
        audit_record(actor=actor, action="organisation.staff_removed", target=organisation, before={"user": user.pk})


def organisation_verify(*, organisation: Organisation, verified_by: User, legal_name: str) -> Organisation:
    """Records that a verifier checked the organisation's legal identity, outside the
    verification queue (seeds, benchmarks and operators' scripts; Django's ``is_staff``
    operators may too). Requesters go through ``accounts.verification``."""
    if not (verified_by.is_staff or selectors.user_has_staff_role(user=verified_by, role=StaffRole.VERIFIER)):
        raise PermissionDenied(_("Only the co-op's verifiers verify organisations."))
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = {"legal_name": organisation.legal_name, "verified_at": None}
        organisation.legal_name = legal_name
        organisation.verified_at = timezone.now()
        organisation.verified_by = verified_by
        organisation.save(update_fields=["legal_name", "verified_at", "verified_by"])
        audit_record(
            actor=verified_by,
            action="organisation.verified",
            target=organisation,
            before=before,
            after={"legal_name": legal_name, "verified_at": organisation.verified_at.isoformat()},
        )
        hooks.verification_decided(
            organisation=organisation,
            decision="verified",
            reason=LEGAL_IDENTITY_SENTENCE % {"detail": legal_name},
            sentence=LEGAL_IDENTITY_SENTENCE,
            detail=legal_name,
        )
    return organisation


def organisation_language_set(*, organisation: Organisation, language: str, actor: User) -> Organisation:
    """Sets the language the organisation's API keys are answered in (one of ``LANGUAGES``,
    or empty for the calling program's ``Accept-Language``). The caller checked ``actor``
    may manage the organisation."""
    problem = language_problem(language)
    if problem is not None:
        raise AppError("invalid", problem, fields={"language": [_("Unknown language.")]})
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = organisation.language
        if before == language:
            return organisation
        organisation.language = language
        organisation.save(update_fields=["language"])
        audit_record(
            actor=actor,
            action="organisation.language_set",
            target=organisation,
            before={"language": before},
            after={"language": language},
        )
    return organisation


def organisation_rename(*, organisation: Organisation, new_name: str, actor: User) -> Organisation:
    """Changes the public display name, keeping every earlier name in public history.

    Limited to the governed number of changes per year.
    """
    new_name = new_name.strip()
    if not new_name:
        raise AppError("invalid", _("The display name cannot be empty."), fields={"display_name": [_("Required.")]})
    if len(new_name) > 120:
        raise AppError("invalid", _("The display name is too long."), fields={"display_name": [_("At most 120.")]})
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if new_name == organisation.display_name:
            return organisation
        allowed = rule_value("display_name_changes_per_year")
        recent = organisation.name_changes.filter(changed_at__gte=timezone.now() - timedelta(days=365)).count()
        if recent >= allowed:
            raise AppError(
                "rename_limit",
                _(
                    "This organisation has changed its name %(recent)s times in the last "
                    "year; the co-op allows %(allowed)s."
                )
                % {"recent": recent, "allowed": allowed},
                status=409,
            )
        old = organisation.display_name
        OrganisationNameChange.objects.create(
            organisation=organisation, old_name=old, new_name=new_name, changed_by=actor
        )
        organisation.display_name = new_name
        organisation.save(update_fields=["display_name"])
        audit_record(
            actor=actor,
            action="organisation.renamed",
            target=organisation,
            before={"display_name": old},
            after={"display_name": new_name},
        )
    return organisation


ORGANISATION_DEFAULT_FIELDS = ("default_purpose", "default_data_use", "default_location_reason")
MAX_DEFAULT_TEXT = 2000


def organisation_defaults_set(*, organisation: Organisation, actor: User, changes: dict[str, str]) -> Organisation:
    """Sets the organisation's defaults for a batch's purpose, data use and location reason
    (used where a batch, e.g. unchanged MTurk code, states none). Only the fields given
    change; an empty text clears a default. Unknown fields or overlong texts are
    ``invalid`` and change nothing. The caller checked the ``publish`` capability."""
    fields: dict[str, list[str]] = {}
    for name in sorted(set(changes) - set(ORGANISATION_DEFAULT_FIELDS)):
        fields[name] = [gettext("Unknown field.")]
    for name in ORGANISATION_DEFAULT_FIELDS:
        if name in changes and len(str(changes[name])) > MAX_DEFAULT_TEXT:
            fields[name] = [gettext("At most %(count)d characters.") % {"count": MAX_DEFAULT_TEXT}]
    if fields:
        first = next(iter(fields))
        raise AppError("invalid", f"{first}: {fields[first][0]}", fields=fields)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = {name: getattr(organisation, name) for name in ORGANISATION_DEFAULT_FIELDS}
        changed = []
        for name in ORGANISATION_DEFAULT_FIELDS:
            if name in changes and str(changes[name]).strip() != before[name]:
                setattr(organisation, name, str(changes[name]).strip())
                changed.append(name)
        if changed:
            organisation.save(update_fields=changed)
            audit_record(
                actor=actor,
                action="organisation.defaults_set",
                target=organisation,
                before={name: before[name] for name in changed},
                after={name: getattr(organisation, name) for name in changed},
            )
    return organisation


PROFILE_FIELDS = ("country", "languages", "demographics")


def worker_introduction_done(*, user: User) -> WorkerProfile:
    """Remembers that the worker read or skipped the first-visit introduction, so it is not
    shown again. Idempotent: a second call keeps the first moment and writes no audit row."""
    with transaction.atomic():
        profile, _ = WorkerProfile.objects.select_for_update().get_or_create(user=user)
        if profile.introduced_at is None:
            profile.introduced_at = timezone.now()
            profile.save(update_fields=["introduced_at", "updated_at"])
            moment = profile.introduced_at.isoformat()
            audit_record(actor=user, action="profile.introduced", target=profile, after={"introduced_at": moment})
    return profile


def worker_profile_update(*, user: User, changes: dict[str, Any]) -> WorkerProfile:
    """Applies the worker's own edits and records each changed field in the history."""
    unknown = sorted(set(changes) - set(PROFILE_FIELDS))
    if unknown:
        raise AppError("invalid", _("Unknown profile fields."), fields={name: ["Unknown field."] for name in unknown})
    if (
        "country" in changes
        and changes["country"]
        and (not isinstance(changes["country"], str) or len(changes["country"]) != 2)
    ):
        raise AppError(
            "invalid", _("Country must be a two-letter code."), fields={"country": [_("Use e.g. KE or VE.")]}
        )
    if "languages" in changes and not (
        isinstance(changes["languages"], list) and all(isinstance(x, str) for x in changes["languages"])
    ):
        raise AppError(
            "invalid", _("Languages must be a list of codes."), fields={"languages": [_("e.g. ['en', 'es']")]}
        )
    if "demographics" in changes and not isinstance(changes["demographics"], dict):
        raise AppError(
            "invalid", _("Demographics must be an object."), fields={"demographics": [_("Key-value pairs.")]}
        )
    with transaction.atomic():
        profile, _created = WorkerProfile.objects.select_for_update().get_or_create(user=user)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "country" and value:
                value = value.upper()
            old = getattr(profile, name)
            if old == value:
                continue
            WorkerProfileChange.objects.create(profile=profile, field=name, old_value=old, new_value=value)
            setattr(profile, name, value)
            before[name], after[name] = old, value
        if after:
            profile.save(update_fields=[*after.keys(), "updated_at"])
            audit_record(actor=user, action="profile.updated", target=profile, before=before, after=after)
    return profile


def membership_join(*, user: User, member_class: str = Membership.MemberClass.WORKER) -> Membership:
    """Makes ``user`` a member (idempotent: one person, one membership)."""
    if member_class not in Membership.MemberClass.values:
        raise AppError(
            "invalid",
            _("Unknown member class '%(member_class)s'.") % {"member_class": member_class},
            fields={"member_class": [_("Unknown.")]},
        )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, defaults={"member_class": member_class, "joined_at": timezone.now()}
        )
        if created:
            audit_record(actor=user, action="membership.joined", target=membership, after={"class": member_class})
    return membership


def membership_set_juror_opt_in(*, user: User, opt_in: bool) -> Membership:
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user=user).first()
        if membership is None:
            raise AppError("not_a_member", _("Join the co-op first to serve as a juror."), status=409)
        membership.juror_opt_in = opt_in
        membership.save(update_fields=["juror_opt_in"])
        audit_record(actor=user, action="membership.juror_opt_in", target=membership, after={"opt_in": opt_in})
    return membership


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # shown once, never stored in clear


def api_key_create(
    *, organisation: Organisation, created_by: User, label: str = "", scopes: list[str] | None = None
) -> NewApiKey:
    """An owner creates a key with ``scopes`` (default: all of ``KeyScope``). Raises
    ``permission_denied`` (not an owner, or an API key asking) and ``invalid`` scopes."""
    if not created_by.has_perm("accounts.manage_organisation", organisation):
        raise PermissionDenied(_("Only the organisation's staff can create its keys."))
    selectors.require_organisation_capability(user=created_by, organisation=organisation, capability="manage")
    chosen = list(KeyScope.values) if scopes is None else [scope for scope in KeyScope.values if scope in scopes]
    unknown = sorted(set(scopes or []) - set(KeyScope.values))
    if unknown or not chosen:
        raise AppError(
            "invalid",
            _("Choose the key's scopes among %(values)s.") % {"values": ", ".join(KeyScope.values)},
            fields={
                "scopes": [
                    _("Unknown: %(values)s.") % {"values": ", ".join(unknown)} if unknown else _("Choose at least one.")
                ]
            },
        )
    secret = keys.new_secret()
    with transaction.atomic():
        key = ApiKey.objects.create(
            organisation=organisation,
            created_by=created_by,
            label=label[:80],
            access_key_id=keys.new_access_key_id(),
            secret_hash=keys.hash_secret(secret),
            secret_encrypted=keys.encrypt_secret(secret),
            scopes=chosen,
        )
        audit_record(
            actor=created_by,
            action="api_key.created",
            target=key,
            after={"access_key_id": key.access_key_id, "scopes": chosen},
        )
    return NewApiKey(key=key, secret=secret)


def api_key_revoke(*, key: ApiKey, actor: User) -> ApiKey:
    """Revokes a key at once; idempotent."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="api_key.revoked", target=key, after={"access_key_id": key.access_key_id})
    return key


def treasurer_grant(*, user: User) -> None:
    """Appoints a treasurer outside a vote: the demo seed and tests. An installation's
    first holders come from ``manage.py staff_bootstrap``, later ones from a vote."""
    staff_role_grant(user=user, role=StaffRole.TREASURER, source=StaffAppointment.Source.BOOTSTRAP)
