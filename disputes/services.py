"""Writes of the dispute procedure. Each public service is one transaction, checks its move
against ``disputes.states.CASE``, writes an audit row, and moves money only through the
marketplace's settlement services (escrow) and ``ledger.services.transfer`` (juror fees).

Lock order, always: organisation (mass-rejection guard only, FOR NO KEY UPDATE), case,
batch, then assignments in ascending id (the marketplace's own order). A case runs on the
rule versions in force when it opened (``Case.rule_versions``), as a batch runs on those
it was published under.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import assign_perm, remove_perm

from accounts.authentication import forget_tokens
from accounts.models import Organisation, StaffRole, User
from accounts.reasons import SUSPENSION_REASONS, reason_text
from accounts.selectors import require_staff_role
from core.audit import audit_record
from core.errors import AppError, NotFound, PermissionDenied
from core.labels import label
from core.models import AuditEvent
from core.queue import queue_on_commit
from disputes import draw, notices, states
from disputes.models import Case, CaseItem, Draw, Evidence, Juror, Precedent, Vote
from disputes.parties import ONLY_ROLE, REQUESTER, VIEW_CASE, WORKER, case_side, held_worker_ids, worker_labels
from disputes.states import CASE
from governance.selectors import rule_in_force, rule_value
from ledger import accounts as ledger_accounts
from ledger.services import transfer
from notifications.selectors import moment_for
from tasks import services as task_services
from tasks.models import Assignment, Batch

logger = logging.getLogger(__name__)

FULL_SHARE = 10_000
# Rules a case records when it opens; later rule changes never alter a running case.
CASE_RULES = (
    "requester_response_hours",
    "evidence_hours",
    "juror_vote_hours",
    "appeal_window_hours",
    "jury_size",
    "appeal_jury_size",
    "juror_fee",
    "juror_min_tenure_days",
    "conflict_lookback_days",
)
# How many of each worker's held items the panel of a mass case examines; its decision
# for that worker applies to all of that worker's items, and to nobody else's.
MASS_SAMPLE_SIZE = 5
MAX_TEXT = 10_000
MASS_REJECTION_RULE = gettext_lazy(
    "Over the “Mass-rejection period”, the guard counts the distinct workers whose work a requester "
    "rejected, never the rejections: a batch is frozen when the requester rejected the work of at least "
    "the “Mass-rejection workers” number of distinct workers in it (never fewer than 3) and they are at "
    "least the “Mass-rejection share” of the batch's distinct workers decided in the period; all the "
    "requester's batches are frozen together when it rejected the work of at least the “Mass-rejection "
    "count” of distinct workers across them. Rejecting all the junk of one or two workers never triggers "
    "it. A freeze on one batch holds that batch (paused) and its rejections; one across batches also "
    "stops new publishing until the case is decided. A panel decides each worker of the case on that "
    "worker's own held items (a sample where there are many)."
)


# --- Helpers -------------------------------------------------------------------------------------


def _require_text(name: str, text: str, message: str) -> str:
    text = text.strip()
    if not text:
        raise AppError("invalid", message, fields={name: [message]})
    if len(text) > MAX_TEXT:
        raise AppError(
            "invalid",
            _("%(name)s: at most %(MAX_TEXT)s characters.") % {"name": name, "MAX_TEXT": MAX_TEXT},
            fields={name: [_("Too long.")]},
        )
    return text


def _rule_versions(now: datetime) -> dict[str, dict[str, int]]:
    versions = {}
    for key in CASE_RULES:
        rule = rule_in_force(key, at=now)
        versions[key] = {"version_id": rule.version_id, "value": rule.value}
    return versions


def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _outcome(share_bps: int) -> str:
    if share_bps == 0:
        return Case.Outcome.UPHOLD
    if share_bps == FULL_SHARE:
        return Case.Outcome.PAY_FULL
    return Case.Outcome.PAY_PARTIAL


def _require_side(case: Case, user: User, side: str) -> None:
    if case_side(case=case, user=user) != side:
        if case_side(case=case, user=user) is None:
            raise NotFound("case")
        raise PermissionDenied(str(ONLY_ROLE[side]))


def _grant_parties(case: Case) -> None:
    if case.worker is not None:
        assign_perm(VIEW_CASE, case.worker, case)
    if case.organisation is not None:
        assign_perm(VIEW_CASE, case.organisation.staff_group, case)
    if case.respondent is not None:
        assign_perm(VIEW_CASE, case.respondent, case)


def _open_panel(case: Case, *, size: int, now: datetime) -> Draw:
    """Draws the panel of the case's current round, seats it and starts the evidence period."""
    made = draw.draw_make(case=case, size=size, purpose=Draw.Purpose.PANEL, at=now)
    if not made.chosen:
        raise AppError(
            "no_eligible_jurors",
            _("No member is eligible to serve on this case right now; the co-op is asked to recruit jurors."),
            status=409,
        )
    _seat(case, made)
    if case.kind == Case.Kind.MASS_REJECTION:
        by_worker: dict[int, list[int]] = {}
        for item_id, worker_id in case.items.filter(state=CaseItem.State.HELD).values_list("id", "worker_id"):
            by_worker.setdefault(worker_id, []).append(item_id)
        case.sample_item_ids = sorted(
            item_id
            for worker_id, item_ids in by_worker.items()
            for item_id in draw.draw_sample(seed=f"{made.seed}:{worker_id}", item_ids=item_ids, size=MASS_SAMPLE_SIZE)
        )
    case.due_at = now + timedelta(hours=case.rule("evidence_hours"))
    notices.jurors_drawn(case, made.chosen)
    return made


def _seat(case: Case, made: Draw) -> list[Juror]:
    seated_before = Juror.objects.filter(case=case).count()
    jurors = []
    for offset, user_id in enumerate(made.chosen, start=1):
        juror = Juror.objects.create(
            case=case,
            round=case.round,
            user_id=user_id,
            draw=made,
            label=f"Juror {seated_before + offset}",  # stored; pages show it in words (|party),
        )
        assign_perm(VIEW_CASE, juror.user, case)
        jurors.append(juror)
    return jurors


