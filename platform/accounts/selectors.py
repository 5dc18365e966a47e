"""Reads of identities, each scoped to who may see them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import (
    MODERATOR_GROUP,
    STAFF_ROLE_GROUPS,
    TREASURER_GROUP,
    VERIFIER_GROUP,
    ApiKey,
    Membership,
    Organisation,
    OrganisationInvitation,
    OrganisationNameChange,
    OrganisationStaff,
    OrganisationStaffDeparture,
    OrganisationVerification,
    StaffAppointment,
    StaffRole,
    User,
    WorkerProfile,
)
from core.errors import NotFound, PermissionDenied
from core.labels import label


def user_is_treasurer(user: User) -> bool:
    return bool(user.is_authenticated and user.groups.filter(name=TREASURER_GROUP).exists())


def user_is_member(user: User) -> bool:
    return bool(
        user.is_authenticated and hasattr(user, "membership") and user.membership.status == Membership.Status.ACTIVE
    )


def former_staff_since(*, at: datetime | None = None) -> datetime:
    """Departures after this moment still count as staff (the governed ``former_staff_days``)."""
    from core.rules import rule_value

    moment = at or timezone.now()
    return moment - timedelta(days=rule_value("former_staff_days", at=moment))


def organisation_staff_ids(*, organisation_id: int, at: datetime | None = None) -> set[int]:
    """Everyone who counts as the organisation's staff at ``at``: its present staff and those
    who left within the governed ``former_staff_days``. They may not work for it, rate it,
    review their own work or sit on its cases, and their work is not measured for its pay."""
    present = set(OrganisationStaff.objects.filter(organisation_id=organisation_id).values_list("user_id", flat=True))
    former = OrganisationStaffDeparture.objects.filter(
        organisation_id=organisation_id, left_at__gt=former_staff_since(at=at)
    ).values_list("user_id", flat=True)
    return present | set(former)


def user_is_organisation_staff(*, user_id: int, organisation_id: int, at: datetime | None = None) -> bool:
    """True if ``user_id`` is present staff of the organisation or left it within ``former_staff_days``."""
    if OrganisationStaff.objects.filter(organisation_id=organisation_id, user_id=user_id).exists():
        return True
    return OrganisationStaffDeparture.objects.filter(
        organisation_id=organisation_id, user_id=user_id, left_at__gt=former_staff_since(at=at)
    ).exists()


def organisations_for_user(*, user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(staff__user=user).order_by("display_name")


@dataclass(frozen=True)
class StaffedOrganisation:
    """An organisation a person works for, as their navigation links to it."""

    slug: str
    display_name: str


@dataclass(frozen=True)
class Roles:
    """What a signed-in person is on the platform, as ``/api/me/`` and the navigation show it."""

    is_member: bool
    is_treasurer: bool
    is_juror: bool
    organisations: list[StaffedOrganisation]
    is_verifier: bool = False
    is_moderator: bool = False

    @property
    def is_coop_staff(self) -> bool:
        """Holds any staff role: may open the staff console."""
        return self.is_treasurer or self.is_verifier or self.is_moderator


# The two reads every signed-in request makes (``/api/me/`` or a page's navigation; the
# organisation of a requester endpoint) are written in SQL: the ORM spent about 1 ms
# building and compiling each of them, several times the database's own time for it.
# The tests check both against the ORM's and guardian's answers.
_ROLES_SQL = """
SELECT membership.status, membership.juror_opt_in,
       EXISTS (SELECT 1 FROM accounts_user_groups person_group
               JOIN auth_group grp ON grp.id = person_group.group_id
               WHERE person_group.user_id = person.id AND grp.name = %s),
       EXISTS (SELECT 1 FROM accounts_user_groups person_group
               JOIN auth_group grp ON grp.id = person_group.group_id
               WHERE person_group.user_id = person.id AND grp.name = %s),
       EXISTS (SELECT 1 FROM accounts_user_groups person_group
               JOIN auth_group grp ON grp.id = person_group.group_id
               WHERE person_group.user_id = person.id AND grp.name = %s),
       organisation.slug, organisation.display_name
FROM accounts_user person
LEFT JOIN accounts_membership membership ON membership.user_id = person.id
LEFT JOIN accounts_organisationstaff staff ON staff.user_id = person.id
LEFT JOIN accounts_organisation organisation ON organisation.id = staff.organisation_id
WHERE person.id = %s
ORDER BY organisation.display_name, organisation.slug
"""

_STAFFED_ORGANISATION_SQL = """
SELECT organisation.* FROM accounts_organisation organisation
JOIN accounts_user_groups person_group ON person_group.group_id = organisation.staff_group_id
WHERE organisation.slug = %s AND person_group.user_id = %s
"""


def worker_profile_of(*, user: User) -> WorkerProfile | None:
    """The user's own worker profile, if they have one."""
    return WorkerProfile.objects.filter(user=user).first()


