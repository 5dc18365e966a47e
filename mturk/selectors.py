"""Reads behind the MTurk operations, each scoped to the calling organisation.

HITs are reached through the marketplace's ``access_batch`` (guardian permissions
of the key creator), submissions only through ``submissions_for_requester`` /
``submission_for_requester``, which return escrow-backed work only.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Organisation, User
from core.errors import NotFound
from ledger.selectors import organisation_balances
from mturk.ids import assignment_pk_from_public_id, assignment_public_id
from mturk.models import Hit, HitType, QualificationRequest, QualificationTypeInfo
from tasks import play
from tasks import selectors as task_selectors
from tasks.models import Assignment, Batch, BlockedWorker, Bonus, Qualification, QualificationGrant

# Assignment states as MTurk names them (only work a requester may see is mapped).
MTURK_ASSIGNMENT_STATUS = {
    "submitted": "Submitted",
    "approved": "Approved",
    "settled": "Approved",
    "rejected": "Rejected",
    "disputed": "Rejected",
}
COMPLETED_STATUSES = ("approved", "rejected", "disputed", "refunded", "settled")


def access_hit(
    *,
    organisation: Organisation,
    actor: User,
    hit_id: str,
    permission: str = "tasks.view_batch",
    sandbox: bool = False,
) -> Hit:
    """The organisation's HIT ``hit_id`` if ``actor`` holds ``permission`` on its batch; a
    sandbox HIT only through the sandbox endpoint and a real one only through the real one."""
    hit = (
        Hit.objects.select_related("hit_type", "batch", "task")
        .filter(organisation=organisation, hit_id=hit_id, batch__is_sandbox=sandbox)
        .first()
    )
    if hit is None:
        raise NotFound("HIT")
    task_selectors.access_batch(user=actor, batch_id=hit.batch_id, permission=permission)
    return hit


def hits_for_organisation(*, organisation: Organisation, sandbox: bool = False) -> QuerySet[Hit]:
    return (
        Hit.objects.filter(organisation=organisation, disposed_at__isnull=True, batch__is_sandbox=sandbox)
        .select_related("hit_type", "batch", "task")
        .order_by("id")
    )


def reviewable_hits(
    *, organisation: Organisation, reviewing: bool, hit_type_id: str | None = None, sandbox: bool = False
) -> QuerySet[Hit]:
    """HITs in MTurk's Reviewable state (nothing accepted and nothing left to claim) or,
    with ``reviewing``, those the requester marked as being reviewed."""
    hits = hits_for_organisation(organisation=organisation, sandbox=sandbox).filter(reviewing=reviewing)
    if hit_type_id:
        hits = hits.filter(hit_type__hit_type_id=hit_type_id)
    if reviewing:
        return hits
    now = timezone.now()
    slots = Assignment.objects.filter(batch_id=OuterRef("batch_id"))
    claimable = Q(batch__status=Batch.Status.PUBLISHED, batch__expires_at__gt=now) & Exists(
        slots.filter(status=Assignment.Status.OPEN)
    )
    return hits.filter(~Exists(slots.filter(status=Assignment.Status.ACCEPTED))).exclude(claimable)


def access_hit_type(*, organisation: Organisation, hit_type_id: str) -> HitType:
    hit_type = HitType.objects.filter(organisation=organisation, hit_type_id=hit_type_id).first()
    if hit_type is None:
        raise NotFound("HIT type")
    return hit_type


def hit_counts(*, batch_ids: list[int]) -> dict[int, dict[str, int]]:
    """Assignment counts per status for each batch, in one query."""
    counts: dict[int, dict[str, int]] = {batch_id: {} for batch_id in batch_ids}
    rows = (
        Assignment.objects.filter(batch_id__in=batch_ids)
        .values("batch_id", "status")
        .annotate(n=Count("id"))
        .values_list("batch_id", "status", "n")
    )
    for batch_id, status, n in rows:
        counts[batch_id][status] = n
    return counts


def hit_status(hit: Hit, counts: dict[str, int], now: datetime | None = None) -> str:
    """MTurk's HITStatus of ``hit`` from its batch and assignment counts."""
    if hit.disposed_at is not None:
        return "Disposed"
    if hit.reviewing:
        return "Reviewing"
    now = now or timezone.now()
    batch = hit.batch
    live = batch.status == Batch.Status.PUBLISHED and batch.expires_at is not None and batch.expires_at > now
    if live and counts.get("open", 0):
        return "Assignable"
    if counts.get("accepted", 0) or batch.status == Batch.Status.PAUSED:
        return "Unassignable"
    return "Reviewable"