def _owe_juror_fees(case: Case) -> int:
    """Records the case's flat fee as owed to every juror who voted in the current round,
    whatever they voted, in the decision's own transaction; the job
    ``disputes.jobs.pay_juror_fees`` pays each one (``juror_fee_pay``), queued on commit and
    run periodically, so a crash between the decision and the payment loses no fee. Returns
    how many fees were newly owed; a juror already owed is left alone."""
    fee = case.rule("juror_fee")
    if fee <= 0:
        return 0
    owed = Juror.objects.filter(case=case, round=case.round, status=Juror.Status.VOTED, fee_owed=0).update(fee_owed=fee)
    if owed:
        queue_on_commit("disputes.jobs.pay_juror_fees")
    return owed


def juror_fee_pay(*, juror_id: int) -> bool:
    """System service, for the job ``disputes.jobs.pay_juror_fees``: pays one owed juror fee
    from the co-op's juror-fee account (an expense account that may run below zero) to the
    juror's earnings. Exactly once: the juror row is locked, the transfer id is per case and
    juror, and the transfer, the juror's ``fee_transfer_id`` and the audit row are one
    transaction, so a crash anywhere leaves the fee owed for the next run. Returns True if
    paid now, False if nothing is owed (never owed, or already paid)."""
    with transaction.atomic():
        juror = Juror.objects.select_for_update().select_related("user").filter(pk=juror_id).first()
        if juror is None or juror.fee_owed <= 0 or juror.fee_transfer_id:
            return False
        transfer_id = f"juror-fee:case:{juror.case_id}:juror:{juror.pk}"
        transfer(
            transfer_id=transfer_id,
            debit=ledger_accounts.coop_juror_fees(),
            credit=ledger_accounts.worker_earnings(juror.user),
            amount=juror.fee_owed,
            code="juror_fee",
            memo=f"case {juror.case_id} round {juror.round}",
        )
        juror.fee_transfer_id = transfer_id
        juror.save(update_fields=["fee_transfer_id"])
        audit_record(
            actor=None,
            action="case.juror_fee_paid",
            target=juror,
            after={"case": juror.case_id, "amount": juror.fee_owed, "transfer": transfer_id},
        )
    return True


def juror_fees_owed() -> list[tuple[int, datetime | None]]:
    """``(juror id, seated at)`` of every juror fee owed and not yet paid, oldest first."""
    return list(Juror.objects.filter(fee_owed__gt=0, fee_transfer_id="").order_by("id").values_list("id", "seated_at"))


# A case with more held items than this is settled after its closing commits, in chunks of
# ``EXECUTE_CHUNK`` items, each its own transaction (``case_execute_chunk``): the closing
# vote of a large mass case no longer settles every item in one long transaction.
EXECUTE_INLINE = 200
EXECUTE_CHUNK = 200


def _execute_items(case: Case, items: list[CaseItem]) -> None:
    # A mass case decided by a panel applies each worker's own share to that worker's items.
    case_share = case.outcome_share_bps
    assert case_share is not None
    for item in items:
        share = int(case.worker_shares.get(str(item.worker_id), case_share))
        assignment = Assignment.objects.get(pk=item.assignment_id)
        if share == 0:
            task_services.assignment_rejection_finalise(assignment=assignment)
        else:
            task_services.assignment_settle_outcome(assignment=assignment, share_bps=share)
        item.state = CaseItem.State.EXECUTED
        item.executed_share_bps = share
        item.save(update_fields=["state", "executed_share_bps"])


def _execute(case: Case, now: datetime) -> None:
    """Applies the outcome to every held item exactly once: 0 voids the escrow back to the
    requester (the rejection becomes final), a share pays that share, the rest returns.
    A large case is settled after commit in chunks (``case_execute_chunk``); its
    ``executed_at`` is set when the last chunk is done."""
    share = case.outcome_share_bps
    assert share is not None
    if case.kind == Case.Kind.SUSPENSION and share > 0 and case.worker is not None:
        _lift_suspension(case.worker, case)
    held = CaseItem.objects.filter(case=case, state=CaseItem.State.HELD)
    if held.count() > EXECUTE_INLINE:
        queue_on_commit("disputes.jobs.case_execute", case_id=case.pk)
        return
    _execute_items(case, list(held.select_for_update().order_by("id")))
    case.executed_at = now


