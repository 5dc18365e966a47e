"""Writes behind the MTurk operations. Marketplace rules (escrow, wage floor, review,
bonuses, qualifications, blocks) are the marketplace's: every change to its rows
goes through ``tasks.services``; this module only translates MTurk's terms and
keeps MTurk's own attributes (``mturk.models``). Each service is one transaction
and writes an audit row.

Extension fields (MTurk has no place for what the co-op requires):
- ``estimated-minutes:N`` among a HIT type's comma-separated Keywords: the
  requester's estimate of the work time, checked against the governed minimum
  hourly wage. Without it the whole time allotted (AssignmentDurationInSeconds)
  is taken as the estimate, which protects workers and usually fails the check.
- ``Purpose: ...`` and ``Data use: ...`` lines in the Description (shown to
  workers): every batch states why the work is done and how the data is used.
- ``Location reason: ...`` line in the Description: required with a Locale
  qualification requirement, because a location restriction needs a stated reason.
"""

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ApiKey, Organisation, User
from core.audit import audit_record
from core.errors import AppError
from core.money import MAX_REWARD, format_amount, major_text, parse_major, platform_currency
from ledger.escrow import platform_fee
from mturk import ids, questions
from mturk.models import (
    Hit,
    HitType,
    NotificationDelivery,
    NotificationSetting,
    QualificationRequest,
    QualificationTypeInfo,
    RequestToken,
)
from mturk.protocol import (
    CODE_BELOW_MINIMUM_WAGE,
    CODE_DUPLICATE_REQUEST,
    CODE_INSUFFICIENT_FUNDS,
    CODE_INVALID_PARAMETER,
    CODE_INVALID_STATE,
    CODE_UNSUPPORTED,
    MTurkError,
)
from mturk.selectors import account_balance, hit_counts, qualification_info
from notifications.services import notify
from tasks import services as task_services
from tasks.models import Assignment, AssignmentAttempt, Batch, Qualification

