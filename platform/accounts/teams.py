"""A requester's team: owners invite people by e-mail with a role (owner, reviewer,
finance), change roles and remove members; never the last owner. An invitation is a
link carrying a token (only its hash is stored), accepted once by a signed-in person
whose e-mail address is the invited one."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import (
    Organisation,
    OrganisationInvitation,
    OrganisationStaff,
    OrganisationStaffDeparture,
    User,
)
from accounts.notices import notify_person
from core.audit import audit_record
from core.errors import AppError, NotFound

INVITATION_DAYS = 14
Role = OrganisationStaff.Role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> str:
    if role not in Role.values:
        raise AppError(
            "invalid",
            _("Choose a role: %(values)s.") % {"values": ", ".join(Role.values)},
            fields={"role": [_("Unknown role.")]},
        )
    return role


def invitation_create(
    *, organisation: Organisation, actor: User, email: str, role: str
) -> tuple[OrganisationInvitation, str]:
    """An owner invites ``email`` as ``role``; returns the invitation and its token (sent
    by e-mail, shown once). Raises ``permission_denied`` (not an owner), ``invalid``,
    ``already_member`` (409)."""
    selectors.require_organisation_capability(user=actor, organisation=organisation, capability="manage")
    role = _check_role(role)
    email = email.strip()
    if "@" not in email or len(email) > 254:
        raise AppError(
            "invalid", _("Give the e-mail address to invite."), fields={"email": [_("Not an e-mail address.")]}
        )
    if organisation.staff.filter(user__email__iexact=email).exists():
        raise AppError("already_member", _("%(email)s is on the team already.") % {"email": email}, status=409)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = OrganisationInvitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=_token_hash(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit_record(
            actor=actor, action="organisation.member_invited", target=organisation, after={"email": email, "role": role}
        )
        notify_person(
            email=email,
            category="team_invitation",
            params={
                "inviter": actor.username,
                "organisation": organisation.display_name,
                "role": role,
                "days": INVITATION_DAYS,
                "link": f"{settings.SITE_URL.rstrip('/')}/invitations/{token}/",
            },
            url=f"/invitations/{token}/",
        )
    return invitation, token


def invitation_for_token(*, token: str) -> OrganisationInvitation:
    invitation = (
        OrganisationInvitation.objects.select_related("organisation").filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None:
        raise NotFound("invitation")
    return invitation


def invitation_accept(*, token: str, user: User) -> OrganisationStaff:
    """The signed-in invited person joins the team with the invited role. Raises
    ``not_found``, ``invitation_used``/``invitation_expired`` (409), ``wrong_person`` (403)."""
    with transaction.atomic():
        invitation = OrganisationInvitation.objects.select_for_update().filter(token_hash=_token_hash(token)).first()
        if invitation is None:
            raise NotFound("invitation")
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise AppError("invitation_used", _("This invitation was used or withdrawn already."), status=409)
        if invitation.expires_at <= timezone.now():
            raise AppError("invitation_expired", _("This invitation has expired; ask for a new one."), status=409)
        if invitation.email.lower() != user.email.lower():
            raise AppError(
                "wrong_person",
                _("This invitation was sent to another e-mail address; sign in with that account."),
                status=403,
            )
        organisation = invitation.organisation
        if organisation.staff.filter(user=user).exists():
            raise AppError("already_member", _("You are on this team already."), status=409)
        member = _member_add(organisation=organisation, user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            actor=user,
            action="organisation.member_joined",
            target=organisation,
            after={"user": user.pk, "role": invitation.role, "invitation": invitation.pk},
        )
    return member


def _member_add(*, organisation: Organisation, user: User, role: str) -> OrganisationStaff:
    member = OrganisationStaff.objects.create(organisation=organisation, user=user, role=role)
    user.groups.add(organisation.staff_group)
    return member


def _owner_count(organisation: Organisation) -> int:
    return organisation.staff.filter(role=Role.OWNER).count()


def member_set_role(*, organisation: Organisation, actor: User, user: User, role: str) -> OrganisationStaff:
    """An owner changes a member's role. Raises ``permission_denied``, ``not_found``,
    ``last_owner`` (409: the team keeps at least one owner)."""
    selectors.require_organisation_capability(user=actor, organisation=organisation, capability="manage")
    role = _check_role(role)
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        member = OrganisationStaff.objects.select_for_update().filter(organisation=organisation, user=user).first()
        if member is None:
            raise NotFound("member")
        if member.role == Role.OWNER and role != Role.OWNER and _owner_count(organisation) <= 1:
            raise AppError("last_owner", _("The team must keep an owner; make someone else owner first."), status=409)
        before = member.role
        if before != role:
            member.role = role
            member.save(update_fields=["role"])
            audit_record(
                actor=actor,
                action="organisation.member_role_changed",
                target=organisation,
                before={"user": user.pk, "role": before},
                after={"user": user.pk, "role": role},
            )
    return member


def member_remove(*, organisation: Organisation, actor: User, user: User) -> None:
    """An owner removes a member (their keys keep working only while an owner created
    them: keys act for the organisation). Raises ``permission_denied``, ``not_found``,
    ``last_owner`` (409)."""
    selectors.require_organisation_capability(user=actor, organisation=organisation, capability="manage")
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        member = OrganisationStaff.objects.select_for_update().filter(organisation=organisation, user=user).first()
        if member is None:
            raise NotFound("member")
        if member.role == Role.OWNER and _owner_count(organisation) <= 1:
            raise AppError(
                "last_owner", _("The last owner cannot be removed; make someone else owner first."), status=409
            )
        member.delete()
        # Former staff stay barred from its tasks and cases for the governed former_staff_days.
        OrganisationStaffDeparture.objects.create(organisation=organisation, user=user, left_at=timezone.now())
        user.groups.remove(organisation.staff_group)
        audit_record(
            actor=actor,
            action="organisation.staff_removed",
            target=organisation,
            before={"user": user.pk, "role": member.role},
        )