def case_execute_chunk(*, case_id: int, limit: int | None = None) -> int:
    """Settles up to ``limit`` held items of a closed case in one transaction and returns
    how many; when none is left, records the case as executed. Idempotent and resumable:
    an item is settled only while held, under its row lock, so a chunk that failed is
    simply done again by the next call."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or case.closed_at is None or case.executed_at is not None or case.outcome_share_bps is None:
            return 0
        items = list(
            CaseItem.objects.select_for_update()
            .filter(case=case, state=CaseItem.State.HELD)
            .order_by("id")[: limit or EXECUTE_CHUNK]
        )
        _execute_items(case, items)
        if not CaseItem.objects.filter(case=case, state=CaseItem.State.HELD).exists():
            case.executed_at = timezone.now()
            case.save(update_fields=["executed_at"])
            audit_record(actor=None, action="case.executed", target=case, after={"items": case.items.count()})
    return len(items)


def cases_to_execute() -> list[tuple[int, datetime | None]]:
    """``(id, closed_at)`` of closed cases whose items are still being settled."""
    return list(
        Case.objects.filter(closed_at__isnull=False, executed_at__isnull=True, outcome_share_bps__isnull=False)
        .order_by("closed_at", "id")
        .values_list("id", "closed_at")
    )


def _publish_precedent(case: Case) -> None:
    reasons = [
        {"round": vote.juror.round, "share_bps": vote.share_bps, "reason": vote.reason}
        for vote in Vote.objects.filter(juror__case=case).select_related("juror").order_by("juror__round", "id")
    ]
    first = case.items.select_related("assignment__batch").order_by("id").first()
    Precedent.objects.get_or_create(
        case=case,
        defaults={
            "kind": case.kind,
            "task_type": first.assignment.batch.title if first else "",
            "rejection_reason": first.assignment.rejection_reason if first else "",
            "rejection_text": first.assignment.rejection_text if first else "",
            "outcome": case.outcome,
            "share_bps": case.outcome_share_bps or 0,
            "items": case.items.exclude(state=CaseItem.State.SPLIT).count(),
            "appealed": case.round > 1,
            "juror_reasons": reasons,
        },
    )


def _close(case: Case, *, action: str, share_bps: int, resolution: str, now: datetime, actor: User | None) -> Case:
    """Closes the case with its outcome and executes it; the caller holds the case lock."""
    before = case.state
    case.state = CASE.target(case.state, action)
    case.outcome_share_bps = share_bps
    case.outcome = _outcome(share_bps)
    case.resolution = resolution
    case.closed_at = now
    case.due_at = None
    if case.decided_at is None:
        case.decided_at = now
    _execute(case, now)
    case.save(
        update_fields=[
            "state",
            "outcome_share_bps",
            "outcome",
            "resolution",
            "closed_at",
            "due_at",
            "decided_at",
            "executed_at",
        ]
    )
    if resolution in (Case.Resolution.PANEL, Case.Resolution.APPEAL_PANEL):
        _publish_precedent(case)
    notices.case_decided(case)
    audit_record(
        actor=actor,
        action=f"case.{action}",
        target=case,
        before={"state": before},
        after={"state": case.state, "outcome": case.outcome, "share_bps": share_bps, "resolution": resolution},
    )
    return case


def _new_case(**fields: Any) -> Case:
    now = timezone.now()
    case = Case.objects.create(rule_versions=_rule_versions(now), **fields)
    case.due_at = now + timedelta(hours=case.rule("requester_response_hours"))
    case.save(update_fields=["due_at"])
    return case


# --- Opening ---------------------------------------------------------------------------------------


def dispute_open(*, worker: User, assignment_id: int, statement: str) -> Case:
    """Opens the worker's case on their provisionally rejected assignment, within the
    contest window. The rejection is held (the marketplace's finalisation job skips it)
    and the escrow stays reserved until the case closes. The requester must answer within
    the governed ``requester_response_hours`` or the worker wins.

    Raises ``not_found`` (not the worker's assignment), ``already_disputed``,
    ``not_rejected``, ``contest_window_closed`` (409) and ``invalid``; nothing changes then.
    """
    statement = _require_text("statement", statement, "Say why the rejection is wrong; the panel reads it.")
    batch_id = Assignment.objects.filter(pk=assignment_id, worker=worker).values_list("batch_id", flat=True).first()
    if batch_id is None:
        raise NotFound("assignment")
    with transaction.atomic():
        # The marketplace's lock order: the batch, then the assignment.
        Batch.objects.select_for_update().filter(pk=batch_id).first()
        assignment = (
            Assignment.objects.select_for_update()
            .select_related("batch")
            .filter(pk=assignment_id, worker=worker)
            .first()
        )
        if assignment is None:
            raise NotFound("assignment")
        if assignment.batch.is_sandbox:
            raise AppError(
                "sandbox",
                _("This is sandbox work, paid in play money: its rejections cannot be disputed."),
                status=409,
            )
        if assignment.status == Assignment.Status.DISPUTED:
            raise AppError("already_disputed", _("This rejection is already under dispute."), status=409)
        if assignment.status != Assignment.Status.REJECTED:
            raise AppError(
                "not_rejected",
                _("Only a rejection can be disputed. This assignment's state: %(state)s.")
                % {"state": label(assignment.status)},
                status=409,
            )
        now = timezone.now()
        if assignment.rejection_final_at is not None and assignment.rejection_final_at <= now:
            raise AppError(
                "contest_window_closed",
                _("The contest window ended at %(rejection_final_at)s; the rejection is final.")
                % {"rejection_final_at": moment_for(user=worker, moment=assignment.rejection_final_at)},
                status=409,
            )
        task_services.assignment_rejection_dispute(assignment=assignment, actor=worker)
        case = _new_case(
            kind=Case.Kind.REJECTION,
            worker=worker,
            organisation=assignment.batch.organisation,
            batch=assignment.batch,
            statement=statement,
        )
        CaseItem.objects.create(case=case, assignment=assignment, worker=worker)
        _grant_parties(case)
        notices.case_opened(case)
        audit_record(
            actor=worker,
            action="case.opened",
            target=case,
            after={"kind": case.kind, "assignment": assignment.pk, "due_at": case.due_at.isoformat()},  # type: ignore[union-attr]
        )
    return case


# The statement of an appeal opened by the suspension itself, until the worker gives theirs.
AUTO_APPEAL_STATEMENT = (
    "This appeal was opened automatically when the account was suspended. The worker has not yet given a statement."
)


def user_suspend(*, user: User, actor: User, code: str, reason: str) -> User:
    """A moderator suspends ``user`` with a reason from the published list
    (``accounts.reasons.SUSPENSION_REASONS``) and their own words, which the person reads.

    In the same transaction the appeal opens in the arbitration queue (a suspension case
    whose respondent is the moderator: silence past the response deadline lifts the
    suspension) and the person is told. A suspension stops new work only: the account
    stays active, so the worker can still sign in, see and withdraw money already earned,
    and argue the appeal. Raises ``permission_denied`` (not a moderator, or oneself),
    ``reason_required`` and ``already_suspended`` (409); nothing changes then.
    """
    require_staff_role(user=actor, role=StaffRole.MODERATOR, doing="suspend an account")
    if code not in SUSPENSION_REASONS:
        raise AppError(
            "reason_required",
            _("Choose a suspension reason from the published list."),
            fields={
                "code": [_("One of: %(SUSPENSION_REASONS)s.") % {"SUSPENSION_REASONS": ", ".join(SUSPENSION_REASONS)}]
            },
        )
    text = reason.strip()
    if not text:
        raise AppError(
            "reason_required",
            _("A suspension must state its reason to the person."),
            fields={"reason": [_("Say what happened.")]},
        )
    if len(text) > MAX_TEXT:
        raise AppError(
            "invalid",
            _("reason: at most %(MAX_TEXT)s characters.") % {"MAX_TEXT": MAX_TEXT},
            fields={"reason": [_("Too long.")]},
        )
    if actor.pk == user.pk:
        raise PermissionDenied(_("A moderator does not suspend their own account."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_suspended:
            raise AppError("already_suspended", _("This account is already suspended."), status=409)
        user.suspended_at = timezone.now()
        user.suspension_reason = reason_text(SUSPENSION_REASONS, code, text)
        user.suspension_code = code
        user.save(update_fields=["suspended_at", "suspension_reason", "suspension_code"])
        forget_tokens(user=user)
        audit_record(actor=actor, action="user.suspended", target=user, after={"code": code, "reason": text})
        case = _new_case(kind=Case.Kind.SUSPENSION, worker=user, respondent=actor, statement=AUTO_APPEAL_STATEMENT)
        _grant_parties(case)
        audit_record(actor=actor, action="case.opened", target=case, after={"kind": case.kind, "automatic": True})
        notices.suspended(user, detail=text)
    return user


def _lift_suspension(user: User, case: Case) -> None:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_suspended:  # lifted already (by a moderator)
        return
    before = {"suspended_at": locked.suspended_at.isoformat() if locked.suspended_at else None}
    locked.suspended_at = None
    locked.suspension_reason = ""
    locked.suspension_code = ""
    locked.save(update_fields=["suspended_at", "suspension_reason", "suspension_code"])
    forget_tokens(user=locked)
    audit_record(actor=None, action="user.suspension_lifted", target=locked, before=before, after={"case": case.pk})
    notices.suspension_lifted(locked, case=case)


def user_suspension_lift(*, user: User, actor: User, reason: str) -> User:
    """A moderator lifts a suspension, with a reason kept in the audit log. An appeal still
    waiting for the moderator's answer closes in the person's favour. Raises
    ``permission_denied``, ``reason_required``, ``not_suspended`` (409)."""
    require_staff_role(user=actor, role=StaffRole.MODERATOR, doing="lift a suspension")
    text = reason.strip()
    if not text:
        raise AppError("reason_required", _("Say why the suspension is lifted."), fields={"reason": [_("Required.")]})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_suspended:
            raise AppError("not_suspended", _("This account is not suspended."), status=409)
        before = {
            "suspended_at": locked.suspended_at.isoformat() if locked.suspended_at else None,
            "code": locked.suspension_code,
        }
        locked.suspended_at = None
        locked.suspension_reason = ""
        locked.suspension_code = ""
        locked.save(update_fields=["suspended_at", "suspension_reason", "suspension_code"])
        forget_tokens(user=locked)
        audit_record(actor=actor, action="user.suspension_lifted", target=locked, before=before, after={"reason": text})
        waiting = (
            Case.objects.select_for_update()
            .filter(kind=Case.Kind.SUSPENSION, worker=locked, state=states.AWAITING_RESPONSE)
            .first()
        )
        if waiting is not None:
            waiting.response_text = text
            waiting.save(update_fields=["response_text"])
            _close(
                waiting,
                action="accept",
                share_bps=FULL_SHARE,
                resolution=Case.Resolution.REQUESTER_ACCEPTED,
                now=timezone.now(),
                actor=actor,
            )
        notices.suspension_lifted(locked, reason=text)
    return locked


def suspension_appeal_open(*, worker: User, statement: str) -> Case:
    """The worker's statement on the appeal against their suspension. The appeal itself
    opened with the suspension; this gives it the worker's words (or, for a suspension
    older than that rule, opens it). The moderator who suspended answers it; silence past
    the deadline lifts the suspension. Raises ``not_suspended`` and ``already_appealed`` (409)."""
    statement = _require_text("statement", statement, "Say why the suspension is wrong; the panel reads it.")
    with transaction.atomic():
        worker = User.objects.select_for_update().get(pk=worker.pk)
        if not worker.is_suspended:
            raise AppError("not_suspended", _("Your account is not suspended."), status=409)
        open_case = (
            Case.objects.select_for_update()
            .filter(kind=Case.Kind.SUSPENSION, worker=worker)
            .exclude(state=states.CLOSED)
            .first()
        )
        if open_case is not None:
            if open_case.statement != AUTO_APPEAL_STATEMENT:
                raise AppError(
                    "already_appealed", _("Your appeal against this suspension is already open."), status=409
                )
            open_case.statement = statement
            open_case.save(update_fields=["statement"])
            audit_record(
                actor=worker, action="case.statement_given", target=open_case, after={"length": len(statement)}
            )
            return open_case
        suspended_by = (
            AuditEvent.objects.filter(action="user.suspended", target_type="accounts.user", target_id=str(worker.pk))
            .order_by("-id")
            .values_list("actor_id", flat=True)
            .first()
        )
        case = _new_case(kind=Case.Kind.SUSPENSION, worker=worker, respondent_id=suspended_by, statement=statement)
        _grant_parties(case)
        audit_record(actor=worker, action="case.opened", target=case, after={"kind": case.kind})
    return case


# --- The requester's answer ---------------------------------------------------------------------


def case_respond(*, case: Case, actor: User, action: str, text: str = "", share_bps: int | None = None) -> Case:
    """The requester's answer: ``accept`` (pay in full, the case closes), ``offer``
    (``share_bps`` of the reward, 1 to 9999, for the worker to accept or decline; not on a
    mass case) or ``contest`` (a panel is drawn; ``text`` gives the requester's reasons).

    Raises ``invalid_state`` (409) past the response stage, ``response_deadline_passed``,
    ``no_eligible_jurors`` (409, nothing changes), ``invalid``.
    """
    if action not in ("accept", "offer", "contest"):
        raise AppError("invalid", _("Answer with accept, offer or contest."), fields={"action": [_("Unknown action.")]})
    with transaction.atomic():
        case = _lock_case(case)
        _require_side(case, actor, REQUESTER)
        CASE.target(case.state, action)
        now = timezone.now()
        if case.due_at is not None and case.due_at <= now:
            raise AppError(
                "response_deadline_passed",
                _("The deadline to answer has passed; the case is decided for the worker."),
                status=409,
            )
        if action == "accept":
            case.response_text = text.strip()
            case.save(update_fields=["response_text"])
            return _close(
                case,
                action="accept",
                share_bps=FULL_SHARE,
                resolution=Case.Resolution.REQUESTER_ACCEPTED,
                now=now,
                actor=actor,
            )
        before = case.state
        if action == "offer":
            if case.kind != Case.Kind.REJECTION:
                raise AppError(
                    "offer_not_available",
                    _("A partial offer is made to one worker; on this case accept or contest."),
                    status=409,
                )
            if not isinstance(share_bps, int) or not 1 <= share_bps < FULL_SHARE:
                raise AppError(
                    "invalid",
                    _("Offer a share between 1 and 9999 basis points; to pay in full, accept."),
                    fields={"share_bps": [_("Between 1 and 9999.")]},
                )
            case.offer_share_bps = share_bps
            case.response_text = text.strip()
            case.state = CASE.target(case.state, "offer")
            case.due_at = now + timedelta(hours=case.rule("requester_response_hours"))
        else:
            case.response_text = _require_text("text", text, "Explain to the panel why the rejection stands.")
            case.state = CASE.target(case.state, "contest")
            _open_panel(case, size=case.rule("jury_size"), now=now)
        case.save(update_fields=["offer_share_bps", "response_text", "state", "due_at", "sample_item_ids"])
        audit_record(
            actor=actor,
            action=f"case.{action}",
            target=case,
            before={"state": before},
            after={"state": case.state, "share_bps": share_bps},
        )
    return case


def case_offer_answer(*, case: Case, worker: User, accept: bool) -> Case:
    """The worker accepts the requester's partial offer (the case closes and that share is
    paid) or declines it (a panel is drawn). Raises ``invalid_state`` and ``not_found``."""
    with transaction.atomic():
        case = _lock_case(case)
        _require_side(case, worker, WORKER)
        now = timezone.now()
        if accept:
            CASE.target(case.state, "accept_offer")
            assert case.offer_share_bps is not None
            return _close(
                case,
                action="accept_offer",
                share_bps=case.offer_share_bps,
                resolution=Case.Resolution.OFFER_ACCEPTED,
                now=now,
                actor=worker,
            )
        before = case.state
        case.state = CASE.target(case.state, "decline_offer")
        _open_panel(case, size=case.rule("jury_size"), now=now)
        case.save(update_fields=["state", "due_at", "sample_item_ids"])
        audit_record(actor=worker, action="case.decline_offer", target=case, before={"state": before})
    return case


# --- Evidence, votes, decisions -------------------------------------------------------------------


def case_add_evidence(*, case: Case, actor: User, text: str) -> Evidence:
    """A party adds evidence during the evidence period. Jurors see it under the side's
    label, never the author. Raises ``invalid_state`` outside the period."""
    text = _require_text("text", text, "Write the evidence you want the panel to read.")
    with transaction.atomic():
        case = _lock_case(case)
        side = case_side(case=case, user=actor)
        if side is None:
            raise NotFound("case")
        CASE.target(case.state, "add_evidence")
        evidence = Evidence.objects.create(case=case, round=case.round, side=side, author=actor, text=text)
        audit_record(actor=actor, action="case.evidence_added", target=case, after={"side": side})
    return evidence


def _valid_share(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= FULL_SHARE


def _mass_vote_shares(case: Case, worker_shares: dict[str, int] | None) -> dict[str, int]:
    """Checks a mass-case vote: one share for each worker whose items are held, keyed by the
    label jurors see; returns it keyed by worker id. Raises ``invalid`` naming what is wrong."""
    labels = worker_labels(case)
    held = held_worker_ids(case)
    by_label = {labels[worker_id]: worker_id for worker_id in held}
    given = worker_shares or {}
    missing = sorted(set(by_label) - set(given))
    unknown = sorted(set(given) - set(by_label))
    bad = sorted(label for label, share in given.items() if label in by_label and not _valid_share(share))
    if missing or unknown or bad:
        fields = {label: ["Give a share from 0 to 10000 for this worker."] for label in missing + bad}
        fields.update({label: ["No such worker in this case."] for label in unknown})
        raise AppError(
            "invalid",
            "On a mass case decide each worker's work on its own: one share (0 to 10000) per worker: "
            + ", ".join(sorted(by_label)),
            fields={"worker_shares": [f"{label}: {messages[0]}" for label, messages in fields.items()]},
        )
    return {str(by_label[label]): int(share) for label, share in given.items()}


def case_vote(
    *,
    case: Case,
    juror_user: User,
    reason: str,
    share_bps: int | None = None,
    worker_shares: dict[str, int] | None = None,
) -> Vote:
    """A juror's sealed vote: the share of the reward to pay (0 upholds the rejection, 10000
    pays in full; on a suspension appeal 0 keeps it, 10000 lifts it) and a written reason.
    On a mass case the juror decides each worker on their own items: ``worker_shares`` gives
    one share per worker label ("Worker 1", ...) whose items are held, and ``share_bps`` is
    not used. A vote cannot be changed. When the last juror of the round has voted, the round
    is decided at once (median of the shares, per worker on a mass case). Raises
    ``not_found`` for a non-juror, ``already_voted``, ``invalid_state`` outside voting and
    ``invalid``."""
    reason = _require_text("reason", reason, "Explain your vote; the reason is published with the decision.")
    if case.kind != Case.Kind.MASS_REJECTION and not _valid_share(share_bps):
        raise AppError("invalid", _("A share is 0 to 10000 basis points."), fields={"share_bps": [_("0 to 10000.")]})
    with transaction.atomic():
        case = _lock_case(case)
        per_worker: dict[str, int] = {}
        if case.kind == Case.Kind.MASS_REJECTION:
            per_worker = _mass_vote_shares(case, worker_shares)
            share_bps = decision_share(list(per_worker.values()))
        assert share_bps is not None
        juror = Juror.objects.select_for_update().filter(case=case, user=juror_user, round=case.round).first()
        if juror is None or juror.status == Juror.Status.REPLACED:
            raise NotFound("case")
        if case.kind == Case.Kind.SUSPENSION and share_bps not in (0, FULL_SHARE):
            raise AppError(
                "invalid",
                _("On a suspension appeal vote 0 (the suspension stands) or 10000 (lift it)."),
                fields={"share_bps": [_("0 or 10000.")]},
            )
        if juror.status == Juror.Status.VOTED:
            raise AppError("already_voted", _("You have voted on this case; a sealed vote cannot change."), status=409)
        CASE.target(case.state, "vote")
        vote = Vote.objects.create(juror=juror, share_bps=share_bps, worker_shares=per_worker, reason=reason)
        juror.status = Juror.Status.VOTED
        juror.save(update_fields=["status"])
        # The vote itself stays sealed: the audit row records only that a vote was cast.
        audit_record(actor=juror_user, action="case.vote_cast", target=case, after={"juror": juror.label})
        if not Juror.objects.filter(case=case, round=case.round, status=Juror.Status.SERVING).exists():
            _decide(case, timezone.now())
    return vote


def decision_share(shares: list[int]) -> int:
    """The panel's decision from its votes: the median share, and of an even count the
    upper middle one, so that a split panel resolves towards the worker whose pay is
    escrowed. Always one of the votes cast; never below what half the panel voted."""
    if not shares:
        raise ValueError(_("a decision needs at least one vote"))
    ordered = sorted(shares)
    return ordered[len(ordered) // 2]


def _decide(case: Case, now: datetime) -> Case:
    """Decides the round on the votes cast (``decision_share``) and owes the jurors their
    fees (paid by a job after commit, ``_owe_juror_fees``). On a
    mass case each worker is decided on their own: the median of the jurors' shares for that
    worker; the case's share is then the middle of those, for the record."""
    votes = list(Vote.objects.filter(juror__case=case, juror__round=case.round))
    share = decision_share([vote.share_bps for vote in votes])
    if case.kind == Case.Kind.MASS_REJECTION:
        per_worker: dict[str, list[int]] = {}
        for vote in votes:
            for worker_id, worker_share in vote.worker_shares.items():
                per_worker.setdefault(worker_id, []).append(int(worker_share))
        case.worker_shares = {worker_id: decision_share(shares) for worker_id, shares in per_worker.items()}
        if case.worker_shares:
            share = decision_share(list(case.worker_shares.values()))
        case.save(update_fields=["worker_shares"])
    _owe_juror_fees(case)
    if case.round > 1:
        return _close(
            case, action="decide_final", share_bps=share, resolution=Case.Resolution.APPEAL_PANEL, now=now, actor=None
        )
    before = case.state
    case.state = CASE.target(case.state, "decide")
    case.outcome_share_bps = share
    case.outcome = _outcome(share)
    case.decided_at = now
    case.due_at = now + timedelta(hours=case.rule("appeal_window_hours"))
    case.save(update_fields=["state", "outcome_share_bps", "outcome", "decided_at", "due_at"])
    notices.case_decided(case)
    audit_record(
        actor=None,
        action="case.decided",
        target=case,
        before={"state": before},
        after={"outcome": case.outcome, "share_bps": share},
    )
    return case