SYSTEM_QUALIFICATIONS = {
    "000000000000000000L0": "approval_rate",  # PercentAssignmentsApproved
    "00000000000000000040": "approved_count",  # NumberHITsApproved
    "00000000000000000071": "locale",  # Worker_Locale
}
MASTERS_QUALIFICATIONS = {
    "2F1QJWKUDD8XADTFD2Q0G6UTO95ALH",
    "2NDP2L92HECWY8NS8H3CK0CP5L9GHO",
    "21VZU98JHSTLZ5BPP4A9NOBJEK3DPG",
    "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6",
    "2TGBB6BFMFFOM08IBMAFGGESC1UWJX",
}
ADULT_QUALIFICATION = "00000000000000000060"
EVENT_TYPES = (
    "AssignmentAccepted",
    "AssignmentAbandoned",
    "AssignmentReturned",
    "AssignmentSubmitted",
    "AssignmentRejected",
    "AssignmentApproved",
    "HITCreated",
    "HITExtended",
    "HITDisposed",
    "HITReviewable",
    "HITExpired",
    "Ping",
)
_ESTIMATE = re.compile(r"^\s*estimated[-_ ]minutes\s*[:=]\s*(\d+)\s*$", re.IGNORECASE)
_PURPOSE = re.compile(r"^\s*purpose\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_DATA_USE = re.compile(r"^\s*data[ -]use\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_LOCATION_REASON = re.compile(r"^\s*location reason\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
MAX_KEYWORDS_LENGTH = 400
MAX_TITLE_LENGTH = 200
MAX_ANNOTATION_LENGTH = 255
MAX_QUALIFICATION_NAME_LENGTH = 120
MAX_URL_LENGTH = 500


def _invalid(message: str) -> MTurkError:
    return MTurkError(message, CODE_INVALID_PARAMETER)


def _ceil_div(value: int, unit: int) -> int:
    return -(-value // unit)


def estimated_minutes(keywords: str) -> int | None:
    """The requester's work-time estimate from an ``estimated-minutes:N`` keyword."""
    for token in keywords.split(","):
        match = _ESTIMATE.match(token)
        if match:
            return int(match.group(1))
    return None


def _described(pattern: re.Pattern[str], description: str) -> str:
    match = pattern.search(description)
    return match.group(1) if match else ""


def _minimum(comparator: str, values: list[int], what: str) -> int:
    if comparator == "Exists":
        return 1 if what == "qualification" else 0
    if comparator not in ("GreaterThanOrEqualTo", "GreaterThan") or len(values) != 1:
        raise _invalid(
            f"A {what} requirement supports GreaterThan, GreaterThanOrEqualTo or Exists with one IntegerValue: "
            "requirements here are transparent minimums workers can see and reach."
        )
    return values[0] + (1 if comparator == "GreaterThan" else 0)


def requirements_translate(
    *, organisation: Organisation, requirements: list[dict[str, Any]], description: str, sandbox: bool = False
) -> list[dict[str, Any]]:
    """MTurk's QualificationRequirements as the marketplace's requirements, or ``MTurkError``
    naming the one that has no transparent equivalent here. A qualification type of the
    other endpoint (sandbox or real) does not exist for this one, as on MTurk."""
    built: list[dict[str, Any]] = []
    for requirement in requirements:
        type_id = str(requirement.get("QualificationTypeId", ""))
        comparator = str(requirement.get("Comparator", ""))
        values = [int(v) for v in requirement.get("IntegerValues") or []]
        if type_id in MASTERS_QUALIFICATIONS:
            raise _invalid(
                "Masters qualifications are not offered: they were a black box to workers. Use "
                "PercentAssignmentsApproved (000000000000000000L0), NumberHITsApproved (00000000000000000040) "
                "or your own qualification type with a test."
            )
        if type_id == ADULT_QUALIFICATION:
            raise _invalid("The Adult qualification is not offered; state content warnings in the Description.")
        kind = SYSTEM_QUALIFICATIONS.get(type_id)
        if kind == "approval_rate":
            percent = _minimum(comparator, values, "PercentAssignmentsApproved")
            built.append({"kind": "approval_rate", "value": min(10_000, percent * 100)})
        elif kind == "approved_count":
            built.append({"kind": "approved_count", "value": _minimum(comparator, values, "NumberHITsApproved")})
        elif kind == "locale":
            locales = requirement.get("LocaleValues") or []
            if comparator not in ("EqualTo", "In") or not locales:
                raise _invalid("A Worker_Locale requirement supports EqualTo or In with LocaleValues.")
            if any(locale.get("Subdivision") for locale in locales):
                raise _invalid("Locale requirements are by country only; remove the Subdivision.")
            # The HIT's own line, else the organisation's default (issue 24 point 7).
            reason = _described(_LOCATION_REASON, description) or organisation.default_location_reason
            if not reason:
                raise _invalid(
                    "A location restriction needs a reason workers can read: add a line 'Location reason: ...' "
                    "to the Description, or set your organisation's default location reason (its settings page, "
                    "or PATCH /api/organisations/{slug}/ with default_location_reason)."
                )
            built.append(
                {
                    "kind": "locale",
                    "countries": [str(locale.get("Country", "")) for locale in locales],
                    "reason": reason,
                }
            )
        else:
            pk = int(type_id) if type_id.isdigit() and len(type_id) < 18 else 0
            qualification = Qualification.objects.filter(organisation=organisation, pk=pk, is_sandbox=sandbox).first()
            if qualification is None:
                raise MTurkError(
                    f"The QualificationType '{type_id}' does not exist or is not yours.",
                    "AWS.MechanicalTurk.QualificationTypeDoesNotExist",
                )
            value = _minimum(comparator, values, "qualification")
            built.append({"kind": "qualification", "qualification_id": qualification.pk, "value": value})
    return built


def _fingerprint(properties: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(properties, sort_keys=True, default=str).encode()).hexdigest()


def hit_type_register(
    *,
    organisation: Organisation,
    actor: User,
    title: str,
    description: str,
    reward: str,
    assignment_duration_seconds: int,
    keywords: str = "",
    auto_approval_delay_seconds: int | None = None,
    qualification_requirements: list[dict[str, Any]] | None = None,
    sandbox: bool = False,
) -> HitType:
    """The HIT type with these properties, created on first use: the same properties
    always give the same HITTypeId, as on MTurk. Refuses properties that could never be
    published here (bad reward, unsupported requirements) with ``MTurkError``."""
    try:
        amount = parse_major(reward, platform_currency(), field="Reward", maximum=MAX_REWARD, minimum=1)
    except AppError as error:
        raise _invalid(f"{error.message} Rewards are in {platform_currency()}.") from None
    if amount <= 0:
        raise _invalid("The Reward must be more than zero.")
    if not title.strip() or not description.strip():
        raise _invalid("A HIT type needs a Title and a Description.")
    if len(title.strip()) > MAX_TITLE_LENGTH:
        raise _invalid(f"The Title may be at most {MAX_TITLE_LENGTH} characters.")
    if len(keywords) > MAX_KEYWORDS_LENGTH:
        raise _invalid(f"Keywords may be at most {MAX_KEYWORDS_LENGTH} characters here.")
    if assignment_duration_seconds < 60:
        raise _invalid("AssignmentDurationInSeconds must be at least 60.")
    requirements = qualification_requirements or []
    requirements_translate(
        organisation=organisation, requirements=requirements, description=description, sandbox=sandbox
    )
    properties = {
        "title": title.strip(),
        "description": description.strip(),
        "keywords": keywords.strip(),
        "reward": amount,
        "assignment_duration_seconds": assignment_duration_seconds,
        "auto_approval_delay_seconds": auto_approval_delay_seconds,
        "qualification_requirements": requirements,
    }
    fingerprint = _fingerprint(properties)
    with transaction.atomic():
        hit_type, created = HitType.objects.get_or_create(
            organisation=organisation,
            fingerprint=fingerprint,
            defaults={"hit_type_id": ids.new_hit_type_id(), **properties},
        )
        if created:
            audit_record(actor=actor, action="mturk.hit_type_created", target=hit_type, after={"title": title})
    return hit_type


def _explain_funds(error: AppError, organisation: Organisation, reward: int, slots: int) -> MTurkError:
    fee = platform_fee(reward)
    currency = platform_currency()
    available = account_balance(organisation=organisation).available
    return MTurkError(
        f"Escrow cannot cover this HIT: it needs {format_amount((reward + fee) * slots, currency)} "
        f"({slots} assignment(s) x reward {format_amount(reward, currency)} + fee {format_amount(fee, currency)}) "
        f"and the organisation has {format_amount(available, currency)} available. Add funds, then try again; "
        "nothing was created.",
        CODE_INSUFFICIENT_FUNDS,
    )


def hit_create(
    *,
    organisation: Organisation,
    actor: User,
    hit_type: HitType,
    max_assignments: int,
    lifetime_seconds: int,
    question_xml: str,
    requester_annotation: str = "",
    sandbox: bool = False,
) -> Hit:
    """Publishes a HIT as a one-task batch (a sandbox batch with ``sandbox``: play money):
    the wage floor is checked and reward + fee of every assignment is reserved in escrow
    before anything is visible, all or nothing.

    Raises ``MTurkError`` with ``AWS.MechanicalTurk.InsufficientFunds`` when escrow
    cannot cover it and ``AWS.MechanicalTurk.BelowMinimumWage`` under the wage floor;
    on every refusal nothing is created."""
    question = questions.parse_question(question_xml)
    # The HIT's own lines, else the organisation's defaults: unchanged MTurk code writes
    # neither line, and workers still read both before they accept (issue 24 point 7).
    purpose = _described(_PURPOSE, hit_type.description) or organisation.default_purpose
    data_use = _described(_DATA_USE, hit_type.description) or organisation.default_data_use
    if not purpose or not data_use:
        raise _invalid(
            "Every HIT states its purpose and how the data will be used: add the lines 'Purpose: ...' and "
            "'Data use: ...' to the HIT type's Description (workers read it before they accept), or set your "
            "organisation's defaults once (its settings page, or PATCH /api/organisations/{slug}/ with "
            "default_purpose and default_data_use)."
        )
    if lifetime_seconds < 1:
        raise _invalid("LifetimeInSeconds must be positive.")
    if len(requester_annotation) > MAX_ANNOTATION_LENGTH:
        raise _invalid(f"The RequesterAnnotation may be at most {MAX_ANNOTATION_LENGTH} characters.")
    if len(question.external_url) > MAX_URL_LENGTH:
        raise _invalid(f"The ExternalURL may be at most {MAX_URL_LENGTH} characters.")
    allotted = _ceil_div(hit_type.assignment_duration_seconds, 60)
    estimate = estimated_minutes(hit_type.keywords)
    requirements = requirements_translate(
        organisation=organisation,
        requirements=hit_type.qualification_requirements,
        description=hit_type.description,
        sandbox=sandbox,
    )
    delay = hit_type.auto_approval_delay_seconds
    try:
        with transaction.atomic():
            batch = task_services.batch_create(
                organisation=organisation,
                actor=actor,
                title=hit_type.title,
                description=hit_type.description,
                purpose=purpose,
                data_use=data_use,
                reward=hit_type.reward,
                assignments_per_task=max_assignments,
                estimated_minutes=estimate or allotted,
                time_allotted_minutes=allotted,
                lifetime_hours=max(1, _ceil_div(lifetime_seconds, 3600)),
                keywords=hit_type.keywords,
                auto_approval_hours=None if delay is None else max(1, _ceil_div(delay, 3600)),
                template_html=question.template_html,
                external_url=question.external_url,
                requirements=requirements,
                sandbox=sandbox,
            )
            batch = task_services.batch_publish(batch=batch, actor=actor)
            task = batch.tasks.get()
            hit = Hit.objects.create(
                organisation=organisation,
                hit_type=hit_type,
                batch=batch,
                task=task,
                hit_id=str(task.pk),
                question_kind=question.kind,
                question_xml=question_xml,
                requester_annotation=requester_annotation,
            )
            audit_record(actor=actor, action="mturk.hit_created", target=hit, after={"batch": batch.pk})
    except AppError as error:
        if error.code == "insufficient_funds":
            raise _explain_funds(error, organisation, hit_type.reward, max_assignments) from None
        if error.code == "below_minimum_wage":
            how = (
                f"the estimate is the keyword 'estimated-minutes:{estimate}'"
                if estimate
                else f"without an 'estimated-minutes:N' keyword the time allotted ({allotted} min) is the estimate"
            )
            raise MTurkError(
                f"{error.message} ({how}; put your real estimate in the HIT type's Keywords as 'estimated-minutes:N').",
                CODE_BELOW_MINIMUM_WAGE,
            ) from None
        raise
    return hit


def hit_update_expiration(*, hit: Hit, actor: User, expire_at: datetime) -> Hit:
    """A time in the past expires the HIT now: unclaimed assignments are withdrawn and their
    escrow returns; accepted work can still be submitted and is paid. A later time extends
    the lifetime (in whole hours, rounded up). Shortening to a future time is refused."""
    batch = hit.batch
    now = timezone.now()
    if expire_at <= now:
        if batch.status in (Batch.Status.PUBLISHED, Batch.Status.PAUSED):
            task_services.batch_cancel(batch=batch, actor=actor)
        return hit
    if batch.status not in (Batch.Status.PUBLISHED, Batch.Status.PAUSED) or batch.expires_at is None:
        raise MTurkError(f"This HIT has ended ({batch.status}); it cannot be extended.", CODE_INVALID_STATE)
    if expire_at <= batch.expires_at:
        raise _invalid(
            "A HIT's expiration can be moved later or to the past (expire now), not earlier to a future time."
        )
    hours = _ceil_div(int((expire_at - batch.expires_at).total_seconds()), 3600)
    task_services.batch_extend_lifetime(batch=batch, actor=actor, hours=hours)
    return hit


def hit_set_reviewing(*, hit: Hit, actor: User, reviewing: bool) -> Hit:
    """UpdateHITReviewStatus: marks the HIT as being reviewed (or back to reviewable)."""
    with transaction.atomic():
        hit = Hit.objects.select_for_update().select_related("batch", "hit_type").get(pk=hit.pk)
        if hit.reviewing != reviewing:
            hit.reviewing = reviewing
            hit.save(update_fields=["reviewing"])
            audit_record(actor=actor, action="mturk.hit_review_status", target=hit, after={"reviewing": reviewing})
    return hit


def hit_change_type(*, hit: Hit, actor: User, hit_type: HitType) -> Hit:
    """Only a HIT type with identical properties is accepted (workers accepted the
    published terms: reward, time, requirements). Anything else is refused."""
    if hit_type.fingerprint != hit.hit_type.fingerprint:
        raise MTurkError(
            "A published HIT keeps the terms workers saw (reward, time allotted, requirements, description). "
            "Expire it (UpdateExpirationForHIT with a past time) and create a new HIT with the new HIT type.",
            CODE_UNSUPPORTED,
        )
    return hit


def hit_add_assignments(*, hit: Hit, actor: User, count: int) -> Hit:
    """More assignments for a live HIT; their reward + fee is reserved in escrow first."""
    try:
        task_services.batch_add_assignments(batch=hit.batch, actor=actor, per_task=count)
    except AppError as error:
        if error.code == "insufficient_funds":
            raise _explain_funds(error, hit.organisation, hit.batch.reward, count) from None
        raise
    return hit


def hit_dispose(*, hit: Hit, actor: User) -> Hit:
    """DeleteHIT: hides a finished HIT from ListHITs. Refused while any assignment is open,
    accepted or awaiting review. Provisional rejections keep their dispute window."""
    with transaction.atomic():
        hit = Hit.objects.select_for_update().select_related("batch", "hit_type").get(pk=hit.pk)
        if hit.disposed_at is not None:
            return hit
        counts = hit_counts(batch_ids=[hit.batch_id])[hit.batch_id]
        unfinished = {status: counts.get(status, 0) for status in ("open", "accepted", "submitted")}
        if (hit.batch.status in (Batch.Status.PUBLISHED, Batch.Status.PAUSED) and unfinished["open"]) or unfinished[
            "accepted"
        ]:
            raise MTurkError(
                "This HIT still has assignments open or being worked on; expire it first "
                "(UpdateExpirationForHIT with a past time) and wait for accepted work.",
                CODE_INVALID_STATE,
            )
        if unfinished["submitted"]:
            raise MTurkError(
                f"{unfinished['submitted']} submitted assignment(s) await review; approve or reject them first.",
                CODE_INVALID_STATE,
            )
        hit.disposed_at = timezone.now()
        hit.save(update_fields=["disposed_at"])
        audit_record(actor=actor, action="mturk.hit_disposed", target=hit, after={"hit_id": hit.hit_id})
    return hit


def request_token_call(
    *,
    organisation: Organisation,
    operation: str,
    token: str,
    params: dict[str, Any],
    call: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Runs ``call`` once per UniqueRequestToken: a retry with the same parameters gets the
    first answer again, the same token with other parameters is refused
    (``AWS.MechanicalTurk.DuplicateRequest``). The token is claimed in the same
    transaction as the work, so a failed call leaves no token behind, and a concurrent
    duplicate waits on the unique index and then gets the stored answer."""
    fingerprint = _fingerprint({key: value for key, value in params.items() if key != "UniqueRequestToken"})
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = RequestToken.objects.create(
                    organisation=organisation, token=token, operation=operation, request_hash=fingerprint
                )
        except IntegrityError:
            existing = RequestToken.objects.get(organisation=organisation, token=token)
            if existing.operation != operation or existing.request_hash != fingerprint or existing.response is None:
                raise MTurkError(
                    f"The UniqueRequestToken '{token}' was already used for a different request "
                    f"({existing.operation}); use a new token for new work.",
                    CODE_DUPLICATE_REQUEST,
                ) from None
            return dict(existing.response)
        response = call()
        record.response = response
        record.save(update_fields=["response"])
    return response


# --- Qualification types -----------------------------------------------------------------------


def qualification_type_create(
    *,
    organisation: Organisation,
    actor: User,
    name: str,
    description: str,
    status: str,
    keywords: str = "",
    retry_delay_seconds: int | None = None,
    test_xml: str = "",
    answer_key_xml: str = "",
    test_duration_seconds: int | None = None,
    auto_granted: bool = False,
    auto_granted_value: int | None = None,
    sandbox: bool = False,
) -> Qualification:
    """A marketplace qualification with MTurk's attributes. A Test with an AnswerKey is
    scored automatically (every answer correct grants it); a Test without one waits for
    the requester (ListQualificationRequests). Made at the sandbox endpoint (``sandbox``),
    it is a sandbox qualification: seen only there, gating sandbox HITs only."""
    if status not in (QualificationTypeInfo.Status.ACTIVE, QualificationTypeInfo.Status.INACTIVE):
        raise _invalid("QualificationTypeStatus must be Active or Inactive.")
    if test_xml and auto_granted:
        raise _invalid("A qualification type with a Test cannot also be AutoGranted.")
    if answer_key_xml and not test_xml:
        raise _invalid("An AnswerKey needs a Test.")
    test = questions.parse_qualification_test(test_xml, answer_key_xml or None) if test_xml else None
    if not name.strip() or len(name.strip()) > MAX_QUALIFICATION_NAME_LENGTH:
        raise _invalid(f"The Name must have 1 to {MAX_QUALIFICATION_NAME_LENGTH} characters.")
    if len(keywords) > 1000:
        raise _invalid("Keywords may be at most 1000 characters.")
    if Qualification.objects.filter(organisation=organisation, name=name.strip(), is_sandbox=sandbox).exists():
        raise _invalid(f"You already have a qualification type named '{name.strip()}'.")
    with transaction.atomic():
        qualification = task_services.qualification_create(
            organisation=organisation,
            actor=actor,
            name=name,
            description=description,
            test_questions=test.questions if test and test.answer_key else None,
            answer_key=test.answer_key if test and test.answer_key else None,
            sandbox=sandbox,
        )
        QualificationTypeInfo.objects.create(
            qualification=qualification,
            status=status,
            keywords=keywords,
            auto_granted=auto_granted,
            auto_granted_value=auto_granted_value,
            retry_delay_seconds=retry_delay_seconds,
            test_xml=test_xml,
            answer_key_xml=answer_key_xml,
            test_duration_seconds=test_duration_seconds,
        )
    return qualification


def qualification_type_update(
    *,
    qualification: Qualification,
    actor: User,
    status: str | None = None,
    retry_delay_seconds: int | None = None,
    auto_granted: bool | None = None,
    auto_granted_value: int | None = None,
    test_duration_seconds: int | None = None,
) -> Qualification:
    """Changes MTurk's attributes; the description and test are fixed once workers may hold it."""
    if status is not None and status not in (
        QualificationTypeInfo.Status.ACTIVE,
        QualificationTypeInfo.Status.INACTIVE,
    ):
        raise _invalid("QualificationTypeStatus must be Active or Inactive.")
    with transaction.atomic():
        info, _ = QualificationTypeInfo.objects.select_for_update().get_or_create(qualification=qualification)
        if info.status == QualificationTypeInfo.Status.DISPOSED:
            raise MTurkError("This qualification type was deleted.", CODE_INVALID_STATE)
        changes = {
            "status": status,
            "retry_delay_seconds": retry_delay_seconds,
            "auto_granted": auto_granted,
            "auto_granted_value": auto_granted_value,
            "test_duration_seconds": test_duration_seconds,
        }
        changed = {name: value for name, value in changes.items() if value is not None}
        if changed.get("auto_granted") and info.test_xml:
            raise _invalid("A qualification type with a Test cannot also be AutoGranted.")
        for name, value in changed.items():
            setattr(info, name, value)
        if changed:
            info.save(update_fields=list(changed))
            audit_record(actor=actor, action="mturk.qualification_type_updated", target=qualification, after=changed)
    qualification.refresh_from_db()
    return qualification


def qualification_type_dispose(*, qualification: Qualification, actor: User) -> None:
    """DeleteQualificationType: no new requests or grants; existing HIT requirements stay."""
    with transaction.atomic():
        info, _ = QualificationTypeInfo.objects.select_for_update().get_or_create(qualification=qualification)
        if info.status != QualificationTypeInfo.Status.DISPOSED:
            info.status = QualificationTypeInfo.Status.DISPOSED
            info.save(update_fields=["status"])
            audit_record(actor=actor, action="mturk.qualification_type_disposed", target=qualification)


def _require_usable(qualification: Qualification) -> None:
    if qualification_info(qualification).status == QualificationTypeInfo.Status.DISPOSED:
        raise MTurkError("This qualification type was deleted.", CODE_INVALID_STATE)


def qualification_assign(*, qualification: Qualification, actor: User, worker: User, value: int) -> None:
    _require_usable(qualification)
    task_services.qualification_grant(qualification=qualification, worker=worker, actor=actor, value=value)


def qualification_request_submit(
    *, worker: User, qualification: Qualification, answers: dict[str, str] | None = None
) -> QualificationRequest:
    """A worker asks for a qualification (for the web UI). AutoGranted types grant at once;
    a test with an answer key is scored at once (the marketplace grants on a pass); other
    requests wait for the requester. Refuses a request inside the retry delay."""
    info = qualification_info(qualification)
    if info.status != QualificationTypeInfo.Status.ACTIVE:
        raise AppError("qualification_unavailable", "This qualification cannot be requested now.", status=409)
    last = QualificationRequest.objects.filter(qualification=qualification, worker=worker).order_by("-id").first()
    if last is not None and last.status == QualificationRequest.Status.PENDING:
        raise AppError("already_requested", "Your request is waiting for the requester's answer.", status=409)
    if last is not None and info.retry_delay_seconds is not None:
        again = last.submitted_at + timedelta(seconds=info.retry_delay_seconds)
        if again > timezone.now():
            raise AppError("retry_later", f"You can ask again after {again:%Y-%m-%d %H:%M} UTC.", status=409)
    with transaction.atomic():
        request = QualificationRequest.objects.create(qualification=qualification, worker=worker, answers=answers or {})
        decided: str | None = None
        if info.auto_granted:
            task_services.qualification_grant(
                qualification=qualification, worker=worker, actor=None, value=info.auto_granted_value or 1
            )
            decided = QualificationRequest.Status.ACCEPTED
        elif qualification.has_test:
            # The co-op's governed retake rules apply here too (issue 27.4).
            attempt = task_services.qualification_test_take(
                qualification=qualification, worker=worker, answers=answers or {}
            )
            score = attempt.score_bps or 0
            decided = QualificationRequest.Status.ACCEPTED if attempt.passed else QualificationRequest.Status.REJECTED
            request.reason = f"Test score {score / 100:g}% (pass mark {attempt.pass_bps / 100:g}%)."
        if decided is not None:
            request.status = decided
            request.decided_at = timezone.now()
            request.save(update_fields=["status", "decided_at", "reason"])
        audit_record(
            actor=worker, action="mturk.qualification_requested", target=request, after={"status": request.status}
        )
    return request


def qualification_request_decide(
    *, request: QualificationRequest, actor: User, accept: bool, value: int = 1, reason: str = ""
) -> QualificationRequest:
    """AcceptQualificationRequest / RejectQualificationRequest, exactly once."""
    with transaction.atomic():
        request = (
            QualificationRequest.objects.select_for_update()
            .select_related("qualification", "worker")
            .get(pk=request.pk)
        )
        if request.status != QualificationRequest.Status.PENDING:
            raise MTurkError(f"This qualification request was already {request.status}.", CODE_INVALID_STATE)
        if accept:
            _require_usable(request.qualification)
            task_services.qualification_grant(
                qualification=request.qualification, worker=request.worker, actor=actor, value=value
            )
        request.status = QualificationRequest.Status.ACCEPTED if accept else QualificationRequest.Status.REJECTED
        request.reason = reason
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "reason", "decided_at"])
        audit_record(
            actor=actor, action="mturk.qualification_request_decided", target=request, after={"accept": accept}
        )
    return request


# --- Workers -----------------------------------------------------------------------------------


def workers_notify(
    *, organisation: Organisation, actor: User, subject: str, message: str, workers: list[User], sandbox: bool = False
) -> int:
    """NotifyWorkers: a notice to each worker (who must have worked for the organisation);
    from the sandbox endpoint (``sandbox``) marked "[Sandbox]"."""
    params: dict[str, Any] = {"requester": organisation.display_name, "subject": subject, "message": message}
    if sandbox:
        params["sandbox"] = True
    with transaction.atomic():
        notify(users=workers, category="requester_message", params=params)
        audit_record(
            actor=actor,
            action="mturk.workers_notified",
            target=organisation,
            after={"workers": [worker.pk for worker in workers], "subject": subject},
        )
    return len(workers)


# --- Notifications -----------------------------------------------------------------------------


def notification_destination_check(destination: str) -> None:
    from mturk.notifications import destination_allowed

    if not destination_allowed(destination):
        raise _invalid(
            "Notifications are delivered as signed HTTPS POST requests: set Destination to an https:// URL "
            "(SQS queues, SNS topics and e-mail addresses are not reachable from here)."
        )


def notification_settings_update(
    *,
    hit_type: HitType,
    actor: User,
    api_key: ApiKey,
    notification: dict[str, Any] | None,
    active: bool | None,
) -> NotificationSetting | None:
    """UpdateNotificationSettings: where events of the HIT type's HITs are POSTed, signed
    with the calling key's secret."""
    with transaction.atomic():
        existing = NotificationSetting.objects.select_for_update().filter(hit_type=hit_type).first()
        if notification is None:
            if existing is None:
                if active is None:
                    return None
                raise _invalid("This HIT type has no notification yet; send a Notification.")
            if active is not None and existing.active != active:
                existing.active = active
                existing.save(update_fields=["active", "updated_at"])
                audit_record(actor=actor, action="mturk.notification_active", target=hit_type, after={"active": active})
            return existing
        destination = str(notification.get("Destination", ""))
        notification_destination_check(destination)
        if len(destination) > MAX_URL_LENGTH or len(str(notification.get("Version", ""))) > 20:
            raise _invalid(f"The Destination may be at most {MAX_URL_LENGTH} characters and the Version 20.")
        events = [str(event) for event in notification.get("EventTypes") or []]
        unknown = sorted(set(events) - set(EVENT_TYPES))
        if not events or unknown:
            raise _invalid(f"EventTypes must list events of: {', '.join(EVENT_TYPES)}.")
        setting, _ = NotificationSetting.objects.update_or_create(
            hit_type=hit_type,
            defaults={
                "destination": destination,
                "transport": str(notification.get("Transport", "")),
                "version": str(notification.get("Version", "2014-08-15")),
                "event_types": events,
                "active": True if active is None else active,
                "api_key": api_key,
            },
        )
        audit_record(
            actor=actor,
            action="mturk.notification_set",
            target=hit_type,
            after={"destination": destination, "events": events},
        )
    return setting


def notification_test_send(
    *, organisation: Organisation, api_key: ApiKey, notification: dict[str, Any], event_type: str, sandbox: bool = False
) -> NotificationDelivery:
    """SendTestEventNotification: one delivery of a test event to the given destination
    (from the sandbox endpoint, a document marked ``"Sandbox": true``)."""
    from mturk import notifications

    destination = str(notification.get("Destination", ""))
    notification_destination_check(destination)
    event = {"EventType": event_type, "EventTimestamp": notifications.timestamp(timezone.now())}
    return notifications.delivery_queue(
        organisation=organisation,
        api_key=api_key,
        destination=destination,
        event_key=f"test:{secrets.token_hex(12)}",
        events=[event],
        sandbox=sandbox,
    )


# --- Worker side of ExternalQuestion -----------------------------------------------------------


def external_submit(*, assignment_id: str, answers: dict[str, Any]) -> Assignment:
    """Submits an accepted assignment from an external task page (MTurk's externalSubmit).

    The AssignmentId is an HMAC-tagged id bound to the slot and to one worker's attempt
    (``ids.assignment_attempt_public_id``), given only to that worker, as on MTurk. An id
    of an attempt that ended (the slot was returned, expired or re-taken) is refused
    with ``stale_assignment_id`` (409) and changes nothing; the marketplace then checks
    the state, the deadline and the answers under its own lock."""
    bound = ids.assignment_attempt_from_public_id(assignment_id)
    assignment = (
        Assignment.objects.select_related("worker", "batch").filter(pk=bound[0]).first() if bound is not None else None
    )
    if bound is None or assignment is None or assignment.worker is None:
        raise AppError("not_found", "No such assignment; open the task again from your task list.", status=404)
    # The holder's own attempt, still running or just submitted (a repeat then hears
    # "already submitted"); a returned or expired attempt is over for good.
    if not AssignmentAttempt.objects.filter(
        pk=bound[1],
        assignment=assignment,
        worker=assignment.worker,
        outcome__in=(AssignmentAttempt.Outcome.ACTIVE, AssignmentAttempt.Outcome.SUBMITTED),
    ).exists():
        raise AppError(
            "stale_assignment_id",
            "This assignment id belongs to an earlier attempt at the task; open the task again from your task list.",
            status=409,
        )
    if not assignment.batch.external_url:
        raise AppError("not_external", "This task is answered on the platform's own page.", status=409)
    return task_services.assignment_submit(worker=assignment.worker, assignment=assignment, answers=answers)


def reward_text(amount: int) -> str:
    """An amount as MTurk writes money: major units, no currency ("0.50")."""
    return major_text(amount, platform_currency())
