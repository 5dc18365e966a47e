"""Reads of the staff console, each refused to anyone without a staff role.

What staff see is bounded: organisations (state, name history, verification), people
(pseudonym, roles, suspension; never payout details) and the audit log, whose rows never
hold a ballot's choice, a juror's vote or a submission's answers (the services that write
them record only that they happened). Keys that could carry personal or secret data are
masked in the audit search all the same."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import (
    STAFF_ROLE_GROUPS,
    Organisation,
    OrganisationVerification,
    StaffAppointment,
    User,
)
from accounts.selectors import require_any_staff_role
from core.errors import AppError, NotFound
from core.models import AuditEvent

SEARCH_LIMIT = 200
# Audit values under these keys are shown as "[hidden]" in the console.
_MASKED_KEYS = ("iban", "secret", "token", "password", "account_number", "answers", "destination", "email")


def organisations_for_staff(*, user: User, query: str = "") -> QuerySet[Organisation]:
    """Organisations with their name history and verification requests, newest first."""
    require_any_staff_role(user=user)
    organisations = Organisation.objects.prefetch_related("name_changes", "verifications").order_by(
        "-created_at", "-id"
    )
    query = query.strip()
    if query:
        organisations = organisations.filter(
            Q(slug__icontains=query)
            | Q(display_name__icontains=query)
            | Q(legal_name__icontains=query)
            | Q(name_changes__old_name__icontains=query)
        ).distinct()
    return organisations[:SEARCH_LIMIT]


def organisation_state(organisation: Organisation) -> str:
    """``verified``, or the state of its latest verification request, or ``unsubmitted``."""
    if organisation.is_verified:
        return OrganisationVerification.State.VERIFIED
    requests = sorted(organisation.verifications.all(), key=lambda v: (v.submitted_at, v.pk), reverse=True)
    return requests[0].state if requests else "unsubmitted"


@dataclass(frozen=True)
class PersonRow:
    user: User
    roles: list[str]
    suspended: bool
    suspension_reason: str


def people_for_staff(*, user: User, query: str = "") -> list[PersonRow]:
    """People by user name or pseudonym, with their staff roles and any suspension."""
    require_any_staff_role(user=user)
    people = User.objects.prefetch_related("groups").order_by("username")
    query = query.strip()
    if query:
        people = people.filter(Q(username__icontains=query) | Q(pseudonym__iexact=query))
    return [person_row(person) for person in people[:SEARCH_LIMIT]]


def person_row(person: User) -> PersonRow:
    """A person as the console shows them (their groups prefetched or read here)."""
    group_roles = {group: role for role, group in STAFF_ROLE_GROUPS.items()}
    return PersonRow(
        user=person,
        roles=sorted(str(group_roles[g.name]) for g in person.groups.all() if g.name in group_roles),
        suspended=person.is_suspended,
        suspension_reason=person.suspension_text,
    )


def person_for_staff(*, user: User, person_id: int) -> User:
    require_any_staff_role(user=user)
    person = User.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound("person")
    return person


def _mask(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "[hidden]" if any(part in key.lower() for part in _MASKED_KEYS) else value for key, value in values.items()
    }


@dataclass(frozen=True)
class AuditRow:
    id: int
    created_at: Any
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any]
    after: dict[str, Any]


def audit_search(
    *, user: User, action: str = "", actor: str = "", target_type: str = "", target_id: str = ""
) -> list[AuditRow]:
    """The newest audit rows matching every given filter (action prefix, actor's user name,
    target type and id), at most ``SEARCH_LIMIT``."""
    require_any_staff_role(user=user)
    rows = AuditEvent.objects.select_related("actor").order_by("-id")
    if action.strip():
        rows = rows.filter(action__startswith=action.strip())
    if actor.strip():
        person = User.objects.filter(username=actor.strip()).first()
        if person is None:
            raise AppError(
                "invalid",
                _("No person with the user name '%(strip)s'.") % {"strip": actor.strip()},
                fields={"actor": [_("Unknown.")]},
            )
        rows = rows.filter(actor=person)
    if target_type.strip():
        rows = rows.filter(target_type=target_type.strip().lower())
    if target_id.strip():
        rows = rows.filter(target_id=target_id.strip())
    return [
        AuditRow(
            id=row.pk,
            created_at=row.created_at,
            actor=row.actor.username if row.actor else row.actor_kind,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            before=_mask(row.before),
            after=_mask(row.after),
        )
        for row in rows[:SEARCH_LIMIT]
    ]


def role_holders_public() -> QuerySet[StaffAppointment]:
    """Who holds or held which role since when, for everyone to read."""
    return StaffAppointment.objects.select_related("user").order_by("role", "ended_at", "granted_at", "id")