def case_appeal(*, case: Case, actor: User, reason: str) -> Case:
    """Either party appeals a first-round decision once, within the appeal window: a larger
    panel of members who have not sat on the case is drawn. Raises ``appeal_not_available``
    (a second appeal), ``appeal_window_closed``, ``invalid_state``, ``no_eligible_jurors``."""
    reason = _require_text("reason", reason, "Say why the decision is wrong; the appeal panel reads it.")
    with transaction.atomic():
        case = _lock_case(case)
        side = case_side(case=case, user=actor)
        if side is None:
            raise NotFound("case")
        if case.round > 1:
            raise AppError("appeal_not_available", _("A case can be appealed only once."), status=409)
        CASE.target(case.state, "appeal")
        now = timezone.now()
        if case.due_at is not None and case.due_at <= now:
            raise AppError(
                "appeal_window_closed", _("The appeal window has closed; the decision is final."), status=409
            )
        before = {"state": case.state, "outcome": case.outcome, "share_bps": case.outcome_share_bps}
        case.state = CASE.target(case.state, "appeal")
        case.round = 2
        case.appealed_by = side
        case.appeal_reason = reason
        case.outcome = ""
        case.outcome_share_bps = None
        case.decided_at = None
        case.worker_shares = {}
        _open_panel(case, size=case.rule("appeal_jury_size"), now=now)
        case.save(
            update_fields=[
                "state",
                "round",
                "appealed_by",
                "appeal_reason",
                "outcome",
                "outcome_share_bps",
                "decided_at",
                "due_at",
                "sample_item_ids",
                "worker_shares",
            ]
        )
        audit_record(actor=actor, action="case.appealed", target=case, before=before, after={"side": side})
    return case