def user_roles(*, user: User) -> Roles:
    """``user_is_member``, ``user_is_treasurer``, juror opt-in and the organisations
    staffed (by display name), in one query: the person's row joined to their membership
    and their organisations, one row per organisation. Read on every ``/api/me/`` and
    every page's navigation."""
    with connection.cursor() as cursor:
        cursor.execute(_ROLES_SQL, [TREASURER_GROUP, VERIFIER_GROUP, MODERATOR_GROUP, user.pk])
        rows = cursor.fetchall()
    if not rows:  # deleted since the request authenticated
        return Roles(is_member=False, is_treasurer=False, is_juror=False, organisations=[])
    status, juror_opt_in, treasurer, verifier, moderator = rows[0][:5]
    member = status == Membership.Status.ACTIVE
    return Roles(
        is_member=member,
        is_treasurer=bool(treasurer),
        is_juror=bool(member and juror_opt_in),
        organisations=[StaffedOrganisation(slug=slug, display_name=name) for *_, slug, name in rows if slug],
        is_verifier=bool(verifier),
        is_moderator=bool(moderator),
    )


def access_organisation(*, user: User, slug: str) -> Organisation:
    """The organisation ``slug`` if ``user`` holds ``accounts.manage_organisation`` on it;
    otherwise ``NotFound``, so outsiders cannot even learn which slugs exist.

    That object permission is granted once, with guardian, to the organisation's staff
    group when the organisation is created (``services.organisation_create``), and to no
    user or other group; being on the staff is being in that group. So the check is one
    join on the group membership: guardian's ``get_objects_for_user`` answers the same,
    but it cost about 5 ms per request (2 ms building the query and a plan with
    four subqueries) on every organisation endpoint. A test holds the two to agreeing.
    """
    if not user.is_authenticated:
        raise NotFound("organisation")
    organisation = next(iter(Organisation.objects.raw(_STAFFED_ORGANISATION_SQL, [slug, user.pk])), None)
    if organisation is None:
        raise NotFound("organisation")
    return organisation


def organisation_public(*, slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug, verified_at__isnull=False).first()
    if organisation is None:
        raise NotFound("organisation")
    return organisation


def organisation_name_history(*, organisation: Organisation) -> QuerySet[OrganisationNameChange]:
    return organisation.name_changes.order_by("changed_at", "id")


def api_keys_for_organisation(*, organisation: Organisation) -> QuerySet[ApiKey]:
    return organisation.api_keys.order_by("-created_at")


