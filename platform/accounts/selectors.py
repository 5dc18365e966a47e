"""Reads of identities, each scoped to who may see them."""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import TREASURER_GROUP, ApiKey, Membership, Organisation, OrganisationNameChange, User
from core.errors import NotFound


def user_is_treasurer(user: User) -> bool:
    return bool(user.is_authenticated and user.groups.filter(name=TREASURER_GROUP).exists())


def user_is_member(user: User) -> bool:
    return bool(user.is_authenticated and hasattr(user, "membership") and user.membership.status == "active")


def organisations_for_user(*, user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(staff__user=user).order_by("display_name")


@dataclass(frozen=True)
class Roles:
    """What a signed-in person is on the platform, as ``/api/me/`` and the navigation show it."""

    is_member: bool
    is_treasurer: bool
    is_juror: bool
    organisations: list[Organisation]


def user_roles(*, user: User) -> Roles:
    """``user_is_member``, ``user_is_treasurer``, juror opt-in and the organisations
    staffed, in two queries (the person's row with their membership and treasurer group,
    then their organisations): read on every ``/api/me/`` and every page's navigation."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(treasurer=Exists(Group.objects.filter(user=OuterRef("pk"), name=TREASURER_GROUP)))
        .values("membership__status", "membership__juror_opt_in", "treasurer")
        .get()
    )
    member = row["membership__status"] == Membership.Status.ACTIVE
    return Roles(
        is_member=member,
        is_treasurer=bool(row["treasurer"]),
        is_juror=bool(member and row["membership__juror_opt_in"]),
        organisations=list(organisations_for_user(user=user)),
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
    organisation = Organisation.objects.filter(slug=slug, staff_group__user=user).first()
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
