"""What the dispute procedure holds about a person, for export and erasure
(``accounts.personal_data``). Decisions stay (they moved money); the person's name is
replaced wherever others wrote it."""

from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from accounts.personal_data import Erasure, PersonalDataSection, personal_data_register
from disputes.models import Case, Evidence, Juror, Precedent, Vote

_OPEN = (Case.State.AWAITING_RESPONSE, Case.State.OFFER_MADE, Case.State.EVIDENCE, Case.State.VOTING)


def _export(user: User) -> dict[str, Any]:
    return {
        "cases_as_worker": list(
            Case.objects.filter(worker=user)
            .order_by("id")
            .values("id", "kind", "state", "statement", "outcome", "outcome_share_bps", "created_at", "decided_at")
        ),
        "evidence_written": list(
            Evidence.objects.filter(author=user).order_by("id").values("case_id", "side", "round", "text", "created_at")
        ),
        "jury_seats": list(
            Juror.objects.filter(user=user).order_by("id").values("case_id", "round", "label", "status", "seated_at")
        ),
        "juror_votes": list(
            Vote.objects.filter(juror__user=user).values("juror__case_id", "share_bps", "reason", "cast_at")
        ),
    }


def _blockers(user: User) -> list[str]:
    reasons = []
    if Case.objects.filter(worker=user, state__in=_OPEN).exists():
        reasons.append(_("A dispute you opened is still open: wait for its decision."))
    if Juror.objects.filter(user=user, status=Juror.Status.SERVING, case__state__in=_OPEN).exists():
        reasons.append(_("You sit on an open case's jury: vote or wait until it is decided."))
    return reasons


def _erase(user: User, erasure: Erasure) -> None:
    texts: list[tuple[Any, str]] = [
        (Case, "statement"),
        (Case, "response_text"),
        (Case, "appeal_reason"),
        (Evidence, "text"),
        (Precedent, "rejection_text"),
    ]
    for identifier in erasure.identifiers:
        for model, field in texts:
            for row in model.objects.filter(**{f"{field}__icontains": identifier}):
                scrubbed = erasure.scrub(getattr(row, field))
                if scrubbed != getattr(row, field):
                    model.objects.filter(pk=row.pk).update(**{field: scrubbed})


personal_data_register(PersonalDataSection(name="disputes", export=_export, erase=_erase, blockers=_blockers))
