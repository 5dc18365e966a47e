"""Reads of the dispute procedure. A case is reached only through ``access_case``: the
parties and the drawn jurors hold a guardian object permission on it, nobody else sees it
(``NotFound``, so an outsider cannot even learn that it exists).

What each reader sees is built here too: jurors get labels instead of identities and only
what the case needs; parties see jurors as "Juror 1", "Juror 2", ...; sealed votes stay
sealed until the round is decided.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from accounts.models import Organisation, User
from core.errors import NotFound, PermissionDenied
from disputes import draw, states
from disputes.models import Case, CaseItem, Draw, Evidence, Juror, Precedent, Vote
from disputes.parties import JUROR, REQUESTER, VIEW_CASE, WORKER, case_side, worker_labels
from tasks.messages import message_view, shared_threads_for_assignments


@dataclass(frozen=True, slots=True)
class CaseAccess:
    case: Case
    user: User
    # "worker", "requester" or "juror"
    role: str
    juror: Juror | None = None


def access_case(*, user: User, case_id: int) -> CaseAccess:
    """The case and the caller's role in it, if they are a party or a seated juror."""
    case = Case.objects.select_related("organisation", "batch").filter(pk=case_id).first()
    if case is None or not user.is_authenticated or not user.has_perm(VIEW_CASE, case):
        raise NotFound("case")
    juror = Juror.objects.filter(case=case, user=user).exclude(status=Juror.Status.REPLACED).first()
    if juror is not None:
        return CaseAccess(case=case, user=user, role=JUROR, juror=juror)
    side = case_side(case=case, user=user)
    if side is None:
        raise NotFound("case")
    return CaseAccess(case=case, user=user, role=side)


def cases_for_party(*, user: User) -> QuerySet[Case]:
    """Cases the user takes part in as worker or requester staff, newest first."""
    visible = get_objects_for_user(user, VIEW_CASE, klass=Case, accept_global_perms=False)
    return visible.exclude(jurors__user=user).order_by("-id")


def juror_queue(*, user: User) -> QuerySet[Case]:
    """Cases where the user sits on the current panel (evidence or voting stage)."""
    seats = Juror.objects.filter(user=user, status__in=(Juror.Status.SERVING, Juror.Status.VOTED))
    return (
        Case.objects.filter(state__in=(states.EVIDENCE, states.VOTING), jurors__in=seats)
        .select_related("batch")
        .distinct()
        .order_by("due_at", "id")
    )


def precedents_list() -> QuerySet[Precedent]:
    """Decided cases, anonymised: readable by every signed-in member and requester."""
    return Precedent.objects.order_by("-published_at", "-id")


def rejection_is_held(assignment_id: int) -> bool:
    """True while a dispute holds this rejection (the marketplace must not finalise it)."""
    return CaseItem.objects.filter(assignment_id=assignment_id, state=CaseItem.State.HELD).exists()


def organisation_publish_blocked(organisation: Organisation) -> bool:
    """True while a mass-rejection case spanning the organisation's batches is undecided:
    the requester may not publish new batches until then (a case on one batch holds only
    that batch, ``batch_held_by_case``)."""
    return Case.objects.filter(
        kind=Case.Kind.MASS_REJECTION, organisation=organisation, state__in=states.UNDECIDED, batch__isnull=True
    ).exists()


def batch_held_by_case(batch_id: int) -> bool:
    """True while an undecided mass case holds this batch: it stays paused until decided."""
    return Case.objects.filter(kind=Case.Kind.MASS_REJECTION, batch_id=batch_id, state__in=states.UNDECIDED).exists()


def organisation_dispute_record(*, organisation: Organisation) -> dict[str, int]:
    """The requester's public dispute record: rejections overturned (work paid in full or
    in part after a dispute) and upheld, counted per disputed assignment."""
    figures = CaseItem.objects.filter(case__organisation=organisation, state=CaseItem.State.EXECUTED).aggregate(
        overturned=Count("id", filter=Q(executed_share_bps__gt=0)),
        upheld=Count("id", filter=Q(executed_share_bps=0)),
    )
    return {"overturned": figures["overturned"], "upheld": figures["upheld"]}


def case_draws_for_audit(*, user: User, case_id: int) -> list[dict[str, Any]]:
    """Every draw of a case with its seed, pool and result and whether a re-run gives the
    same jurors. Co-op staff only: the pool and result name members, which the parties
    must not learn."""
    if not user.is_staff:
        raise PermissionDenied(_("Only co-op staff audit juror draws."))
    return [
        {
            "id": made.pk,
            "round": made.round,
            "purpose": made.purpose,
            "seed": made.seed,
            "pool": made.pool,
            "size": made.size,
            "chosen": made.chosen,
            "reproduced": draw.draw_rerun(seed=made.seed, pool=made.pool, size=made.size) == made.chosen,
        }
        for made in Draw.objects.filter(case_id=case_id).order_by("id")
    ]


