"""Reads of identities, each scoped to who may see them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import (
    TREASURER_GROUP,
    ApiKey,
    Membership,
    Organisation,
    OrganisationNameChange,
    OrganisationStaff,
    OrganisationStaffDeparture,
    User,
)
from core.errors import NotFound


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


# The two reads every signed-in request makes (``/api/me/`` or a page's navigation; the
# organisation of a requester endpoint) are written in SQL: the ORM spent about 1 ms
# building and compiling each of them, several times the database's own time for it.
# The tests check both against the ORM's and guardian's answers.
_ROLES_SQL = """
SELECT membership.status, membership.juror_opt_in,
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


def user_roles(*, user: User) -> Roles:
    """``user_is_member``, ``user_is_treasurer``, juror opt-in and the organisations
    staffed (by display name), in one query: the person's row joined to their membership
    and their organisations, one row per organisation. Read on every ``/api/me/`` and
    every page's navigation."""
    with connection.cursor() as cursor:
        cursor.execute(_ROLES_SQL, [TREASURER_GROUP, user.pk])
        rows = cursor.fetchall()
    if not rows:  # deleted since the request authenticated
        return Roles(is_member=False, is_treasurer=False, is_juror=False, organisations=[])
    status, juror_opt_in, treasurer = rows[0][:3]
    member = status == Membership.Status.ACTIVE
    return Roles(
        is_member=member,
        is_treasurer=bool(treasurer),
        is_juror=bool(member and juror_opt_in),
        organisations=[StaffedOrganisation(slug=slug, display_name=name) for *_, slug, name in rows if slug],
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
