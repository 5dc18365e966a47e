"""Reads of identities, each scoped to who may see them."""

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from accounts.models import TREASURER_GROUP, ApiKey, Organisation, OrganisationNameChange, User
from core.errors import NotFound


def user_is_treasurer(user: User) -> bool:
    return bool(user.is_authenticated and user.groups.filter(name=TREASURER_GROUP).exists())


def user_is_member(user: User) -> bool:
    return bool(user.is_authenticated and hasattr(user, "membership") and user.membership.status == "active")


def organisations_for_user(*, user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(staff__user=user).order_by("display_name")


def access_organisation(*, user: User, slug: str) -> Organisation:
    """The organisation ``slug`` if ``user`` is on its staff (checked with guardian);
    otherwise ``NotFound``, so outsiders cannot even learn which slugs exist."""
    if not user.is_authenticated:
        raise NotFound("organisation")
    # One query: the organisation, filtered by the user's (or their groups') object
    # permission. Only object permissions count: staff hold it through their
    # organisation's staff group, and no one is given it globally.
    organisation = get_objects_for_user(
        user, "accounts.manage_organisation", Organisation.objects.filter(slug=slug), accept_global_perms=False
    ).first()
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
