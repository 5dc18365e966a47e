"""Writes of the co-op's staff roles (verifier, treasurer, moderator).

A role is granted or removed only by an adopted governance proposal of the appointments
class (``governance.services.proposal_take_effect`` calls in here), or, on a new
installation with no holder of any role yet, by the bootstrap command
(``manage.py staff_bootstrap``). Each change keeps the public record
(``StaffAppointment``) and the group the permission checks read in step, in one
transaction, with an audit row."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import STAFF_ROLE_GROUPS, StaffAppointment, StaffRole, User
from core.audit import audit_record
from core.errors import AppError
from core.labels import label


def _check_role(role: str) -> StaffRole:
    if role not in StaffRole.values:
        raise AppError(
            "invalid",
            _("There is no staff role “%(role)s”; the staff roles are: %(roles)s.")
            % {"role": role, "roles": ", ".join(label(value) for value in StaffRole.values)},
            fields={"role": [_("Unknown.")]},
        )
    return StaffRole(role)


def staff_role_grant(
    *, user: User, role: str, source: str, proposal_id: int | None = None, actor: User | None = None
) -> StaffAppointment:
    """Appoints ``user`` to ``role``. Idempotent: an open appointment is returned as it is.
    The caller (a proposal taking effect, the bootstrap) has decided; this trusts it."""
    staff_role = _check_role(role)
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        current = StaffAppointment.objects.filter(user=user, role=staff_role, ended_at__isnull=True).first()
        if current is not None:
            return current
        appointment = StaffAppointment.objects.create(
            user=user, role=staff_role, source=source, granted_by_proposal_id=proposal_id, granted_at=timezone.now()
        )
        group, _created = Group.objects.get_or_create(name=STAFF_ROLE_GROUPS[staff_role])
        user.groups.add(group)
        audit_record(
            actor=actor,
            action="staff_role.granted",
            target=user,
            after={"role": staff_role.value, "source": source, "proposal": proposal_id},
        )
    return appointment


def staff_role_remove(*, user: User, role: str, proposal_id: int | None = None, actor: User | None = None) -> None:
    """Ends ``user``'s appointment to ``role`` (the record stays, with its end). Raises
    ``not_appointed`` (409) when the person does not hold the role."""
    staff_role = _check_role(role)
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        current = (
            StaffAppointment.objects.select_for_update()
            .filter(user=user, role=staff_role, ended_at__isnull=True)
            .first()
        )
        if current is None:
            raise AppError(
                "not_appointed",
                _("%(username)s does not hold the role %(value)s.")
                % {"username": user.username, "value": staff_role.value},
                status=409,
            )
        current.ended_at = timezone.now()
        current.ended_by_proposal_id = proposal_id
        current.save(update_fields=["ended_at", "ended_by_proposal_id"])
        group = Group.objects.filter(name=STAFF_ROLE_GROUPS[staff_role]).first()
        if group is not None:
            user.groups.remove(group)
        audit_record(
            actor=actor,
            action="staff_role.removed",
            target=user,
            after={"role": staff_role.value, "proposal": proposal_id},
        )


def staff_roles_bootstrap(*, holders: list[tuple[User, str]]) -> list[StaffAppointment]:
    """Appoints the first holders of a new installation. Refused (``staff_exists``, 409,
    nothing changed) once anyone holds any staff role: from then on only the members'
    vote appoints and removes."""
    if not holders:
        raise AppError("invalid", _("Name at least one first holder (person and role)."))
    for _unused, role in holders:
        _check_role(role)
    with transaction.atomic():
        # Serialises concurrent bootstraps on the groups' rows.
        groups = [Group.objects.get_or_create(name=name)[0] for name in STAFF_ROLE_GROUPS.values()]
        list(Group.objects.select_for_update().filter(pk__in=[g.pk for g in groups]))
        if (
            StaffAppointment.objects.filter(ended_at__isnull=True).exists()
            or User.groups.through.objects.filter(group__in=groups).exists()
        ):
            raise AppError(
                "staff_exists",
                _("Staff roles already have holders; roles now change only by an adopted appointment proposal."),
                status=409,
            )
        return [
            staff_role_grant(user=user, role=role, source=StaffAppointment.Source.BOOTSTRAP) for user, role in holders
        ]