def access_assignment(
    *, organisation: Organisation, actor: User, assignment_id: str, sandbox: bool = False
) -> Assignment:
    """Submitted, escrow-backed work of one of the organisation's HITs, by its MTurk id
    (of a sandbox HIT only with ``sandbox``, of a real one only without)."""
    pk = assignment_pk_from_public_id(assignment_id)
    batch_id = (
        Assignment.objects.filter(pk=pk or 0, batch__mturk_hit__organisation=organisation, batch__is_sandbox=sandbox)
        .values_list("batch_id", flat=True)
        .first()
    )
    if batch_id is None:
        raise NotFound("assignment")
    batch = task_selectors.access_batch(user=actor, batch_id=batch_id, permission="tasks.view_batch")
    try:
        return task_selectors.submission_for_requester(batch=batch, assignment_id=pk or 0)
    except NotFound:
        raise NotFound("submitted assignment") from None


def worker_by_id(*, worker_id: str) -> User:
    """The worker whose pseudonym is ``worker_id`` (MTurk's WorkerId)."""
    worker = User.objects.filter(pseudonym=worker_id, is_active=True).first()
    if worker is None:
        raise NotFound("worker")
    return worker


def worker_has_worked_for(*, organisation: Organisation, worker: User, sandbox: bool = False) -> bool:
    """Whether ``worker`` worked on the organisation's HITs: sandbox HITs with ``sandbox``
    (the sandbox endpoint), real ones without."""
    return Assignment.objects.filter(
        batch__organisation=organisation, batch__is_sandbox=sandbox, worker=worker
    ).exists()


def bonuses(
    *, organisation: Organisation, hit: Hit | None = None, assignment: Assignment | None = None, sandbox: bool = False
) -> QuerySet[Bonus]:
    rows = Bonus.objects.filter(
        assignment__batch__organisation=organisation, assignment__batch__is_sandbox=sandbox, kind=Bonus.Kind.BONUS
    ).select_related("worker")
    if hit is not None:
        rows = rows.filter(assignment__task_id=hit.task_id)
    if assignment is not None:
        rows = rows.filter(assignment=assignment)
    return rows.order_by("id")


def access_qualification(
    *, organisation: Organisation, qualification_type_id: str, sandbox: bool = False
) -> Qualification:
    """The organisation's qualification with its MTurk attributes (``mturk_info``): a
    sandbox one only through the sandbox endpoint (``sandbox``), a real one only without,
    so a script tested in the sandbox never grants or revokes a real qualification."""
    pk = int(qualification_type_id) if qualification_type_id.isdigit() and len(qualification_type_id) < 18 else 0
    qualification = (
        Qualification.objects.select_related("mturk_info")
        .filter(organisation=organisation, pk=pk, is_sandbox=sandbox)
        .first()
    )
    if qualification is None:
        raise NotFound("qualification type")
    return qualification


def qualification_info(qualification: Qualification) -> QualificationTypeInfo:
    """MTurk's attributes of ``qualification``; defaults (unsaved) for one made outside MTurk."""
    try:
        return qualification.mturk_info  # type: ignore[attr-defined]
    except QualificationTypeInfo.DoesNotExist:
        return QualificationTypeInfo(qualification=qualification)


