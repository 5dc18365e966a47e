"""Who hears about what in a case, and the case deadlines that get reminders.

Only parties and the case's seated jurors are told: exactly the people the case's
``view_case`` permission lets see it.
"""

from collections.abc import Iterable
from datetime import datetime

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.reasons import SUSPENSION_REASONS
from disputes import states
from disputes.models import Case, CaseItem, Juror
from notifications.models import Notification
from notifications.reminders import Deadline
from notifications.services import notify, staff_of


def _url(case: Case) -> str:
    return reverse("case", args=[case.pk])


def worker_side(case: Case) -> list[int]:
    if case.worker_id is not None:
        return [case.worker_id]
    return sorted(
        set(case.items.exclude(state=CaseItem.State.SPLIT).values_list("worker_id", flat=True))  # type: ignore[arg-type]
    )


def requester_side(case: Case) -> list[int]:
    if case.kind == Case.Kind.SUSPENSION:
        if case.respondent_id is not None:
            return [case.respondent_id]
        return list(User.objects.filter(is_staff=True, is_active=True).values_list("pk", flat=True))
    return list(staff_of(case.organisation)) if case.organisation is not None else []


def case_opened(case: Case) -> None:
    """The requester side learns a case is open against it and when its answer is due."""
    params = {"batch": case.batch.title if case.batch else f"case {case.pk}", "deadline": case.due_at}
    notify(
        users=requester_side(case),
        category="dispute_opened",
        params=params,
        url=_url(case),
        organisation=case.organisation,
    )


def mass_case_workers_told(*, case: Case, worker_ids: set[int]) -> None:
    """Workers whose rejected work joins a mass case learn, once per case, that their pay stays
    in escrow, that their work is decided for them alone, and that they may add evidence or ask
    to be heard alone."""
    url = _url(case)
    already = set(
        Notification.objects.filter(category="mass_case_opened", url=url, user_id__in=worker_ids).values_list(
            "user_id", flat=True
        )
    )
    notify(users=sorted(worker_ids - already), category="mass_case_opened", params={"case": case.pk}, url=url)


def jurors_drawn(case: Case, user_ids: Iterable[int]) -> None:
    notify(
        users=list(user_ids), category="juror_drawn", params={"case": case.pk, "deadline": case.due_at}, url=_url(case)
    )


def voting_opened(case: Case) -> None:
    """The jurors serving in the case's current round learn that the evidence stage is over,
    that sealed votes are open and by when theirs is due (a juror who reads only e-mail had
    heard nothing since the draw). Once per juror and round: a retried job tells nobody twice."""
    url = _url(case)
    serving = set(
        Juror.objects.filter(case=case, round=case.round, status=Juror.Status.SERVING).values_list("user_id", flat=True)
    )
    already = set(
        Notification.objects.filter(
            category="juror_voting_open", url=url, params__round=case.round, user_id__in=serving
        ).values_list("user_id", flat=True)
    )
    notify(
        users=sorted(serving - already),
        category="juror_voting_open",
        params={"case": case.pk, "deadline": case.due_at, "round": case.round},
        url=url,
    )


def jurors_replaced(case: Case, user_ids: Iterable[int]) -> None:
    notify(users=list(user_ids), category="juror_replaced", params={"case": case.pk}, url=reverse("cases"))


def case_decided(case: Case) -> None:
    """Both parties learn the outcome (the first-round decision and the final one)."""
    # The outcome's code: the notice names it in each reader's language (notifications.render).
    outcome = case.outcome
    if case.kind == Case.Kind.SUSPENSION:
        outcome = "suspension_lifted" if (case.outcome_share_bps or 0) > 0 else "suspension_upheld"
    users = sorted(set(worker_side(case)) | set(requester_side(case)))
    notify(users=users, category="case_decided", params={"case": case.pk, "outcome": outcome}, url=_url(case))


def deadlines(now: datetime, until: datetime) -> Iterable[Deadline]:
    """Reminder source: a requester's answer due (or they lose the case) and a juror's vote
    due (or they lose the seat and its fee)."""
    due = Case.objects.filter(due_at__gt=now, due_at__lte=until).select_related("organisation")
    for case in due.filter(state=states.AWAITING_RESPONSE):
        yield Deadline(
            key=f"case:{case.pk}:response:{case.due_at:%Y%m%d%H%M}",
            due_at=case.due_at,  # type: ignore[arg-type]
            user_ids=requester_side(case),
            category="response_due",
            params={"case": case.pk},
            url=_url(case),
        )
    for case in due.filter(state=states.VOTING):
        serving = Juror.objects.filter(case=case, round=case.round, status=Juror.Status.SERVING)
        yield Deadline(
            key=f"case:{case.pk}:vote:{case.round}:{case.due_at:%Y%m%d%H%M}",
            due_at=case.due_at,  # type: ignore[arg-type]
            user_ids=list(serving.values_list("user_id", flat=True)),
            category="juror_vote_due",
            params={"case": case.pk},
            url=_url(case),
        )


def suspended(user: User, *, detail: str) -> None:
    """The person learns the reason and that they can appeal (cannot be turned off): the
    published reason in their language when read, the moderator's ``detail`` as typed
    (``render.SENTENCE_PARAMS``)."""
    with translation.override("en"):
        published = str(SUSPENSION_REASONS[user.suspension_code])
    params = {"reason": user.suspension_reason, "reason_sentence": published, "reason_detail": detail}
    notify(users=[user.pk], category="suspension", params=params, url=reverse("worker_profile"))


# The appeal's outcome as the person reads it, in their language (``render.SENTENCE_PARAMS``).
APPEAL_LIFTED = gettext_noop("The appeal (case %(detail)s) lifted your suspension.")


def suspension_lifted(user: User, *, reason: str = "", case: Case | None = None) -> None:
    """The person learns their suspension is over (cannot be turned off): lifted by their
    appeal ``case``, or by a moderator who said ``reason`` (as typed)."""
    params: dict[str, object] = {"reason": reason}
    if case is not None:
        params = {
            "reason": APPEAL_LIFTED % {"detail": case.pk},
            "reason_sentence": APPEAL_LIFTED,
            "reason_detail": str(case.pk),
        }
    notify(users=[user.pk], category="suspension_lifted", params=params, url=reverse("worker_profile"))
