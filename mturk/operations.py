"""The 39 operations of mturk-requester 2017-01-17, each translated onto the marketplace.

Every handler takes the verified caller and the parameters (already checked
against the operation's input shape) and returns a mapping in the operation's
output shape. Marketplace refusals (``core.errors.AppError``) become MTurk's error
shape in ``mturk.dispatch``.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core import signing
from django.db import transaction
from django.db.models import Model, QuerySet

from accounts.models import ApiKey, Organisation, User
from core.errors import AppError, NotFound
from mturk import questions, selectors, services
from mturk.ids import assignment_public_id
from mturk.models import Hit, HitType, QualificationRequest, QualificationTypeInfo
from mturk.protocol import CODE_NOT_FOUND, CODE_UNSUPPORTED, MTurkError
from tasks import services as task_services
from tasks.models import Assignment, Batch, BlockedWorker, Bonus, Qualification, QualificationGrant
from tasks.states import REJECTION_REASONS

DEFAULT_PAGE_SIZE = 100
_TOKEN_SALT = "mturk.next-token"
# Tokens outlive a long export but not forever.
_TOKEN_MAX_AGE_SECONDS = 7 * 24 * 3600

Row = TypeVar("Row", bound=Model)


@dataclass(frozen=True)
class Caller:
    organisation: Organisation
    actor: User  # the key's creator, a member of the organisation's staff
    key: ApiKey
    # Called at /mturk/sandbox/: every HIT made is a sandbox batch (play money, issue 24.6)
    # and only sandbox HITs are seen; the real endpoint never sees them.
    sandbox: bool = False


Handler = Callable[[Caller, dict[str, Any]], dict[str, Any]]


# --- Shapes ------------------------------------------------------------------------------------


def _reward(amount: int) -> str:
    return services.reward_text(amount)


def _hit_dict(hit: Hit, counts: dict[str, int]) -> dict[str, Any]:
    batch, hit_type = hit.batch, hit.hit_type
    return {
        "HITId": hit.hit_id,
        "HITTypeId": hit_type.hit_type_id,
        "HITGroupId": hit_type.hit_type_id,
        "CreationTime": hit.created_at,
        # Marked on every answer, as a sandbox HIT's title is nowhere a real one's.
        "Title": f"[SANDBOX] {batch.title}" if batch.is_sandbox else batch.title,
        "Description": batch.description,
        "Question": hit.question_xml,
        "Keywords": batch.keywords,
        "HITStatus": selectors.hit_status(hit, counts),
        "MaxAssignments": batch.assignments_per_task,
        "Reward": _reward(batch.reward),
        "AutoApprovalDelayInSeconds": batch.effective_auto_approval_hours * 3600,
        "Expiration": batch.ended_at
        if batch.ended_at and batch.status in (Batch.Status.CANCELLED, Batch.Status.EXPIRED)
        else batch.expires_at,
        "AssignmentDurationInSeconds": hit_type.assignment_duration_seconds,
        "RequesterAnnotation": hit.requester_annotation or None,
        "QualificationRequirements": hit_type.qualification_requirements,
        "HITReviewStatus": "MarkedForReview" if hit.reviewing else "NotReviewed",
        "NumberOfAssignmentsPending": counts.get("accepted", 0),
        "NumberOfAssignmentsAvailable": counts.get("open", 0)
        if batch.status in (Batch.Status.PUBLISHED, Batch.Status.PAUSED)
        else 0,
        "NumberOfAssignmentsCompleted": sum(counts.get(s, 0) for s in selectors.COMPLETED_STATUSES),
    }


def _hits(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    counts = selectors.hit_counts(batch_ids=[hit.batch_id for hit in hits])
    return [_hit_dict(hit, counts[hit.batch_id]) for hit in hits]


def _assignment_dict(assignment: Assignment, hit: Hit) -> dict[str, Any]:
    status = selectors.MTURK_ASSIGNMENT_STATUS[assignment.status]
    selection_ids = questions.selection_question_ids(hit.question_xml) if hit.question_kind == "form" else frozenset()
    return {
        "AssignmentId": assignment_public_id(assignment.pk),
        "WorkerId": assignment.worker.pseudonym if assignment.worker else "",
        "HITId": hit.hit_id,
        "AssignmentStatus": status,
        "AutoApprovalTime": assignment.auto_approve_at,
        "AcceptTime": assignment.accepted_at,
        "SubmitTime": assignment.submitted_at,
        "ApprovalTime": (assignment.approved_at or assignment.finalised_at) if status == "Approved" else None,
        "RejectionTime": assignment.rejected_at if status == "Rejected" else None,
        "Deadline": assignment.deadline_at,
        "Answer": questions.answers_xml(assignment.answers, selection_ids=selection_ids),
        "RequesterFeedback": (assignment.requester_feedback or assignment.rejection_text) or None,
    }


def _qualification_type_dict(qualification: Qualification) -> dict[str, Any]:
    info = selectors.qualification_info(qualification)
    return {
        "QualificationTypeId": str(qualification.pk),
        "CreationTime": qualification.created_at,
        "Name": qualification.name,
        "Description": qualification.description,
        "Keywords": info.keywords or None,
        "QualificationTypeStatus": "Active" if info.status == QualificationTypeInfo.Status.ACTIVE else "Inactive",
        "Test": info.test_xml or None,
        "TestDurationInSeconds": info.test_duration_seconds,
        "AnswerKey": info.answer_key_xml or None,
        "RetryDelayInSeconds": info.retry_delay_seconds,
        "IsRequestable": info.status == QualificationTypeInfo.Status.ACTIVE,
        "AutoGranted": info.auto_granted,
        "AutoGrantedValue": info.auto_granted_value,
    }


def _grant_dict(grant: QualificationGrant) -> dict[str, Any]:
    return {
        "QualificationTypeId": str(grant.qualification_id),
        "WorkerId": grant.worker.pseudonym,
        "GrantTime": grant.granted_at,
        "IntegerValue": grant.value,
        "Status": "Granted",
    }


def _bonus_dict(bonus: Bonus) -> dict[str, Any]:
    return {
        "WorkerId": bonus.worker.pseudonym,
        "BonusAmount": _reward(bonus.amount),
        "AssignmentId": assignment_public_id(bonus.assignment_id),
        "Reason": bonus.reason,
        "GrantTime": bonus.created_at,
    }


def _request_dict(request: QualificationRequest) -> dict[str, Any]:
    info = selectors.qualification_info(request.qualification)
    return {
        "QualificationRequestId": str(request.pk),
        "QualificationTypeId": str(request.qualification_id),
        "WorkerId": request.worker.pseudonym,
        "Test": info.test_xml or None,
        "Answer": questions.answers_xml(request.answers) if request.answers else None,
        "SubmitTime": request.submitted_at,
    }


# --- Pagination --------------------------------------------------------------------------------


def _page_size(params: dict[str, Any]) -> int:
    return int(params.get("MaxResults") or DEFAULT_PAGE_SIZE)


def _after(caller: Caller, operation: str, params: dict[str, Any]) -> int:
    token = params.get("NextToken")
    if not token:
        return 0
    try:
        data = signing.loads(token, salt=_TOKEN_SALT, max_age=_TOKEN_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise MTurkError("The NextToken is not valid (or has expired); start the listing again without it.") from None
    if data.get("op") != operation or data.get("org") != caller.organisation.pk:
        raise MTurkError("The NextToken belongs to another listing; start the listing again without it.")
    return int(data["after"])


def _next_token(caller: Caller, operation: str, last_pk: int) -> str:
    return signing.dumps({"op": operation, "org": caller.organisation.pk, "after": last_pk}, salt=_TOKEN_SALT)


def paginate(
    caller: Caller, operation: str, params: dict[str, Any], rows: QuerySet[Row] | Iterable[Row]
) -> tuple[list[Row], str | None]:
    """One page of ``rows`` (ordered by id) after the NextToken's position, and the token
    for the next page (None on the last). Keyset pagination: stable while rows are added."""
    size = _page_size(params)
    after = _after(caller, operation, params)
    if isinstance(rows, QuerySet):
        window = list(rows.filter(pk__gt=after)[: size + 1])
    else:
        window = [row for row in rows if int(row.pk) > after][: size + 1]
    page = window[:size]
    more = len(window) > size
    return page, (_next_token(caller, operation, int(page[-1].pk)) if more and page else None)


def _listing(key: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    return {key: items, "NumResults": len(items), "NextToken": token}


# --- HIT types and HITs -------------------------------------------------------------------------


def _refuse_unsupported_hit_parameters(params: dict[str, Any]) -> None:
    if params.get("AssignmentReviewPolicy") or params.get("HITReviewPolicy"):
        raise MTurkError(
            "Review policies are not supported: every submission is reviewed with ApproveAssignment or "
            "RejectAssignment (a rejection needs a reason and can be disputed).",
            CODE_UNSUPPORTED,
        )
    if params.get("HITLayoutId") or params.get("HITLayoutParameters"):
        raise MTurkError("HIT layouts are not available here; send the Question XML instead.", CODE_UNSUPPORTED)
    if not params.get("Question"):
        raise MTurkError("Send a Question (HTMLQuestion, ExternalQuestion or QuestionForm XML).")


def _register_type(caller: Caller, params: dict[str, Any]) -> HitType:
    return services.hit_type_register(
        organisation=caller.organisation,
        actor=caller.actor,
        title=params["Title"],
        description=params["Description"],
        reward=params["Reward"],
        assignment_duration_seconds=int(params["AssignmentDurationInSeconds"]),
        keywords=params.get("Keywords", ""),
        auto_approval_delay_seconds=params.get("AutoApprovalDelayInSeconds"),
        qualification_requirements=params.get("QualificationRequirements"),
        sandbox=caller.sandbox,
    )


def create_hit_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return {"HITTypeId": _register_type(caller, params).hit_type_id}


def _create_hit(caller: Caller, params: dict[str, Any], hit_type: HitType) -> dict[str, Any]:
    hit = services.hit_create(
        organisation=caller.organisation,
        actor=caller.actor,
        hit_type=hit_type,
        max_assignments=int(params.get("MaxAssignments") or 1),
        lifetime_seconds=int(params["LifetimeInSeconds"]),
        question_xml=params["Question"],
        requester_annotation=params.get("RequesterAnnotation", ""),
        sandbox=caller.sandbox,
    )
    hit = Hit.objects.select_related("hit_type", "batch", "task").get(pk=hit.pk)
    return {"HIT": _hits([hit])[0]}


def create_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _refuse_unsupported_hit_parameters(params)
    # One transaction: a refused HIT leaves no HIT type behind either.
    with transaction.atomic():
        return _create_hit(caller, params, _register_type(caller, params))


def create_hit_with_hit_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _refuse_unsupported_hit_parameters(params)
    hit_type = selectors.access_hit_type(organisation=caller.organisation, hit_type_id=params["HITTypeId"])
    return _create_hit(caller, params, hit_type)


def _hit(caller: Caller, hit_id: str, permission: str = "tasks.view_batch") -> Hit:
    return selectors.access_hit(
        organisation=caller.organisation,
        actor=caller.actor,
        hit_id=hit_id,
        permission=permission,
        sandbox=caller.sandbox,
    )


def get_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return {"HIT": _hits([_hit(caller, params["HITId"])])[0]}


def list_hits(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    page, token = paginate(
        caller,
        "ListHITs",
        params,
        selectors.hits_for_organisation(organisation=caller.organisation, sandbox=caller.sandbox),
    )
    return _listing("HITs", _hits(page), token)


def list_reviewable_hits(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    rows = selectors.reviewable_hits(
        organisation=caller.organisation,
        reviewing=params.get("Status") == "Reviewing",
        hit_type_id=params.get("HITTypeId"),
        sandbox=caller.sandbox,
    )
    page, token = paginate(caller, "ListReviewableHITs", params, rows)
    return _listing("HITs", _hits(page), token)


def update_expiration_for_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    hit = _hit(caller, params["HITId"], "tasks.change_batch")
    expire_at = params["ExpireAt"]
    if not isinstance(expire_at, datetime):
        raise MTurkError("ExpireAt must be a timestamp.")
    services.hit_update_expiration(hit=hit, actor=caller.actor, expire_at=expire_at)
    return {}


def update_hit_review_status(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    hit = _hit(caller, params["HITId"], "tasks.review_batch")
    services.hit_set_reviewing(hit=hit, actor=caller.actor, reviewing=not params.get("Revert", False))
    return {}


def update_hit_type_of_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    hit = _hit(caller, params["HITId"], "tasks.change_batch")
    hit_type = selectors.access_hit_type(organisation=caller.organisation, hit_type_id=params["HITTypeId"])
    services.hit_change_type(hit=hit, actor=caller.actor, hit_type=hit_type)
    return {}


def create_additional_assignments_for_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    hit = _hit(caller, params["HITId"], "tasks.change_batch")
    services.hit_add_assignments(hit=hit, actor=caller.actor, count=int(params["NumberOfAdditionalAssignments"]))
    return {}


def delete_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    services.hit_dispose(hit=_hit(caller, params["HITId"], "tasks.change_batch"), actor=caller.actor)
    return {}


def list_review_policy_results_for_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    # Review policies cannot be set here (CreateHIT refuses them), so a HIT has no results.
    hit = _hit(caller, params["HITId"])
    return {"HITId": hit.hit_id}


# --- Assignments --------------------------------------------------------------------------------


def list_assignments_for_hit(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """Only escrow-backed work (``submissions_for_requester``); finally rejected work is gone."""
    from tasks.selectors import submissions_for_requester

    hit = _hit(caller, params["HITId"])
    wanted = set(params.get("AssignmentStatuses") or ["Submitted", "Approved", "Rejected"])
    work = [
        assignment
        for assignment in submissions_for_requester(batch=hit.batch)
        if selectors.MTURK_ASSIGNMENT_STATUS.get(assignment.status) in wanted
    ]
    page, token = paginate(caller, "ListAssignmentsForHIT", params, work)
    return _listing("Assignments", [_assignment_dict(a, hit) for a in page], token)


def _assignment(caller: Caller, assignment_id: str) -> tuple[Assignment, Hit]:
    assignment = selectors.access_assignment(
        organisation=caller.organisation, actor=caller.actor, assignment_id=assignment_id, sandbox=caller.sandbox
    )
    hit = Hit.objects.select_related("hit_type", "batch", "task").get(batch_id=assignment.batch_id)
    return assignment, hit


def get_assignment(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    assignment, hit = _assignment(caller, params["AssignmentId"])
    return {"Assignment": _assignment_dict(assignment, hit), "HIT": _hits([hit])[0]}


def approve_assignment(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    assignment, hit = _assignment(caller, params["AssignmentId"])
    _hit(caller, hit.hit_id, "tasks.review_batch")
    if assignment.status in (Assignment.Status.REJECTED, Assignment.Status.DISPUTED):
        if not params.get("OverrideRejection"):
            raise MTurkError(
                "This assignment was rejected; send OverrideRejection=True to pay it in full.",
                "AWS.MechanicalTurk.InvalidAssignmentState",
            )
        # The requester withdraws its own provisional rejection: the worker is paid in full,
        # and a dispute case behind it is resolved (or the withdrawal refused) in one place.
        task_services.assignment_rejection_withdraw(actor=caller.actor, assignment=assignment)
        return {}
    task_services.assignment_approve(
        actor=caller.actor, assignment=assignment, feedback=params.get("RequesterFeedback", "")
    )
    return {}


def _rejection_reason(feedback: str) -> tuple[str, str]:
    """A reason code from a leading ``[code]`` in the feedback (see ``REJECTION_REASONS``),
    otherwise "other"; the feedback is the explanation the worker reads."""
    text = feedback.strip()
    if text.startswith("["):
        code, _, rest = text[1:].partition("]")
        if code in REJECTION_REASONS and rest.strip():
            return code, rest.strip()
    return "other", text


def reject_assignment(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """A provisional rejection: the pay stays in escrow while the worker may dispute it."""
    assignment, hit = _assignment(caller, params["AssignmentId"])
    _hit(caller, hit.hit_id, "tasks.review_batch")
    reason, text = _rejection_reason(params["RequesterFeedback"])
    if not text:
        raise MTurkError("RequesterFeedback must explain the rejection; the worker reads it and can dispute it.")
    task_services.assignment_reject(actor=caller.actor, assignment=assignment, reason=reason, text=text)
    return {}


def get_file_upload_url(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _assignment(caller, params["AssignmentId"])
    raise MTurkError(
        "File upload answers are not supported here (QuestionForms with FileUploadAnswer are refused), so there "
        "is no upload URL; answers are in the assignment's Answer XML.",
        CODE_UNSUPPORTED,
    )


# --- Bonuses and balance ------------------------------------------------------------------------


def send_bonus(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    from core.money import MAX_BONUS, parse_major, platform_currency

    assignment, hit = _assignment(caller, params["AssignmentId"])
    # A bonus is a review decision: the same permission as the API's bonus endpoint.
    _hit(caller, hit.hit_id, "tasks.review_batch")
    if assignment.worker is None or assignment.worker.pseudonym != params["WorkerId"]:
        raise MTurkError("The WorkerId is not the worker of this assignment.")
    try:
        amount = parse_major(
            params["BonusAmount"], platform_currency(), field="BonusAmount", maximum=MAX_BONUS, minimum=1
        )
    except AppError as error:
        raise MTurkError(error.message) from None
    task_services.assignment_bonus(
        actor=caller.actor,
        assignment=assignment,
        amount=amount,
        reason=params["Reason"],
        token=params.get("UniqueRequestToken", ""),
    )
    return {}


def list_bonus_payments(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    if bool(params.get("HITId")) == bool(params.get("AssignmentId")):
        raise MTurkError("Send either HITId or AssignmentId.")
    if params.get("HITId"):
        rows = selectors.bonuses(
            organisation=caller.organisation, hit=_hit(caller, params["HITId"]), sandbox=caller.sandbox
        )
    else:
        assignment, _ = _assignment(caller, params["AssignmentId"])
        rows = selectors.bonuses(organisation=caller.organisation, assignment=assignment, sandbox=caller.sandbox)
    page, token = paginate(caller, "ListBonusPayments", params, rows)
    return _listing("BonusPayments", [_bonus_dict(b) for b in page], token)


def get_account_balance(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """AvailableBalance: what can still fund HITs; OnHoldBalance: what escrow holds."""
    if caller.sandbox:
        figures = selectors.sandbox_account_balance(organisation=caller.organisation)
    else:
        figures = selectors.account_balance(organisation=caller.organisation)
    return {"AvailableBalance": _reward(figures.available), "OnHoldBalance": _reward(figures.on_hold)}


# --- Workers ------------------------------------------------------------------------------------


def _worker(worker_id: str) -> User:
    try:
        return selectors.worker_by_id(worker_id=worker_id)
    except NotFound:
        raise MTurkError(f"There is no worker '{worker_id}'.", CODE_NOT_FOUND) from None


def notify_workers(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    failures: list[dict[str, Any]] = []
    reachable: list[User] = []
    for worker_id in dict.fromkeys(params["WorkerIds"]):
        worker = User.objects.filter(pseudonym=worker_id, is_active=True).first()
        if worker is None or not selectors.worker_has_worked_for(
            organisation=caller.organisation, worker=worker, sandbox=caller.sandbox
        ):
            failures.append(
                {
                    "NotifyWorkersFailureCode": "HardFailure",
                    "NotifyWorkersFailureMessage": "You can only message workers who have worked on your HITs.",
                    "WorkerId": worker_id,
                }
            )
        else:
            reachable.append(worker)
    if reachable:
        services.workers_notify(
            organisation=caller.organisation,
            actor=caller.actor,
            subject=params["Subject"],
            message=params["MessageText"],
            workers=reachable,
            sandbox=caller.sandbox,
        )
    return {"NotifyWorkersFailureStatuses": failures}


def create_worker_block(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    task_services.worker_block(
        organisation=caller.organisation,
        actor=caller.actor,
        worker=_worker(params["WorkerId"]),
        reason=params["Reason"],
    )
    return {}


def delete_worker_block(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    task_services.worker_unblock(
        organisation=caller.organisation, actor=caller.actor, worker=_worker(params["WorkerId"])
    )
    return {}


def list_worker_blocks(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    page, token = paginate(
        caller, "ListWorkerBlocks", params, selectors.worker_blocks(organisation=caller.organisation)
    )
    blocks: list[BlockedWorker] = page
    return _listing("WorkerBlocks", [{"WorkerId": b.worker.pseudonym, "Reason": b.reason} for b in blocks], token)


# --- Qualifications -----------------------------------------------------------------------------


def _qualification(caller: Caller, type_id: str) -> Qualification:
    return selectors.access_qualification(
        organisation=caller.organisation, qualification_type_id=type_id, sandbox=caller.sandbox
    )


def create_qualification_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    qualification = services.qualification_type_create(
        organisation=caller.organisation,
        actor=caller.actor,
        name=params["Name"],
        description=params["Description"],
        status=params["QualificationTypeStatus"],
        keywords=params.get("Keywords", ""),
        retry_delay_seconds=params.get("RetryDelayInSeconds"),
        test_xml=params.get("Test", ""),
        answer_key_xml=params.get("AnswerKey", ""),
        test_duration_seconds=params.get("TestDurationInSeconds"),
        auto_granted=bool(params.get("AutoGranted", False)),
        auto_granted_value=params.get("AutoGrantedValue"),
        sandbox=caller.sandbox,
    )
    qualification = _qualification(caller, str(qualification.pk))
    return {"QualificationType": _qualification_type_dict(qualification)}


def get_qualification_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return {"QualificationType": _qualification_type_dict(_qualification(caller, params["QualificationTypeId"]))}


def update_qualification_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    qualification = _qualification(caller, params["QualificationTypeId"])
    for fixed in ("Description", "Test", "AnswerKey"):
        if fixed in params:
            raise MTurkError(
                f"{fixed} cannot change: workers hold this qualification under the published terms. "
                "Create a new qualification type instead.",
                CODE_UNSUPPORTED,
            )
    services.qualification_type_update(
        qualification=qualification,
        actor=caller.actor,
        status=params.get("QualificationTypeStatus"),
        retry_delay_seconds=params.get("RetryDelayInSeconds"),
        auto_granted=params.get("AutoGranted"),
        auto_granted_value=params.get("AutoGrantedValue"),
        test_duration_seconds=params.get("TestDurationInSeconds"),
    )
    return {"QualificationType": _qualification_type_dict(_qualification(caller, params["QualificationTypeId"]))}


def delete_qualification_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    services.qualification_type_dispose(
        qualification=_qualification(caller, params["QualificationTypeId"]), actor=caller.actor
    )
    return {}


def list_qualification_types(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    # Qualifications here belong to their requester: there is no public catalogue to browse.
    rows = selectors.qualifications_for_organisation(
        organisation=caller.organisation,
        query=params.get("Query", ""),
        requestable_only=bool(params.get("MustBeRequestable")),
        sandbox=caller.sandbox,
    )
    page, token = paginate(caller, "ListQualificationTypes", params, rows)
    return _listing("QualificationTypes", [_qualification_type_dict(q) for q in page], token)


def associate_qualification_with_worker(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    services.qualification_assign(
        qualification=_qualification(caller, params["QualificationTypeId"]),
        actor=caller.actor,
        worker=_worker(params["WorkerId"]),
        value=int(params.get("IntegerValue", 1)),
    )
    return {}


def disassociate_qualification_from_worker(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    task_services.qualification_revoke(
        qualification=_qualification(caller, params["QualificationTypeId"]),
        worker=_worker(params["WorkerId"]),
        actor=caller.actor,
    )
    return {}


def get_qualification_score(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    qualification = _qualification(caller, params["QualificationTypeId"])
    grant = selectors.qualification_grant_of(qualification=qualification, worker=_worker(params["WorkerId"]))
    if grant is None:
        raise MTurkError("The worker does not hold this qualification.", CODE_NOT_FOUND)
    return {"Qualification": _grant_dict(grant)}


def list_workers_with_qualification_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    qualification = _qualification(caller, params["QualificationTypeId"])
    if params.get("Status") == "Revoked":
        # A revoked grant is deleted here: there is no list of revoked workers.
        return _listing("Qualifications", [], None)
    page, token = paginate(
        caller, "ListWorkersWithQualificationType", params, selectors.qualification_grants(qualification=qualification)
    )
    return _listing("Qualifications", [_grant_dict(g) for g in page], token)


def list_hits_for_qualification_type(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    qualification = _qualification(caller, params["QualificationTypeId"])
    rows = selectors.hits_for_qualification(
        organisation=caller.organisation, qualification=qualification, sandbox=caller.sandbox
    )
    page, token = paginate(caller, "ListHITsForQualificationType", params, rows)
    return _listing("HITs", _hits(page), token)


def list_qualification_requests(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    qualification = _qualification(caller, params["QualificationTypeId"]) if params.get("QualificationTypeId") else None
    rows = selectors.qualification_requests(
        organisation=caller.organisation, qualification=qualification, sandbox=caller.sandbox
    )
    page, token = paginate(caller, "ListQualificationRequests", params, rows)
    return _listing("QualificationRequests", [_request_dict(r) for r in page], token)


def _decide_request(caller: Caller, params: dict[str, Any], accept: bool) -> dict[str, Any]:
    request = selectors.access_qualification_request(
        organisation=caller.organisation, request_id=params["QualificationRequestId"], sandbox=caller.sandbox
    )
    services.qualification_request_decide(
        request=request,
        actor=caller.actor,
        accept=accept,
        value=int(params.get("IntegerValue", 1)),
        reason=params.get("Reason", ""),
    )
    return {}


def accept_qualification_request(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return _decide_request(caller, params, accept=True)


def reject_qualification_request(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return _decide_request(caller, params, accept=False)


# --- Notifications ------------------------------------------------------------------------------


def update_notification_settings(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    hit_type = selectors.access_hit_type(organisation=caller.organisation, hit_type_id=params["HITTypeId"])
    services.notification_settings_update(
        hit_type=hit_type,
        actor=caller.actor,
        api_key=caller.key,
        notification=params.get("Notification"),
        active=params.get("Active"),
    )
    return {}


def send_test_event_notification(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    services.notification_test_send(
        organisation=caller.organisation,
        api_key=caller.key,
        sandbox=caller.sandbox,
        notification=params["Notification"],
        event_type=params["TestEventType"],
    )
    return {}


HANDLERS: dict[str, Handler] = {
    "AcceptQualificationRequest": accept_qualification_request,
    "ApproveAssignment": approve_assignment,
    "AssociateQualificationWithWorker": associate_qualification_with_worker,
    "CreateAdditionalAssignmentsForHIT": create_additional_assignments_for_hit,
    "CreateHIT": create_hit,
    "CreateHITType": create_hit_type,
    "CreateHITWithHITType": create_hit_with_hit_type,
    "CreateQualificationType": create_qualification_type,
    "CreateWorkerBlock": create_worker_block,
    "DeleteHIT": delete_hit,
    "DeleteQualificationType": delete_qualification_type,
    "DeleteWorkerBlock": delete_worker_block,
    "DisassociateQualificationFromWorker": disassociate_qualification_from_worker,
    "GetAccountBalance": get_account_balance,
    "GetAssignment": get_assignment,
    "GetFileUploadURL": get_file_upload_url,
    "GetHIT": get_hit,
    "GetQualificationScore": get_qualification_score,
    "GetQualificationType": get_qualification_type,
    "ListAssignmentsForHIT": list_assignments_for_hit,
    "ListBonusPayments": list_bonus_payments,
    "ListHITs": list_hits,
    "ListHITsForQualificationType": list_hits_for_qualification_type,
    "ListQualificationRequests": list_qualification_requests,
    "ListQualificationTypes": list_qualification_types,
    "ListReviewPolicyResultsForHIT": list_review_policy_results_for_hit,
    "ListReviewableHITs": list_reviewable_hits,
    "ListWorkerBlocks": list_worker_blocks,
    "ListWorkersWithQualificationType": list_workers_with_qualification_type,
    "NotifyWorkers": notify_workers,
    "RejectAssignment": reject_assignment,
    "RejectQualificationRequest": reject_qualification_request,
    "SendBonus": send_bonus,
    "SendTestEventNotification": send_test_event_notification,
    "UpdateExpirationForHIT": update_expiration_for_hit,
    "UpdateHITReviewStatus": update_hit_review_status,
    "UpdateHITTypeOfHIT": update_hit_type_of_hit,
    "UpdateNotificationSettings": update_notification_settings,
    "UpdateQualificationType": update_qualification_type,
}

# Operations whose UniqueRequestToken makes a retry return the first answer.
IDEMPOTENT = frozenset({"CreateHIT", "CreateHITWithHITType", "CreateAdditionalAssignmentsForHIT", "SendBonus"})