def case_split(*, case: Case, worker: User, statement: str) -> Case:
    """A worker of a mass case asks for their own case: their items move to a new case
    (which starts at the requester's answer) and leave the panel's decision. When no
    item is left, the mass case closes. Raises ``not_found``, ``invalid_state``."""
    statement = _require_text("statement", statement, "Say why the rejection of your work is wrong.")
    with transaction.atomic():
        case = _lock_case(case)
        if case.kind != Case.Kind.MASS_REJECTION or case_side(case=case, user=worker) != WORKER:
            raise NotFound("case")
        if case.state not in states.SPLITTABLE:
            raise AppError(
                "invalid_state",
                _("This case can no longer be split. Its stage: %(state)s.") % {"state": label(case.state)},
                status=409,
            )
        items = list(CaseItem.objects.select_for_update().filter(case=case, worker=worker, state=CaseItem.State.HELD))
        batch_ids = {item.assignment.batch_id for item in items}
        own = _new_case(
            kind=Case.Kind.REJECTION,
            worker=worker,
            organisation=case.organisation,
            batch_id=batch_ids.pop() if len(batch_ids) == 1 else None,
            parent=case,
            statement=statement,
        )
        CaseItem.objects.filter(pk__in=[item.pk for item in items]).update(state=CaseItem.State.SPLIT, split_to=own)
        CaseItem.objects.bulk_create(
            [CaseItem(case=own, assignment_id=item.assignment_id, worker=worker) for item in items]
        )
        remove_perm(VIEW_CASE, worker, case)
        _grant_parties(own)
        audit_record(actor=worker, action="case.split", target=case, after={"new_case": own.pk, "items": len(items)})
        if not case.items.filter(state=CaseItem.State.HELD).exists():
            before = case.state
            case.state = CASE.target(case.state, "empty")
            case.resolution = Case.Resolution.SPLIT
            case.closed_at = timezone.now()
            case.due_at = None
            case.save(update_fields=["state", "resolution", "closed_at", "due_at"])
            audit_record(actor=None, action="case.emptied", target=case, before={"state": before})
    return own


