"""Members' pages: proposals with discussion, ballots, results; the rules in force and their history."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from core.errors import AppError, PermissionDenied
from core.rule_text import rule_value_text
from frontend import charts
from frontend.forms import BallotForm, CommentForm, ProposalForm
from frontend.pages import add_app_error, app_page, flash_error, form_errors_text, user_of
from governance import selectors as governance_selectors
from governance import services as governance_services
from governance import states as governance_states
from governance.models import Proposal, Rule


def value_text(rule: Rule, value: int | None) -> str:
    """A rule value as people read it, in the rule's unit and the reader's language."""
    return rule_value_text(rule, value)


def _require_member(request: HttpRequest) -> None:
    if not account_selectors.user_is_member(user_of(request)):
        raise PermissionDenied(_("Proposals and votes are for co-op members; join from your profile page."))


@app_page
def proposals(request: HttpRequest) -> HttpResponse:
    _require_member(request)
    rules = list(governance_selectors.rules_list())
    form = ProposalForm(request.POST or None, rules=rules, rule_classes=list(governance_selectors.rule_classes_list()))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = governance_services.proposal_create(
                author=user_of(request),
                kind=data["kind"],
                title=data["title"],
                body=data["body"],
                rule_key=data["rule_key"] or None,
                proposed_value=data["proposed_value"],
                rule_class_key=data["rule_class_key"] or None,
                appointee_username=data["appointee"] or None,
                staff_role=data["staff_role"] or None,
                appointment_action=data["appointment_action"] or None,
                dividend_period_start=data.get("dividend_period_start"),
                dividend_period_end=data.get("dividend_period_end"),
                dividend_amount=data.get("dividend_amount"),
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Draft saved. Open the discussion when it is ready."))
            return redirect("proposal", proposal_id=proposal.pk)
    listed = list(governance_selectors.proposals_visible(user=user_of(request))[:200])
    return render(
        request,
        "frontend/member/proposals.html",
        {
            "form": form,
            "voting": [p for p in listed if p.state == governance_states.VOTING],
            "discussion": [p for p in listed if p.state in (governance_states.DISCUSSION, governance_states.DRAFT)],
            "decided": [
                p for p in listed if p.state in governance_states.CLOSED or p.state == Proposal.State.WITHDRAWN
            ],
        },
    )


def _threads(proposal: Proposal) -> list[dict[str, Any]]:
    """Comments as nested threads (replies under their parent), in order."""
    comments = list(governance_selectors.proposal_comments(proposal=proposal))
    nodes: dict[int, dict[str, Any]] = {c.pk: {"comment": c, "replies": []} for c in comments}
    roots: list[dict[str, Any]] = []
    for comment in comments:
        node = nodes[comment.pk]
        parent = nodes.get(comment.parent_id or 0)
        (parent["replies"] if parent else roots).append(node)
    return roots


def _result_chart(proposal: Proposal) -> Any:
    result = governance_selectors.proposal_result(proposal=proposal)
    quorum_votes = -(-result.roll_size * result.quorum_bps // 10_000)
    return result, charts.bar_chart(
        [charts.Bar(_("Yes"), result.yes), charts.Bar(_("No"), result.no), charts.Bar(_("Abstain"), result.abstain)],
        title=_("Result of “%(title)s”") % {"title": proposal.title},
        value_text=lambda votes: ngettext("%(count)d vote", "%(count)d votes", votes) % {"count": votes},
        reference=quorum_votes,
        reference_label=_("quorum: %(quorum)s of %(roll)s ballots")
        % {"quorum": quorum_votes, "roll": result.roll_size},
    )


@app_page
def proposal_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    _require_member(request)
    user = user_of(request)
    proposal = governance_selectors.access_proposal(user=user, proposal_id=proposal_id)
    result, chart = (None, None)
    if proposal.state in governance_states.CLOSED:
        result, chart = _result_chart(proposal)
    context = {
        "proposal": proposal,
        "threads": _threads(proposal),
        "comment_form": CommentForm(),
        "can_comment": proposal.state in governance_states.COMMENTABLE,
        "ballot": governance_selectors.ballot_own(user=user, proposal=proposal),
        "ballot_form": BallotForm(),
        "result": result,
        "chart": chart,
        "current_value": value_text(proposal.rule, governance_selectors.rule_value(proposal.rule.key))
        if proposal.rule
        else None,
        "proposed_value": value_text(proposal.rule, proposal.proposed_value) if proposal.rule else None,
        "is_author": proposal.author_id == user.pk,
        "dividend_surplus": governance_selectors.surplus_preview(
            user=user, period_start=proposal.dividend_period_start, period_end=proposal.dividend_period_end
        )
        if proposal.kind == Proposal.Kind.DIVIDEND and proposal.dividend_period_start and proposal.dividend_period_end
        else None,
    }
    return render(request, "frontend/member/proposal.html", context)


@require_POST
@app_page
def proposal_comment(request: HttpRequest, proposal_id: int) -> HttpResponse:
    _require_member(request)
    user = user_of(request)
    proposal = governance_selectors.access_proposal(user=user, proposal_id=proposal_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            governance_services.comment_add(
                proposal=proposal, author=user, body=form.cleaned_data["body"], parent_id=form.cleaned_data["parent_id"]
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            form = CommentForm()
    context = {"proposal": proposal, "threads": _threads(proposal), "comment_form": form, "can_comment": True}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "frontend/member/_discussion.html", context)
    if form.errors:
        messages.error(request, form_errors_text(form))
    return redirect("proposal", proposal_id=proposal.pk)


@require_POST
@app_page
def proposal_vote(request: HttpRequest, proposal_id: int) -> HttpResponse:
    _require_member(request)
    user = user_of(request)
    proposal = governance_selectors.access_proposal(user=user, proposal_id=proposal_id)
    own = governance_selectors.ballot_own(user=user, proposal=proposal)
    form = BallotForm(request.POST)
    receipt = None
    if form.is_valid():
        secret = form.cleaned_data["ballot_secret"] or None
        cast = governance_services.ballot_change if own.voted else governance_services.ballot_cast
        try:
            receipt = cast(
                proposal_id=proposal.pk, voter=user, choice=form.cleaned_data["choice"], ballot_secret=secret
            )
        except AppError as error:
            add_app_error(form, error)
    if receipt is None or form.errors:
        return render(
            request,
            "frontend/member/vote_result.html",
            {"proposal": proposal, "form": form, "ballot": own},
            status=400 if form.errors else 200,
        )
    if receipt.ballot_secret:
        # Shown on this response only: the platform never stores it.
        return render(request, "frontend/member/vote_result.html", {"proposal": proposal, "receipt": receipt})
    messages.success(request, _("Your vote is recorded. You can change it until voting closes."))
    return redirect("proposal", proposal_id=proposal.pk)


@require_POST
@app_page
def proposal_action(request: HttpRequest, proposal_id: int, action: str) -> HttpResponse:
    _require_member(request)
    user = user_of(request)
    proposal = governance_selectors.access_proposal(user=user, proposal_id=proposal_id)
    try:
        if action == "open-discussion":
            governance_services.proposal_open_discussion(proposal=proposal, actor=user)
            messages.success(request, _("The discussion is open; voting opens when it ends."))
        elif action == "withdraw":
            governance_services.proposal_withdraw(proposal=proposal, actor=user)
            messages.success(request, _("Withdrawn."))
    except AppError as error:
        flash_error(request, error)
    return redirect("proposal", proposal_id=proposal.pk)


def rules(request: HttpRequest) -> HttpResponse:
    """Public: the rules in force, as every page of the platform applies them."""
    in_force = governance_selectors.rules_in_force()
    rows = [
        {"rule": rule, "value": value_text(rule, in_force[rule.key].value) if rule.key in in_force else "-",
         "since": in_force[rule.key].effective_at if rule.key in in_force else None}
        for rule in governance_selectors.rules_list()
    ]  # fmt: skip
    from disputes.services import MASS_REJECTION_RULE
    from tasks.services import FAIR_PAY_FORMULA

    formulas = {"fair_pay": FAIR_PAY_FORMULA, "mass_rejection": MASS_REJECTION_RULE}
    return render(request, "frontend/member/rules.html", {"rows": rows, "formulas": formulas})


def rule_page(request: HttpRequest, key: str) -> HttpResponse:
    try:
        rule = governance_selectors.rule_get(key=key)
    except AppError as error:
        return render(request, "frontend/refusal.html", {"error": error}, status=404)
    current = governance_selectors.rule_in_force(key)
    versions = [
        {
            "version": version,
            "value": value_text(rule, version.value),
            "state": _("in force") if version.pk == current.version_id else (
                _("scheduled") if version.effective_at > current.effective_at else _("earlier")),
        }
        for version in governance_selectors.rule_history(rule=rule).select_related("adopted_by_proposal")
    ]  # fmt: skip
    return render(
        request,
        "frontend/member/rule.html",
        {
            "rule": rule,
            "current": value_text(rule, current.value),
            "minimum": value_text(rule, rule.min_value),
            "maximum": value_text(rule, rule.max_value),
            "versions": versions,
        },
    )
