"""What every lifecycle of the marketplace's writes shares: the field-error shape, the
staff check and the row locks (batch, then assignments in ascending id)."""

from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from core.errors import AppError, PermissionDenied
from tasks.models import Assignment, Batch


def _invalid(fields: dict[str, list[str]]) -> AppError:
    first_name, first_errors = next(iter(fields.items()))
    return AppError("invalid", f"{first_name}: {first_errors[0]}", fields=fields)


def _require_staff(actor: User, organisation: Organisation) -> None:
    if not actor.has_perm("accounts.manage_organisation", organisation):
        raise PermissionDenied(_("Only the organisation's staff can do that."))


def _lock_batch(batch: Batch) -> Batch:
    return Batch.objects.select_for_update().get(pk=batch.pk)


def _lock_assignment(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_for_update(of=("self",)).select_related("batch").get(pk=assignment.pk)