# --- Deadlines (Celery) --------------------------------------------------------------------------------


def case_deadline_pass(*, case_id: int) -> str:
    """Acts on a case whose stage deadline has passed; returns what it did. Idempotent:
    a case not due (or already moved on) is left alone ("not_due").

    - response deadline: the requester was silent, the worker wins in full;
    - offer deadline: the worker did not answer, a panel is drawn;
    - evidence deadline: voting opens;
    - vote deadline: jurors who have not voted are replaced (or, with nobody left to
      draw, the round is decided on the votes cast);
    - appeal window: the decision becomes final and is executed.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        now = timezone.now()
        if case is None or case.state not in states.TIMED or case.due_at is None or case.due_at > now:
            return "not_due"
        before = case.state
        if case.state == states.AWAITING_RESPONSE:
            _close(
                case,
                action="lapse_response",
                share_bps=FULL_SHARE,
                resolution=Case.Resolution.REQUESTER_SILENT,
                now=now,
                actor=None,
            )
            return "worker_won_by_silence"
        if case.state == states.OFFER_MADE:
            case.state = CASE.target(case.state, "lapse_offer")
            _open_panel(case, size=case.rule("jury_size"), now=now)
            case.save(update_fields=["state", "due_at", "sample_item_ids"])
            audit_record(actor=None, action="case.lapse_offer", target=case, before={"state": before})
            return "panel_drawn"
        if case.state == states.EVIDENCE:
            case.state = CASE.target(case.state, "close_evidence")
            case.due_at = now + timedelta(hours=case.rule("juror_vote_hours"))
            case.save(update_fields=["state", "due_at"])
            audit_record(actor=None, action="case.close_evidence", target=case, before={"state": before})
            notices.voting_opened(case)
            return "voting_opened"
        if case.state == states.VOTING:
            return _replace_or_decide(case, now)
        assert case.outcome_share_bps is not None
        _close(
            case,
            action="finalise",
            share_bps=case.outcome_share_bps,
            resolution=Case.Resolution.PANEL,
            now=now,
            actor=None,
        )
        return "finalised"


def _replace_or_decide(case: Case, now: datetime) -> str:
    CASE.target(case.state, "replace_jurors")
    late = list(Juror.objects.select_for_update().filter(case=case, round=case.round, status=Juror.Status.SERVING))
    voted = Juror.objects.filter(case=case, round=case.round, status=Juror.Status.VOTED).count()
    if late:
        for juror in late:
            juror.status = Juror.Status.REPLACED
            juror.save(update_fields=["status"])
            remove_perm(VIEW_CASE, juror.user, case)
        made = draw.draw_make(case=case, size=len(late), purpose=Draw.Purpose.REPLACEMENT, at=now)
        seated = _seat(case, made)
        audit_record(
            actor=None,
            action="case.jurors_replaced",
            target=case,
            after={"replaced": [j.label for j in late], "seated": [j.label for j in seated]},
        )
        if seated or voted == 0:
            # Fresh jurors get the full voting time; with nobody to vote, wait for new members.
            case.due_at = now + timedelta(hours=case.rule("juror_vote_hours"))
            case.save(update_fields=["due_at"])
            notices.jurors_replaced(case, [juror.user_id for juror in late])
            notices.jurors_drawn(case, [juror.user_id for juror in seated])
            if not seated:
                logger.warning("case %s: no juror could be drawn to replace late jurors", case.pk)
            return "jurors_replaced" if seated else "waiting_for_jurors"
    if voted == 0:
        case.due_at = now + timedelta(hours=case.rule("juror_vote_hours"))
        case.save(update_fields=["due_at"])
        return "waiting_for_jurors"
    _decide(case, now)
    return "decided"


def cases_due_with_times(*, now: datetime | None = None) -> list[tuple[int, datetime | None]]:
    """``(id, due_at)`` of cases whose stage deadline has passed, oldest deadline first."""
    moment = now or timezone.now()
    return list(
        Case.objects.filter(state__in=states.TIMED, due_at__lte=moment)
        .order_by("due_at", "id")
        .values_list("id", "due_at")
    )


def cases_due(*, now: datetime | None = None) -> list[int]:
    """Ids of cases whose stage deadline has passed, oldest deadline first."""
    moment = now or timezone.now()
    return list(
        Case.objects.filter(state__in=states.TIMED, due_at__lte=moment)
        .order_by("due_at", "id")
        .values_list("id", flat=True)
    )


# --- The mass-rejection guard -------------------------------------------------------------------------


def _batch_triggered(rejected_workers: int, decided_workers: int, share_bps: int, min_workers: int) -> bool:
    """A batch is mass-rejected when the requester rejected work of at least ``min_workers``
    distinct workers (never fewer than three: rejecting all the junk of one or two workers is
    not a mass) and they are at least ``share_bps`` of the batch's distinct decided workers."""
    return rejected_workers >= max(3, min_workers) and rejected_workers * FULL_SHARE >= share_bps * decided_workers