# --- What a reader sees -------------------------------------------------------------------------

# Jurors judge the work, not the requester (issue 19 point 4): everything a juror reads has
# the organisation's names and the batch title replaced by these labels. What the labels
# cannot hide is written in docs/security.md ("What jurors see").
REQUESTER_LABEL = "Requester A"
BATCH_LABEL = "Batch 1"
_SHORTEST_NAME = 3  # shorter names ("AI", "X") would blank out ordinary words


@dataclass(frozen=True, slots=True)
class JurorRedaction:
    """The names a juror must not read for one case, longest first, with their labels."""

    names: tuple[tuple[str, str], ...]

    def text(self, value: str) -> str:
        for name, label in self.names:
            value = _replace_folded(value, name, label)
        return value

    def data(self, value: Any) -> Any:
        """``text`` applied to every string in a JSON-like value (task input, answers)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(key)): self.data(item) for key, item in value.items()}
        return value


def _replace_folded(text: str, name: str, label: str) -> str:
    """Every occurrence of ``name`` in ``text``, in any letter case, replaced by ``label``."""
    return re.sub(re.escape(name), lambda _match: label, text, flags=re.IGNORECASE)


def juror_redaction(*, case: Case) -> JurorRedaction:
    """The organisation's names (display name, legal name, slug with and without dashes,
    every former display name) and the titles of the case's batches, with their labels."""
    from accounts.models import OrganisationNameChange
    from tasks.models import Batch

    names: dict[str, str] = {}
    organisation = case.organisation
    if organisation is not None:
        candidates = [organisation.display_name, organisation.legal_name, organisation.slug]
        candidates.append(organisation.slug.replace("-", " "))
        for change in OrganisationNameChange.objects.filter(organisation=organisation):
            candidates += [change.old_name, change.new_name]
        for candidate in candidates:
            if candidate and len(candidate.strip()) >= _SHORTEST_NAME:
                names.setdefault(candidate.strip(), REQUESTER_LABEL)
    batch_ids = set(CaseItem.objects.filter(case=case).values_list("assignment__batch_id", flat=True))
    if case.batch_id is not None:
        batch_ids.add(case.batch_id)
    for title in Batch.objects.filter(pk__in=batch_ids).values_list("title", flat=True):
        if title and len(title.strip()) >= _SHORTEST_NAME:
            names[title.strip()] = BATCH_LABEL
    ordered = sorted(names.items(), key=lambda pair: len(pair[0]), reverse=True)
    return JurorRedaction(names=tuple(ordered))


def _item_for_juror(item: CaseItem, label: str, redaction: JurorRedaction) -> dict[str, Any]:
    assignment = item.assignment
    return {
        "item": item.pk,
        "worker": label,
        "input": redaction.data(assignment.task.input),
        "answers": redaction.data(assignment.answers),
        "rejection_reason": assignment.rejection_reason,
        "rejection_text": redaction.text(assignment.rejection_text),
        # A rejection under the batch's control threshold carries its checks (issue 27.1).
        "control_evidence": redaction.data(assignment.control_evidence),
    }


def _item_for_party(item: CaseItem) -> dict[str, Any]:
    assignment = item.assignment
    return {
        "item": item.pk,
        "assignment_id": assignment.pk,
        "worker": item.worker.pseudonym,
        "state": item.state,
        "rejection_reason": assignment.rejection_reason,
        "rejection_text": assignment.rejection_text,
        "executed_share_bps": item.executed_share_bps,
        "control_evidence": assignment.control_evidence,
    }


def _votes_visible(case: Case, round_number: int) -> bool:
    return case.round > round_number or case.state in (states.DECIDED, states.CLOSED)


