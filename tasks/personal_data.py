"""What the marketplace holds about a person, for export and erasure
(``accounts.personal_data``). Work records stay (they back the ledger); the person's
name is replaced in texts they wrote."""

from typing import Any

from django.db.models import F
from django.utils.translation import ngettext

from accounts.models import User
from accounts.personal_data import Erasure, PersonalDataSection, personal_data_register
from tasks.activity import mask_hours
from tasks.models import Assignment, Bonus, QualificationGrant, RequesterRating, SavedSearch, WorkerActivity
from tasks.selectors import bonus_reasons

_OPEN_WORK = (Assignment.Status.ACCEPTED, Assignment.Status.SUBMITTED)


def _export(user: User) -> dict[str, Any]:
    return {
        "assignments": list(
            Assignment.objects.filter(worker=user)
            .order_by("id")
            .values(
                "id",
                "batch_id",
                "task_id",
                "status",
                "accepted_at",
                "submitted_at",
                "answers",
                "approved_at",
                "rejected_at",
                "rejection_reason",
                "rejection_text",
                "requester_feedback",
                "settled_share_bps",
                # Sandbox work, paid in play money (issue 24.6).
                sandbox=F("batch__is_sandbox"),
            )
        ),
        "bonuses": _bonuses(user),
        "qualifications": list(
            QualificationGrant.objects.filter(worker=user).values("qualification_id", "qualification__name", "value")
        ),
        "ratings_given": list(
            RequesterRating.objects.filter(worker=user).values(
                "organisation__slug", "pay_fairness", "communication", "review_speed", "comment"
            )
        ),
        # The hours (UTC) the person looked for work, kept ACTIVITY_KEEP_DAYS for fair dispatch.
        "activity_hours": [
            {"day": day.isoformat(), "hours_utc": mask_hours(hours)}
            for day, hours in WorkerActivity.objects.filter(worker=user).order_by("day").values_list("day", "hours")
        ],
        "saved_searches": list(
            SavedSearch.objects.filter(worker=user)
            .order_by("id")
            .values("name", "min_hourly_pay", "max_minutes", "keywords", "requester__slug", "alert", "created_at")
        ),
    }


def _bonuses(user: User) -> list[dict[str, Any]]:
    """The person's bonuses; a fair-pay top-up's reason in their language (``bonus_reasons``)."""
    bonuses = list(Bonus.objects.filter(worker=user).select_related("assignment__batch").order_by("id"))
    reasons = bonus_reasons(bonuses)
    return [
        {
            "id": bonus.pk,
            "kind": bonus.kind,
            "amount": bonus.amount,
            "reason": reasons[bonus.pk],
            "paid": bonus.paid,
            "sandbox": bonus.assignment.batch.is_sandbox,
        }
        for bonus in bonuses
    ]


def _blockers(user: User) -> list[str]:
    count = Assignment.objects.filter(worker=user, status__in=_OPEN_WORK).count()
    if count:
        return [
            ngettext(
                "%(count)d task is accepted or submitted and not yet decided: submit or return it and wait.",
                "%(count)d tasks are accepted or submitted and not yet decided: submit or return them and wait.",
                count,
            )
            % {"count": count}
        ]
    return []


def _erase(user: User, erasure: Erasure) -> None:
    # Saved searches are the person's own filters and alert choices; nothing else needs them.
    SavedSearch.objects.filter(worker=user).delete()
    # When they looked for work: erased with the rest (only fair dispatch's measure reads it).
    WorkerActivity.objects.filter(worker=user).delete()
    for rating in RequesterRating.objects.filter(worker=user).exclude(comment=""):
        scrubbed = erasure.scrub(rating.comment)
        if scrubbed != rating.comment:
            RequesterRating.objects.filter(pk=rating.pk).update(comment=scrubbed)


personal_data_register(PersonalDataSection(name="work", export=_export, erase=_erase, blockers=_blockers))