def mass_rejection_check(*, organisation_id: int) -> Case | None:
    """The mass-rejection guard for one requester. Over the governed period
    (``mass_rejection_period_hours``) it counts distinct workers, not rejections: a batch
    is mass-rejected when the requester rejected work of at least
    ``mass_rejection_min_workers`` distinct workers in it and they are at least
    ``mass_rejection_share_bps`` of the batch's distinct decided workers; the pattern spans
    batches when it rejected work of ``mass_rejection_min_count`` distinct workers across
    its batches. Every provisional rejection in scope is frozen (held, escrow still
    reserved) into one consolidated case whose answer is due. A single-batch case holds
    that batch (paused until decided); a case spanning batches also stops the requester
    from publishing until it is decided.

    Idempotent: rejections already held are left alone; new ones join the organisation's
    mass case still awaiting its answer, otherwise a new case opens. Returns the
    case that received rejections, or None.
    """
    with transaction.atomic():
        # FOR NO KEY UPDATE: serialises runs of the guard for one requester without blocking
        # the inserts (cases, batches) that merely reference the organisation.
        organisation = Organisation.objects.select_for_update(no_key=True).filter(pk=organisation_id).first()
        if organisation is None:
            return None
        now = timezone.now()
        since = now - timedelta(hours=rule_value("mass_rejection_period_hours", at=now))
        share_bps = rule_value("mass_rejection_share_bps", at=now)
        min_workers = rule_value("mass_rejection_min_workers", at=now)
        min_count = rule_value("mass_rejection_min_count", at=now)
        decisions = list(
            # Sandbox work (play money, the requester's own testers) is never counted.
            Assignment.objects.filter(batch__organisation=organisation, worker__isnull=False, batch__is_sandbox=False)
            .filter(Q(approved_at__gte=since) | Q(rejected_at__gte=since))
            .values_list("id", "batch_id", "worker_id", "status", "rejected_at")
        )
        decided_workers: dict[int, set[int]] = {}
        rejected_workers: dict[int, set[int]] = {}
        rejected_ids: dict[int, list[int]] = {}
        for assignment_id, batch_id, worker_id, _status, rejected_at in decisions:
            decided_workers.setdefault(batch_id, set()).add(worker_id)
            if rejected_at is not None and rejected_at >= since:
                rejected_workers.setdefault(batch_id, set()).add(worker_id)
                rejected_ids.setdefault(batch_id, []).append(assignment_id)
        everyone_rejected = set().union(*rejected_workers.values()) if rejected_workers else set()
        to_freeze: set[int] = set()
        if len(everyone_rejected) >= max(3, min_count):
            # The pattern spans the requester's batches: every rejection in the period.
            for ids in rejected_ids.values():
                to_freeze.update(ids)
        else:
            for batch_id, workers in rejected_workers.items():
                if _batch_triggered(len(workers), len(decided_workers[batch_id]), share_bps, min_workers):
                    to_freeze.update(rejected_ids[batch_id])
        if not to_freeze:
            return None
        # New rejections join a mass case only while it awaits the requester's answer (once a
        # panel is drawn, its conflicts and sample were computed for the items it had), and
        # only the case of the same scope: the one batch, or the requester's batches at large.
        batch_ids = sorted({batch_id for batch_id, ids in rejected_ids.items() if to_freeze.intersection(ids)})
        scope_batch_id = batch_ids[0] if len(batch_ids) == 1 else None
        # Lock order: the case, the batches, then the assignments.
        scope = Q(batch__isnull=True) if scope_batch_id is None else Q(batch_id=scope_batch_id)
        case = (
            Case.objects.select_for_update()
            .filter(kind=Case.Kind.MASS_REJECTION, organisation=organisation, state=states.AWAITING_RESPONSE)
            .filter(scope)
            .order_by("id")
            .first()
        )
        list(Batch.objects.select_for_update().filter(pk__in=batch_ids).order_by("id"))
        assignments = list(
            Assignment.objects.select_for_update()
            .select_related("batch")
            # A rejection past its contest window is final (the marketplace's job voids it);
            # freezing it now would race that job.
            .filter(pk__in=sorted(to_freeze), status=Assignment.Status.REJECTED, rejection_final_at__gt=now)
            .order_by("id")
        )
        if not assignments:
            return None
        created = case is None
        if case is None:
            case = _new_case(
                kind=Case.Kind.MASS_REJECTION,
                organisation=organisation,
                batch_id=scope_batch_id,
                statement=(
                    f"Opened by the mass-rejection guard: this requester rejected the work of "
                    f"{len({a.worker_id for a in assignments})} workers "
                    + ("in one batch" if scope_batch_id else "across its batches")
                    + f" within {rule_value('mass_rejection_period_hours', at=now)} hours, past the co-op's limit. "
                    "Each worker's work is decided for that worker alone."
                ),
            )
            assign_perm(VIEW_CASE, organisation.staff_group, case)
            notices.case_opened(case)
        if scope_batch_id is not None:
            # The affected batch is held (no new claims) until the case is decided.
            task_services.batch_hold_for_case(batch_id=scope_batch_id)
        for assignment in assignments:
            task_services.assignment_rejection_dispute(assignment=assignment)
        CaseItem.objects.bulk_create(
            [CaseItem(case=case, assignment=a, worker_id=a.worker_id) for a in assignments],  # type: ignore[misc]
            batch_size=2000,
        )
        # One INSERT for every worker's permission (guardian ignores the ones already held).
        assign_perm(VIEW_CASE, list(User.objects.filter(pk__in={a.worker_id for a in assignments})), case)
        audit_record(
            actor=None,
            action="case.mass_rejection_frozen",
            target=case,
            after={"created": created, "assignments": [a.pk for a in assignments]},
        )
        tell_mass_case_workers(case=case, assignments=assignments)
    return case


