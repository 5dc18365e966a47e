"""The worker's pages: find work, do it in a sandboxed frame, see earnings, rate requesters."""

import json
from collections import defaultdict
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from core.errors import AppError
from core.moments import moment_text
from core.money import platform_currency, share
from disputes import services as dispute_services
from frontend import charts
from frontend.batch_forms import CompletionCodeForm
from frontend.forms import (
    DisputeForm,
    FeedFilterForm,
    JurorOptInForm,
    ProfileForm,
    RatingForm,
    SuspensionAppealForm,
)
from frontend.pages import add_app_error, app_page, flash_error, user_of
from frontend.templatetags.frontend import money
from frontend.views import surveys
from frontend.views.quality import batch_quality_disclosure
from governance.selectors import rule_value
from ledger.selectors import worker_balance
from payouts import selectors as payout_selectors
from tasks import dispatch as task_dispatch
from tasks import external, inputs
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import Assignment

FEED_PAGE = 50
# Statement lines that are money earned (not payouts moving it out).
EARNING_KINDS = frozenset({"earning", "bonus", "reward", "other"})


@app_page
def feed(request: HttpRequest) -> HttpResponse:
    worker = user_of(request)
    form = FeedFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {
            "ordering": form.cleaned_data["ordering"] or "-hourly_pay",
            "min_hourly_pay": form.cleaned_data["min_hourly_pay"],
            "max_minutes": form.cleaned_data["max_minutes"],
            "search": form.cleaned_data["keywords"] or "",
            "tags": [tag for tag in (form.cleaned_data["tags"] or "").split(",") if tag.strip()],
            "requester": form.cleaned_data["requester"] or None,
        }
    # The feed shows each requester's measured pay and approval rate, the figures its page
    # shows, computed once per copy of the market, so a page costs the same few queries however
    # many requesters it lists;
    # the full reputation (ratings, approvals, name history) is one click away.
    batches = list(task_selectors.task_feed(worker=worker, **filters)[:FEED_PAGE]) if not form.errors else []
    task_services.worker_activity_record(worker=worker)  # the hours fair dispatch sizes its waves by
    # Fair dispatch: each card says whether the batch opens in waves, when the next window
    # opens and whether this worker applied (one query for the whole page).
    lines = task_dispatch.feed_dispatch(worker=worker, batches=batches)
    profile = account_selectors.worker_profile_of(user=worker)
    return render(
        request,
        "frontend/worker/feed.html",
        {
            "form": form,
            "batches": [(batch, lines[batch.pk]) for batch in batches],
            "minimum_wage": rule_value("minimum_hourly_wage"),
            # A new worker's first visits open with the introduction until read or skipped.
            "introduce": profile is None or profile.introduced_at is None,
            "show_dismiss": True,
            "auto_approval_hours": rule_value("auto_approval_hours"),
        },
    )


@app_page
def introduction(request: HttpRequest) -> HttpResponse:
    """The first-visit introduction on its own page; a post (read or skipped) remembers it."""
    worker = user_of(request)
    if request.method == "POST":
        account_services.worker_introduction_done(user=worker)
        if request.POST.get("choice") == "skip":
            messages.info(request, _("Introduction skipped. It is on your profile page whenever you want it."))
        return redirect("worker_feed")
    profile = account_selectors.worker_profile_of(user=worker)
    return render(
        request,
        "frontend/worker/introduction.html",
        {
            "minimum_wage": rule_value("minimum_hourly_wage"),
            "auto_approval_hours": rule_value("auto_approval_hours"),
            "show_dismiss": profile is None or profile.introduced_at is None,
        },
    )