def case_view(*, access: CaseAccess) -> dict[str, Any]:
    """The case as ``access.role`` may see it. A juror reads the task's instructions and
    the work with the requester's names and the batch title replaced by neutral labels
    (``juror_redaction``), and never the requester's name."""
    case = access.case
    is_juror = access.role == JUROR
    redaction = juror_redaction(case=case) if is_juror else JurorRedaction(names=())
    items = list(
        CaseItem.objects.filter(case=case)
        .exclude(state=CaseItem.State.SPLIT)
        .select_related("assignment__task", "worker")
        .order_by("id")
    )
    labels = worker_labels(case)
    workers: list[dict[str, Any]] = []
    if is_juror:
        # Pseudonyms local to the case: "Worker", or "Worker 1", "Worker 2" on a mass case.
        shown = [i for i in items if not case.sample_item_ids or i.pk in case.sample_item_ids]
        item_rows = [_item_for_juror(item, labels[item.worker_id], redaction) for item in shown]
        if case.kind == Case.Kind.MASS_REJECTION:
            # Each worker is decided on their own held items (a sample where there are many).
            for worker_id in sorted({item.worker_id for item in items}, key=lambda w: labels[w]):
                held = [item for item in items if item.worker_id == worker_id and item.state == CaseItem.State.HELD]
                workers.append(
                    {
                        "label": labels[worker_id],
                        "held_items": len(held),
                        "items": [row for row in item_rows if row["worker"] == labels[worker_id]],
                        "decided_share_bps": case.worker_shares.get(str(worker_id)),
                    }
                )
    else:
        if access.role == WORKER:
            # On a mass case each worker sees only their own work, not their colleagues'.
            items = [item for item in items if item.worker_id == access.user.pk]
        item_rows = [_item_for_party(item) for item in items]
    jurors = list(Juror.objects.filter(case=case).order_by("id"))
    votes = {vote.juror_id: vote for vote in Vote.objects.filter(juror__case=case)}
    panel = []
    for juror in jurors:
        if juror.status == Juror.Status.REPLACED and is_juror:
            continue
        row: dict[str, Any] = {"label": juror.label, "round": juror.round, "status": juror.status}
        vote = votes.get(juror.pk)
        own = access.juror is not None and access.juror.pk == juror.pk
        if vote is not None and (own or _votes_visible(case, juror.round)):
            row["share_bps"] = vote.share_bps
            row["reason"] = redaction.text(vote.reason)
        panel.append(row)
    evidence = [
        {
            "side": e.side,
            "round": e.round,
            "text": redaction.text(e.text),
            "created_at": e.created_at,
            # On a mass case a worker's evidence is about their own work: jurors see whose.
            "worker": labels.get(e.author_id, "") if case.kind == Case.Kind.MASS_REJECTION and e.side == WORKER else "",
        }
        for e in Evidence.objects.filter(case=case).order_by("id")
    ]
    batch = case.batch
    body: dict[str, Any] = {
        "id": case.pk,
        "kind": case.kind,
        "state": case.state,
        "round": case.round,
        "due_at": case.due_at,
        "role": access.role,
        "statement": redaction.text(case.statement),
        "response_text": redaction.text(case.response_text),
        "offer_share_bps": case.offer_share_bps,
        "outcome": case.outcome,
        "outcome_share_bps": case.outcome_share_bps,
        "resolution": case.resolution,
        "appealed_by": case.appealed_by,
        "appeal_reason": redaction.text(case.appeal_reason),
        "task_type": (BATCH_LABEL if is_juror else batch.title) if batch else "",
        "task_description": redaction.text(batch.description) if batch else "",
        "items": item_rows,
        "workers": workers,
        "panel": panel,
        "evidence": evidence,
        # Messages about the task, only where both parties agreed to put them in the file.
        "conversations": _shared_conversations([item.assignment_id for item in items], jurors_see_labels=is_juror),
        "created_at": case.created_at,
    }
    if not is_juror:
        body["requester"] = case.organisation.display_name if case.organisation else "the co-op"
    if access.role == WORKER and case.kind == Case.Kind.MASS_REJECTION:
        # The decision for this worker's own work (a mass case decides each worker alone).
        body["your_share_bps"] = case.worker_shares.get(str(access.user.pk), case.outcome_share_bps)
    if case.kind == Case.Kind.SUSPENSION and case.worker is not None:
        body["suspension_reason"] = case.worker.suspension_reason if case.worker.is_suspended else ""
    return body


def _shared_conversations(assignment_ids: list[int], *, jurors_see_labels: bool) -> list[list[dict[str, str]]]:
    shown = []
    for thread in shared_threads_for_assignments(assignment_ids=assignment_ids):
        rows = [message_view(message, thread=thread) for message in thread.messages.all()]
        if jurors_see_labels:
            rows = [{**row, "sender": row["side"].capitalize()} for row in rows]
        shown.append(rows)
    return shown


def case_summary(*, case: Case, for_juror: bool = False) -> dict[str, Any]:
    """A line of a case list; ``for_juror`` shows the neutral batch label, not its title."""
    return {
        "id": case.pk,
        "kind": case.kind,
        "state": case.state,
        "round": case.round,
        "due_at": case.due_at,
        "outcome": case.outcome,
        "task_type": (BATCH_LABEL if for_juror else case.batch.title) if case.batch else "",
    }


__all__ = [
    "JUROR",
    "REQUESTER",
    "WORKER",
    "CaseAccess",
    "access_case",
    "batch_held_by_case",
    "case_draws_for_audit",
    "case_summary",
    "case_view",
    "cases_for_party",
    "juror_queue",
    "organisation_dispute_record",
    "organisation_publish_blocked",
    "precedents_list",
    "rejection_is_held",
]