def tell_mass_case_workers(*, case: Case, assignments: list[Assignment]) -> None:
    """Every worker whose rejected work joins a mass case is told, once per case, that it is
    judged for them alone, that they can add evidence and ask to be heard alone."""
    notices.mass_case_workers_told(case=case, worker_ids={a.worker_id for a in assignments if a.worker_id})


# --- A requester withdraws its own rejection -------------------------------------------------------


def case_rejection_withdraw(*, assignment_id: int, actor: User | None) -> bool:
    """The case side of ``tasks.services.assignment_rejection_withdraw`` (registered as a
    ``tasks.hooks`` withdrawal at start-up): a requester who takes back a rejection under
    dispute concedes the case. A worker's own case still awaiting the requester's answer
    closes as if the requester had accepted it (paid in full, ``requester_accepted``), so
    the deadline job finds nothing left to do. Returns False when no case holds the
    rejection. Trusts its caller for the permission (the marketplace checked the reviewer).

    Raises ``rejection_under_dispute`` (409) once the case is past the requester's answer
    or is a mass case: the requester answers it there (``case_respond``); nothing changes.
    """
    with transaction.atomic():
        case_id = (
            CaseItem.objects.filter(assignment_id=assignment_id, state=CaseItem.State.HELD)
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id is None:
            return False
        # Lock order: the case, then (in _close) the assignment.
        case = Case.objects.select_for_update().get(pk=case_id)
        if not CaseItem.objects.filter(case=case, assignment_id=assignment_id, state=CaseItem.State.HELD).exists():
            return False  # closed (or split) while we waited for the lock: no case holds it now
        if case.kind != Case.Kind.REJECTION or case.state != Case.State.AWAITING_RESPONSE:
            raise AppError(
                "rejection_under_dispute",
                _(
                    "This rejection is held by dispute case %(number)s; answer the case under "
                    "/api/disputes/cases/ instead. The case's stage: %(state)s."
                )
                % {"number": case.pk, "state": label(case.state)},
                status=409,
                details={"case": case.pk, "state": case.state},
            )
        case.response_text = "The requester withdrew the rejection."
        case.save(update_fields=["response_text"])
        _close(
            case,
            action="accept",
            share_bps=FULL_SHARE,
            resolution=Case.Resolution.REQUESTER_ACCEPTED,
            now=timezone.now(),
            actor=actor,
        )
    return True