def qualifications_for_organisation(
    *, organisation: Organisation, query: str = "", requestable_only: bool = False, sandbox: bool = False
) -> QuerySet[Qualification]:
    rows = (
        Qualification.objects.filter(organisation=organisation, is_sandbox=sandbox)
        .exclude(mturk_info__status=QualificationTypeInfo.Status.DISPOSED)
        .select_related("mturk_info")
        .order_by("id")
    )
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(description__icontains=query))
    if requestable_only:
        rows = rows.exclude(mturk_info__status=QualificationTypeInfo.Status.INACTIVE)
    return rows


def qualification_grants(*, qualification: Qualification) -> QuerySet[QualificationGrant]:
    return QualificationGrant.objects.filter(qualification=qualification).select_related("worker").order_by("id")


def qualification_grant_of(*, qualification: Qualification, worker: User) -> QualificationGrant | None:
    return QualificationGrant.objects.filter(qualification=qualification, worker=worker).first()


def qualification_requests(
    *, organisation: Organisation, qualification: Qualification | None = None, sandbox: bool = False
) -> QuerySet[QualificationRequest]:
    rows = QualificationRequest.objects.filter(
        qualification__organisation=organisation,
        qualification__is_sandbox=sandbox,
        status=QualificationRequest.Status.PENDING,
    ).select_related("worker", "qualification")
    if qualification is not None:
        rows = rows.filter(qualification=qualification)
    return rows.order_by("id")


def access_qualification_request(
    *, organisation: Organisation, request_id: str, sandbox: bool = False
) -> QualificationRequest:
    pk = int(request_id) if request_id.isdigit() and len(request_id) < 18 else 0
    found = (
        QualificationRequest.objects.select_related("worker", "qualification")
        .filter(pk=pk, qualification__organisation=organisation, qualification__is_sandbox=sandbox)
        .first()
    )
    if found is None:
        raise NotFound("qualification request")
    return found


def hits_for_qualification(
    *, organisation: Organisation, qualification: Qualification, sandbox: bool = False
) -> QuerySet[Hit]:
    return (
        hits_for_organisation(organisation=organisation, sandbox=sandbox)
        .filter(batch__requirements__qualification=qualification)
        .distinct()
    )


def worker_blocks(*, organisation: Organisation) -> QuerySet[BlockedWorker]:
    return BlockedWorker.objects.filter(organisation=organisation).select_related("worker").order_by("id")


@dataclass(frozen=True)
class AccountBalance:
    available: int
    on_hold: int
    currency: str


def sandbox_account_balance(*, organisation: Organisation) -> AccountBalance:
    """The organisation's play money (issue 24.6, ``tasks.play``): what is available and what
    its sandbox HITs hold. No ledger read."""
    book = play.play_balance(organisation=organisation)
    return AccountBalance(available=book.available, on_hold=book.held, currency=book.currency)


def account_balance(*, organisation: Organisation) -> AccountBalance:
    """Available funds and funds held in escrow for published work, in minor units."""
    balances = organisation_balances(organisation=organisation)
    escrow = balances["escrow"]
    return AccountBalance(
        available=balances["available"].available,
        on_hold=escrow.credits_pending - escrow.debits_pending + escrow.posted,
        currency=balances["available"].currency,
    )


def hit_results_export(*, hit: Hit) -> tuple[list[str], list[dict[str, str]]]:
    """The marketplace's batch-results export of ``hit`` (paid work only) with the ids
    MTurk clients know: the HIT type's HITTypeId and the tagged AssignmentIds."""
    columns, rows = task_selectors.batch_results_export(batch=hit.batch)
    for row in rows:
        row["HITTypeId"] = hit.hit_type.hit_type_id
        row["AssignmentId"] = assignment_public_id(int(row["AssignmentId"]))
    return columns, rows
