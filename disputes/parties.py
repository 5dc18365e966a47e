"""Who is who in a case: the worker side, the requester side, and the permission that lets
parties and drawn jurors see it. No dependency on the marketplace's services, so the
marketplace can call ``disputes.selectors`` without an import cycle."""

from django.utils.translation import gettext_lazy

from accounts.models import StaffRole, User
from accounts.selectors import user_has_staff_role
from disputes.models import Case, CaseItem

VIEW_CASE = "disputes.view_case"
WORKER = "worker"
REQUESTER = "requester"
JUROR = "juror"

# Refusing an action that belongs to one role in a case: one whole sentence per role.
ONLY_ROLE = {
    WORKER: gettext_lazy("Only the worker in this case can do that."),
    REQUESTER: gettext_lazy("Only the requester in this case can do that."),
    JUROR: gettext_lazy("Only a juror seated on this case can do that."),
}


def worker_labels(case: Case) -> dict[int, str]:
    """The pseudonyms jurors see for a case's workers: "Worker" alone, or "Worker 1",
    "Worker 2", ... in ascending user id over every item the case ever held, so a label
    never changes when a worker leaves for a case of their own."""
    worker_ids = sorted(set(CaseItem.objects.filter(case=case).values_list("worker_id", flat=True)))
    if len(worker_ids) == 1:
        return {worker_ids[0]: "Worker"}
    return {worker_id: f"Worker {index}" for index, worker_id in enumerate(worker_ids, start=1)}


def held_worker_ids(case: Case) -> list[int]:
    """The workers whose items the case still holds (not split out), ascending."""
    return sorted(
        set(CaseItem.objects.filter(case=case, state=CaseItem.State.HELD).values_list("worker_id", flat=True))
    )


def case_side(*, case: Case, user: User) -> str | None:
    """``"worker"`` or ``"requester"`` if ``user`` is a party to ``case``, else None.

    The requester side is the organisation's staff, or for a suspension appeal the
    moderator who suspended (any moderator if that is not recorded).
    """
    if case.worker_id == user.pk:
        return WORKER
    if (
        case.kind == Case.Kind.MASS_REJECTION
        and case.items.filter(worker=user).exclude(state=CaseItem.State.SPLIT).exists()
    ):
        return WORKER
    if case.kind == Case.Kind.SUSPENSION:
        if case.respondent_id == user.pk or (
            case.respondent_id is None and user_has_staff_role(user=user, role=StaffRole.MODERATOR)
        ):
            return REQUESTER
        return None
    if case.organisation is not None and user.has_perm("accounts.manage_organisation", case.organisation):
        return REQUESTER
    return None