@app_page
def batch_preview(request: HttpRequest, batch_id: int) -> HttpResponse:
    worker = user_of(request)
    batch = task_selectors.batch_for_worker(batch_id=batch_id, worker=worker)
    task_services.worker_activity_record(worker=worker)
    # The task itself, before accepting (issue 24.2): an external page in MTurk's preview
    # mode (assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE), a template in the sandboxed frame.
    preview_url = ""
    if batch.external_url:
        preview_url = external.external_preview_url(batch=batch, task=batch.tasks.order_by("row_number").first())
    response = render(
        request,
        "frontend/worker/batch.html",
        {
            "batch": batch,
            "reputation": task_selectors.requester_reputation(organisation=batch.organisation),
            "requirements": [task_selectors.requirement_text(r) for r in batch.requirements.all()],
            "ineligible": task_selectors.worker_ineligibility(worker=worker, batch=batch),
            "approval_rate_formula": task_selectors.APPROVAL_RATE_FORMULA,
            "external_preview_url": preview_url,
            "external_frame_sandbox": surveys.EXTERNAL_FRAME_SANDBOX,
            "quality": batch_quality_disclosure(batch),
            "dispatch": task_dispatch.batch_dispatch_public(batch=batch),
            "dispatch_line": task_dispatch.feed_dispatch(worker=worker, batches=[batch])[batch.pk],
            "my_draws": task_dispatch.worker_draws(worker=worker, batch=batch),
        },
    )
    if preview_url:
        response["Content-Security-Policy"] = surveys.page_policy_with_frame(preview_url)
    return response