def api_key_active(*, access_key_id: str) -> ApiKey | None:
    """An unrevoked key whose creator is still on the organisation's staff."""
    key = (
        ApiKey.objects.select_related("organisation", "created_by")
        .filter(access_key_id=access_key_id, revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.created_by.is_active:
        return None
    if not key.organisation.staff.filter(user=key.created_by).exists():
        return None
    return key


# --- Co-op staff roles ---------------------------------------------------------------------------


def user_staff_roles(*, user: User) -> set[str]:
    """The staff roles ``user`` holds now (``StaffRole`` values)."""
    if not user.is_authenticated:
        return set()
    names = set(user.groups.filter(name__in=STAFF_ROLE_GROUPS.values()).values_list("name", flat=True))
    return {role for role, group in STAFF_ROLE_GROUPS.items() if group in names}


def user_has_staff_role(*, user: User, role: str) -> bool:
    return bool(user.is_authenticated and user.groups.filter(name=STAFF_ROLE_GROUPS[StaffRole(role)]).exists())


# One whole sentence per role, and the roles held by their names in the reader's language.
ONLY_ROLE = {
    StaffRole.VERIFIER: gettext_lazy("Only a verifier can do this."),
    StaffRole.TREASURER: gettext_lazy("Only a treasurer can do this."),
    StaffRole.MODERATOR: gettext_lazy("Only a moderator can do this."),
}
ROLE_NAMES = {
    StaffRole.VERIFIER: gettext_lazy("Verifier"),
    StaffRole.TREASURER: gettext_lazy("Treasurer"),
    StaffRole.MODERATOR: gettext_lazy("Moderator"),
}


def require_staff_role(*, user: User, role: str, doing: str = "") -> None:
    """Raises ``permission_denied`` (403) unless ``user`` holds ``role`` now. ``doing`` is for
    the caller's reader of the code only: the message is one whole sentence per role."""
    if not user_has_staff_role(user=user, role=role):
        held = sorted(str(ROLE_NAMES[StaffRole(name)]) for name in user_staff_roles(user=user))
        roles = _("Your staff roles: %(roles)s.") % {"roles": ", ".join(held)} if held else _("You hold no staff role.")
        raise PermissionDenied(f"{ONLY_ROLE[StaffRole(role)]} {roles}")


def require_any_staff_role(*, user: User) -> set[str]:
    """The staff roles of ``user``; ``permission_denied`` if none (the console's door)."""
    roles = user_staff_roles(user=user)
    if not roles:
        raise PermissionDenied(_("The staff console is for the co-op's verifiers, treasurers and moderators."))
    return roles


def staff_appointments_public() -> QuerySet[StaffAppointment]:
    """Every appointment, current and ended, for the public list of role holders."""
    return StaffAppointment.objects.select_related("user").order_by("role", "-ended_at", "granted_at", "id")


# --- Requester teams -----------------------------------------------------------------------------

CAPABILITY_MANAGE = "manage"
CAPABILITY_PUBLISH = "publish"
CAPABILITY_REVIEW = "review"
CAPABILITY_FUNDS = "funds"

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    OrganisationStaff.Role.OWNER: frozenset(
        {CAPABILITY_MANAGE, CAPABILITY_PUBLISH, CAPABILITY_REVIEW, CAPABILITY_FUNDS}
    ),
    OrganisationStaff.Role.REVIEWER: frozenset({CAPABILITY_PUBLISH, CAPABILITY_REVIEW}),
    OrganisationStaff.Role.FINANCE: frozenset({CAPABILITY_FUNDS}),
}
# A refusal by role: one whole sentence per capability, naming the person's role.
_CAPABILITY_REFUSALS = {
    CAPABILITY_MANAGE: gettext_lazy(
        "Your role on %(organisation)s is “%(role)s”; only owners manage members and API keys."
    ),
    CAPABILITY_PUBLISH: gettext_lazy(
        "Your role on %(organisation)s is “%(role)s”; only owners and reviewers prepare and publish batches."
    ),
    CAPABILITY_REVIEW: gettext_lazy(
        "Your role on %(organisation)s is “%(role)s”; only owners and reviewers review submitted work."
    ),
    CAPABILITY_FUNDS: gettext_lazy(
        "Your role on %(organisation)s is “%(role)s”; only owners and finance fund and withdraw money."
    ),
}


def organisation_role(*, user: User, organisation: Organisation) -> str | None:
    return OrganisationStaff.objects.filter(organisation=organisation, user=user).values_list("role", flat=True).first()


def require_organisation_capability(
    *, user: User, organisation: Organisation, capability: str, api_key: ApiKey | None = None
) -> None:
    """Raises ``permission_denied`` (403) unless the caller may use ``capability`` on
    ``organisation``: an API key of the organisation by its scopes (keys act for the
    organisation, never manage members or keys), a person by their team role."""
    if api_key is not None:
        if api_key.organisation_id != organisation.pk:
            raise NotFound("organisation")
        if capability == CAPABILITY_MANAGE:
            raise PermissionDenied(_("An API key cannot manage members or keys; an owner signs in to do that."))
        if capability not in api_key.scopes:
            raise PermissionDenied(
                _(
                    "This API key lacks the '%(capability)s' scope (it has: %(value)s); an "
                    "owner can create a key with it."
                )
                % {"capability": capability, "value": ", ".join(api_key.scopes) or "none"}
            )
        return
    role = organisation_role(user=user, organisation=organisation)
    if role is None:
        raise NotFound("organisation")
    if capability not in ROLE_CAPABILITIES.get(role, frozenset()):
        raise PermissionDenied(
            _CAPABILITY_REFUSALS[capability] % {"organisation": organisation.display_name, "role": label(role)}
        )


def organisation_members(*, organisation: Organisation) -> QuerySet[OrganisationStaff]:
    return organisation.staff.select_related("user").order_by("added_at", "id")


def organisation_invitations_open(*, organisation: Organisation) -> QuerySet[OrganisationInvitation]:
    return organisation.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("-id")


# --- Verification --------------------------------------------------------------------------------


def organisation_verification_latest(*, organisation: Organisation) -> OrganisationVerification | None:
    """The organisation's most recent verification request, which its dashboard shows."""
    return organisation.verifications.order_by("-submitted_at", "-id").first()


def verification_queue(*, user: User) -> QuerySet[OrganisationVerification]:
    """Requests waiting for a verifier (submitted first, oldest first); verifiers only."""
    require_staff_role(user=user, role=StaffRole.VERIFIER, doing="see the verification queue")
    return (
        OrganisationVerification.objects.filter(state=OrganisationVerification.State.SUBMITTED)
        .select_related("organisation", "submitted_by")
        .order_by("submitted_at", "id")
    )


def verification_for_verifier(*, user: User, verification_id: int) -> OrganisationVerification:
    require_staff_role(user=user, role=StaffRole.VERIFIER, doing="read verification requests")
    verification = (
        OrganisationVerification.objects.select_related("organisation", "submitted_by", "decided_by")
        .filter(pk=verification_id)
        .first()
    )
    if verification is None:
        raise NotFound("verification request")
    return verification
