"""Dispute pages: a worker opens and follows a case, the requester answers, both add
evidence or appeal; a juror sees only what the case needs and casts a sealed vote.
Every read goes through ``disputes.selectors.access_case``/``case_view``, which decide
what each role may see (jurors get pseudonyms, never identities)."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import AppError, NotFound
from disputes import selectors as dispute_selectors
from disputes import services as dispute_services
from disputes.models import Juror
from frontend.forms import AppealForm, DisputeForm, EvidenceForm, JurorVoteForm, MassVoteForm, RespondForm
from frontend.pages import add_app_error, app_page, user_of


@app_page
def cases(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    party = dispute_selectors.cases_for_party(user=user)[:100]
    jury = dispute_selectors.juror_queue(user=user)[:100]
    return render(
        request,
        "frontend/disputes/cases.html",
        {
            "party_cases": [dispute_selectors.case_summary(case=case) for case in party],
            "jury_cases": [dispute_selectors.case_summary(case=case, for_juror=True) for case in jury],
        },
    )


def _render_case(request: HttpRequest, case_id: int, status: int = 200, **forms_: object) -> HttpResponse:
    access = dispute_selectors.access_case(user=user_of(request), case_id=case_id)
    view = dispute_selectors.case_view(access=access)
    juror = access.juror
    own_vote = next(
        (row for row in view["panel"] if juror and (row["label"], row["round"]) == (juror.label, juror.round)), None
    )
    context = {
        "case": view,
        "role": access.role,
        "juror": access.juror,
        "respond_form": forms_.get("respond_form") or RespondForm(),
        "evidence_form": forms_.get("evidence_form") or EvidenceForm(),
        "vote_form": forms_.get("vote_form") or _vote_form(view, None),
        "appeal_form": forms_.get("appeal_form") or AppealForm(),
        "split_form": forms_.get("split_form") or DisputeForm(),
        "can_split": access.role == "worker"
        and view["kind"] == "mass_rejection"
        and view["state"] in ("awaiting_response", "evidence", "voting"),
        "can_vote": access.juror is not None
        and access.juror.status == Juror.Status.SERVING
        and view["state"] == "voting",
        "own_vote": own_vote,
    }
    return render(request, "frontend/disputes/case.html", context, status=status)


def _vote_form(view: dict[str, Any], data: Any) -> JurorVoteForm | MassVoteForm:
    """A mass case is voted per worker (each decided on their own work); others with one share."""
    workers: list[dict[str, Any]] = view.get("workers") or []
    if view.get("kind") == "mass_rejection" and workers:
        labels = [str(w["label"]) for w in workers if w["held_items"]]
        return MassVoteForm(data, labels=labels)
    return JurorVoteForm(data)


@app_page
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_case(request, case_id)


@require_POST
@app_page
def dispute_open(request: HttpRequest, assignment_id: int) -> HttpResponse:
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            case = dispute_services.dispute_open(
                worker=user_of(request), assignment_id=assignment_id, statement=form.cleaned_data["statement"]
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Your dispute is open. The requester must answer before the deadline."))
            return redirect("case", case_id=case.pk)
    return render(request, "frontend/disputes/open.html", {"form": form, "assignment_id": assignment_id}, status=400)


@require_POST
@app_page
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    user = user_of(request)
    access = dispute_selectors.access_case(user=user, case_id=case_id)
    case = access.case
    forms_: dict[str, object] = {}
    try:
        if action == "respond":
            form = RespondForm(request.POST)
            forms_["respond_form"] = form
            if form.is_valid():
                dispute_services.case_respond(
                    case=case,
                    actor=user,
                    action=form.cleaned_data["action"],
                    text=form.cleaned_data["text"],
                    share_bps=form.cleaned_data["share"],
                )
        elif action in ("accept-offer", "decline-offer"):
            dispute_services.case_offer_answer(case=case, worker=user, accept=action == "accept-offer")
        elif action == "evidence":
            evidence_form = EvidenceForm(request.POST)
            forms_["evidence_form"] = evidence_form
            if evidence_form.is_valid():
                dispute_services.case_add_evidence(case=case, actor=user, text=evidence_form.cleaned_data["text"])
        elif action == "vote":
            vote_form = _vote_form(dispute_selectors.case_view(access=access), request.POST)
            forms_["vote_form"] = vote_form
            if isinstance(vote_form, MassVoteForm) and vote_form.is_valid():
                dispute_services.case_vote(
                    case=case,
                    juror_user=user,
                    worker_shares=vote_form.worker_shares(),
                    reason=vote_form.cleaned_data["reason"],
                )
            elif vote_form.is_valid():
                dispute_services.case_vote(
                    case=case,
                    juror_user=user,
                    share_bps=vote_form.cleaned_data["share"],
                    reason=vote_form.cleaned_data["reason"],
                )
        elif action == "split":
            split_form = DisputeForm(request.POST)
            forms_["split_form"] = split_form
            if split_form.is_valid():
                own = dispute_services.case_split(
                    case=case, worker=user, statement=split_form.cleaned_data["statement"]
                )
                messages.success(request, _("Your items are now in a case of your own; the requester must answer it."))
                return redirect("case", case_id=own.pk)
        elif action == "appeal":
            appeal_form = AppealForm(request.POST)
            forms_["appeal_form"] = appeal_form
            if appeal_form.is_valid():
                dispute_services.case_appeal(case=case, actor=user, reason=appeal_form.cleaned_data["reason"])
        else:
            raise NotFound("action")
    except AppError as error:
        target = next(iter(forms_.values()), None)
        if target is None:
            raise
        add_app_error(target, error)  # type: ignore[arg-type]
    if any(getattr(form, "errors", None) for form in forms_.values()):
        return _render_case(request, case.pk, status=400, **forms_)
    messages.success(request, _("Recorded."))
    return redirect("case", case_id=case.pk)