@require_POST
@app_page
def batch_apply(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Asks for a slot in the batch's open wave; a refusal says why and changes nothing."""
    batch = task_selectors.batch_for_worker(batch_id=batch_id, worker=user_of(request))
    try:
        application = task_services.wave_apply(worker=user_of(request), batch=batch)
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(
            request,
            _("You applied to wave %(wave)s. The slots are drawn at %(when)s; see the result on this page.")
            % {"wave": application.wave.number, "when": moment_text(application.wave.draws_at, deadline=True)},
        )
    return redirect("worker_batch", batch_id=batch.pk)


@app_page
def my_draws(request: HttpRequest) -> HttpResponse:
    """The worker's own applications to waves and what each draw gave them."""
    rows = task_dispatch.worker_draws(worker=user_of(request))
    return render(request, "frontend/worker/draws.html", {"applications": rows})


@require_POST
@app_page
def batch_accept(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = task_selectors.batch_for_worker(batch_id=batch_id, worker=user_of(request))
    opt_out = bool(request.POST.get("reuse_opt_out")) and batch.reuse_beyond_purpose
    assignment = task_services.assignment_accept(worker=user_of(request), batch=batch)
    if opt_out:
        task_services.assignment_reuse_opt_out(worker=user_of(request), assignment=assignment)
    return redirect("worker_assignment", assignment_id=assignment.pk)


@app_page
def assignments(request: HttpRequest) -> HttpResponse:
    worker = user_of(request)
    rows = list(task_selectors.assignments_for_worker(worker=worker)[:200])
    reports = task_selectors.data_reports_for_worker(worker=worker)
    opted_out = task_selectors.reuse_opted_out_ids(assignments=rows)
    for row in rows:
        row.data_report = reports.get(row.batch_id)  # type: ignore[attr-defined]
        row.reuse_opted_out = row.pk in opted_out  # type: ignore[attr-defined]
    reported_batches = {row.batch_id: row for row in rows if reports.get(row.batch_id)}
    return render(
        request,
        "frontend/worker/assignments.html",
        {"assignments": rows, "reported": list(reported_batches.values())},
    )


@app_page
def assignment_page(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = task_selectors.access_assignment_for_worker(worker=user_of(request), assignment_id=assignment_id)
    working = assignment.status == Assignment.Status.ACCEPTED
    # An external task opens with MTurk's parameters and the attempt-bound assignment id
    # that /mturk/externalSubmit accepts (issue 24.1).
    task_url = external.external_task_url(assignment=assignment) if working and assignment.batch.external_url else ""
    response = render(
        request,
        "frontend/worker/assignment.html",
        {
            "assignment": assignment,
            "batch": assignment.batch,
            "working": working,
            "form": DisputeForm(),
            "external_task_url": task_url,
            "external_frame_sandbox": surveys.EXTERNAL_FRAME_SANDBOX,
            "completion_code_form": CompletionCodeForm() if assignment.batch.completion_codes else None,
            # "Take the next task" stays as the worker last left it (off until they choose it).
            "take_next": bool(request.session.get("take_next")),
        },
    )
    if task_url:
        response["Content-Security-Policy"] = surveys.page_policy_with_frame(task_url)
    return response


# The requester's HTML runs in an opaque origin (no allow-same-origin): it cannot read the
# platform's cookies, pages or storage, and its fetches to us carry no session. Its answers
# reach the parent only as a postMessage the parent page checks and turns into a normal,
# CSRF-protected form post of the worker's own assignment.
TASK_FRAME_CSP = "sandbox allow-forms allow-scripts; frame-ancestors 'self'"

_FRAME_BRIDGE = """
(function () {
  var parentOrigin = %(origin)s;
  function answersOf(form) {
    var answers = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string") { return; }
      if (Object.prototype.hasOwnProperty.call(answers, name)) {
        answers[name] = [].concat(answers[name], value);
      } else { answers[name] = value; }
    });
    return answers;
  }
  document.addEventListener("submit", function (event) {
    event.preventDefault();
    parent.postMessage({type: "coop:answers", answers: answersOf(event.target)}, parentOrigin);
  }, true);
  // Given the focus by the parent page, start on the task's first field.
  function focusFirstField() {
    if (document.activeElement && document.activeElement !== document.body) { return; }
    var field = document.querySelector("input:not([type=hidden]), select, textarea, button");
    if (field) { field.focus(); }
  }
  window.addEventListener("message", function (event) {
    if (event.source === parent && event.data && event.data.type === "coop:focus") { focusFirstField(); }
  });
  // The content's height, so the parent page can grow the frame to fit it (issue 25.5).
  var lastHeight = 0;
  function tellHeight() {
    var height = document.documentElement.scrollHeight;
    if (height === lastHeight) { return; }
    lastHeight = height;
    parent.postMessage({type: "coop:height", height: height}, parentOrigin);
  }
  window.addEventListener("load", tellHeight);
  if (window.ResizeObserver) { new ResizeObserver(tellHeight).observe(document.body); }
  tellHeight();
})();
"""

_FRAME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:1rem;color:#1b1b1f}
input,select,textarea{font:inherit}button{font:inherit;padding:.4rem 1rem}</style></head>
<body>%(body)s<script>%(bridge)s</script></body></html>"""


@xframe_options_exempt
@app_page
def assignment_frame(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """The requester's template filled with the task's input row, served from its own URL
    under a sandboxing Content-Security-Policy (see ``TASK_FRAME_CSP``)."""
    assignment = task_selectors.access_assignment_for_worker(worker=user_of(request), assignment_id=assignment_id)
    batch = assignment.batch
    if assignment.status != Assignment.Status.ACCEPTED or not batch.template_html:
        raise Http404(_("This task is not open for work."))
    body = inputs.template_render(batch.template_html, assignment.task.input)
    if "<form" not in body.lower():
        body = f'<form id="coop-task">{body}<p><button type="submit">Submit</button></p></form>'
    origin = json.dumps(f"{request.scheme}://{request.get_host()}")
    page = _FRAME_PAGE % {"title": escape(batch.title), "body": body, "bridge": _FRAME_BRIDGE % {"origin": origin}}
    response = HttpResponse(page)
    response["Content-Security-Policy"] = TASK_FRAME_CSP
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@app_page
def assignment_submit(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """The dedicated endpoint for answers: only the signed-in worker's own accepted assignment."""
    worker = user_of(request)
    assignment = task_selectors.access_assignment_for_worker(worker=worker, assignment_id=assignment_id)
    try:
        answers = json.loads(request.POST.get("answers") or "{}")
    except json.JSONDecodeError:
        answers = None
    if not isinstance(answers, dict):
        messages.error(request, _("The task sent answers we could not read; nothing was submitted. Try again."))
        return redirect("worker_assignment", assignment_id=assignment.pk)
    try:
        task_services.assignment_submit(worker=worker, assignment=assignment, answers=answers)
    except AppError as error:
        details = "; ".join(f"{name}: {' '.join(problems)}" for name, problems in error.fields.items())
        messages.error(request, f"{error.message} {details}".strip())
        return redirect("worker_assignment", assignment_id=assignment.pk)
    messages.success(request, _("Submitted. %(title)s is now awaiting review.") % {"title": assignment.batch.title})
    request.session["take_next"] = bool(request.POST.get("take_next"))
    if request.POST.get("take_next"):
        return _take_next(request, worker=worker, batch_id=assignment.batch_id)
    return redirect("worker_assignments")


def _take_next(request: HttpRequest, *, worker: Any, batch_id: int) -> HttpResponse:
    """ "Submit and take the next task" (issue 25.4): the next task of the same batch through
    the same claim service as the feed's accept button, or the feed with the reason why not."""
    try:
        batch = task_selectors.batch_for_worker(batch_id=batch_id, worker=worker)
        following = task_services.assignment_accept(worker=worker, batch=batch)
    except AppError as error:
        messages.info(request, _("No next task from this batch: %(reason)s") % {"reason": error.message})
        return redirect("worker_feed")
    return redirect("worker_assignment", assignment_id=following.pk)


@require_POST
@app_page
def assignment_return(request: HttpRequest, assignment_id: int) -> HttpResponse:
    worker = user_of(request)
    assignment = task_selectors.access_assignment_for_worker(worker=worker, assignment_id=assignment_id)
    task_services.assignment_return(worker=worker, assignment=assignment)
    messages.success(request, _("Returned without penalty; the slot is open for others."))
    return redirect("worker_feed")


def _earned(assignment: Assignment) -> int:
    """What an assignment paid the worker: the reward, or the dispute outcome's share of it."""
    if assignment.status == Assignment.Status.SETTLED and assignment.settled_share_bps is not None:
        return share(assignment.batch.reward, assignment.settled_share_bps, 10_000)
    return assignment.batch.reward


@app_page
def earnings(request: HttpRequest) -> HttpResponse:
    worker = user_of(request)
    balance = worker_balance(user=worker)
    # Sandbox work paid play money: not earnings, so not here (the task list marks it).
    paid = [
        a
        for a in task_selectors.assignments_for_worker(worker=worker)
        if a.status in (Assignment.Status.APPROVED, Assignment.Status.SETTLED) and not a.batch.is_sandbox
    ]
    # Earnings over time come from the ledger (the single source of truth), through the
    # payouts app's statement: rewards, bonuses and juror fees credited to the balance.
    statement = payout_selectors.worker_statement(user=worker)
    by_day: dict[date, int] = defaultdict(int)
    for line in statement.lines:
        if line.amount > 0 and line.kind in EARNING_KINDS:
            by_day[line.at.date()] += line.amount
    currency = platform_currency()
    earnings_chart = charts.bar_chart(
        [charts.Bar(day.isoformat(), amount) for day, amount in sorted(by_day.items())[-30:]],
        title=_("Earnings per day"),
        value_text=lambda amount: money(amount, currency),
    )
    hourly = []
    for assignment in paid[:20]:
        if assignment.submitted_at and assignment.accepted_at:
            seconds = int((assignment.submitted_at - assignment.accepted_at).total_seconds())
            hourly.append(
                charts.Bar(
                    f"#{assignment.pk} {assignment.batch.title}",
                    task_services.batch_hourly_pay(_earned(assignment), seconds),
                )
            )
    minimum = rule_value("minimum_hourly_wage")
    hourly_chart = charts.bar_chart(
        hourly,
        title=_("Effective hourly pay per task"),
        value_text=lambda amount: money(amount, currency) + "/h",
        reference=minimum,
        reference_label=_("co-op minimum %(amount)s/h") % {"amount": money(minimum, currency)},
    )
    awaiting = task_selectors.worker_awaiting_review(worker=worker)
    return render(
        request,
        "frontend/worker/earnings.html",
        {
            "awaiting": awaiting,
            "awaiting_total": sum(a.batch.reward for a in awaiting),
            "balance": balance,
            "paid": paid[:50],
            "earned_total": sum(by_day.values()),
            "statement": statement.lines[-30:][::-1],
            "earnings_chart": earnings_chart,
            "hourly_chart": hourly_chart,
            "rate": task_selectors.worker_approval_rate(worker=worker),
            "approval_rate_formula": task_selectors.APPROVAL_RATE_FORMULA,
        },
    )


@app_page
def statement_download(request: HttpRequest) -> HttpResponse:
    """Every movement of the worker's balance as CSV, for their own records or taxes."""
    statement = payout_selectors.worker_statement(user=user_of(request))
    response = HttpResponse("".join(payout_selectors.statement_csv(statement)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statement.csv"'
    return response


@app_page
def profile(request: HttpRequest) -> HttpResponse:
    worker = user_of(request)
    current = worker.worker_profile
    initial = {"country": current.country, "languages": ", ".join(current.languages)}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.worker_profile_update(
                user=worker,
                changes={"country": form.cleaned_data["country"], "languages": form.cleaned_data["languages"]},
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Profile saved; the change is in your history below."))
            return redirect("worker_profile")
    membership = getattr(worker, "membership", None)
    return render(
        request,
        "frontend/worker/profile.html",
        {
            "form": form,
            "profile": current,
            # The worker's own history, newest first; nobody else reads it.
            "history": current.changes.order_by("-changed_at", "-id")[:100],
            "is_member": account_selectors.user_is_member(worker),
            "juror_form": JurorOptInForm(initial={"juror_opt_in": bool(membership and membership.juror_opt_in)}),
            "appeal_form": SuspensionAppealForm(),
        },
    )


@require_POST
@app_page
def juror_opt_in(request: HttpRequest) -> HttpResponse:
    form = JurorOptInForm(request.POST)
    form.is_valid()
    opt_in = bool(form.cleaned_data.get("juror_opt_in"))
    account_services.membership_set_juror_opt_in(user=user_of(request), opt_in=opt_in)
    messages.success(request, _("You may be drawn as a juror.") if opt_in else _("You will not be drawn as a juror."))
    return redirect("worker_profile")


@require_POST
@app_page
def suspension_appeal(request: HttpRequest) -> HttpResponse:
    form = SuspensionAppealForm(request.POST)
    if form.is_valid():
        case = dispute_services.suspension_appeal_open(
            worker=user_of(request), statement=form.cleaned_data["statement"]
        )
        messages.success(request, _("Your appeal is open; a panel of members decides it."))
        return redirect("case", case_id=case.pk)
    messages.error(request, _("Explain why the suspension should be lifted."))
    return redirect("worker_profile")


def requester_public(request: HttpRequest, slug: str) -> HttpResponse:
    """A requester's public page: identity, name history, ratings, measured pay."""
    try:
        organisation = account_selectors.organisation_public(slug=slug)
    except AppError as error:
        raise Http404(error.message) from None
    form = RatingForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        if form.is_valid():
            try:
                task_services.requester_rate(worker=user_of(request), organisation=organisation, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error)
            else:
                messages.success(
                    request,
                    _("Thank you: your rating of %(display_name)s is saved.")
                    % {"display_name": organisation.display_name},
                )
                return redirect("requester_public", slug=slug)
    return render(
        request,
        "frontend/worker/requester.html",
        {
            "organisation": organisation,
            "reputation": task_selectors.requester_reputation(organisation=organisation),
            "form": form,
            "data_reports": task_selectors.data_reports_public(organisation=organisation),
        },
    )


@require_POST
@app_page
def membership_join(request: HttpRequest) -> HttpResponse:
    try:
        account_services.membership_join(user=user_of(request))
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(request, _("Welcome, member: you can now propose and vote."))
    return redirect("worker_profile")
