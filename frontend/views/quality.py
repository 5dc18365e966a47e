"""Quality control pages (issue 27, issue 20.8, issue 24.5): the requester's qualifications
(create with a test and answer key, grant, revoke), the worker's qualification test, the
control and agreement summary of a batch's review, and the worker's own scores."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Organisation, User
from core.errors import AppError, NotFound
from frontend.forms import GrantForm, QualificationForm, qualification_test_form
from frontend.pages import add_app_error, app_page, flash_error, user_of
from governance.selectors import rule_value
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.models import Batch, Qualification, QualificationGrant, QualificationTestAttempt, Task
from tasks.quality import selectors as quality_selectors
from tasks.quality.aggregation import ALPHA_FORMULA, DAWID_SKENE_FORMULA, MAJORITY_VOTE_FORMULA
from tasks.quality.scoring import SCORING_RULES

ITEMS_SHOWN = 50


def _organisation(request: HttpRequest, slug: str, capability: str | None = None) -> Organisation:
    organisation = account_selectors.access_organisation(user=user_of(request), slug=slug)
    if capability is not None:
        account_selectors.require_organisation_capability(
            user=user_of(request), organisation=organisation, capability=capability
        )
    return organisation


def _qualification(organisation: Organisation, qualification_id: int) -> Qualification:
    qualification = quality_selectors.qualification_for_requester(
        organisation_id=organisation.pk, qualification_id=qualification_id
    )
    if qualification is None:
        raise NotFound("qualification")
    return qualification


# --- requester: qualifications -------------------------------------------------------------------

# The service's field names, as this page's form calls them.
_QUALIFICATION_FIELDS = {"test_questions": "questions", "answer_key": "questions", "pass_bps": "pass_percent"}


def _add_qualification_error(form: QualificationForm, error: AppError) -> None:
    if not error.fields:
        add_app_error(form, error)
        return
    for field, field_messages in error.fields.items():
        for message in field_messages:
            form.add_error(
                _QUALIFICATION_FIELDS.get(field, field)
                if field in _QUALIFICATION_FIELDS or field in form.fields
                else None,
                message,
            )


@app_page
def org_qualifications(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, "publish" if request.method == "POST" else None)
    form = QualificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            questions, key = form.test()
        except forms.ValidationError as error:
            form.add_error("questions", error)
        else:
            try:
                qualification = task_services.qualification_create(
                    organisation=organisation,
                    actor=user_of(request),
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    test_questions=questions,
                    answer_key=key,
                    pass_bps=form.cleaned_data["pass_percent"] * 100,
                    pool_size=form.cleaned_data["pool_size"],
                    estimated_minutes=form.cleaned_data["estimated_minutes"],
                )
            except AppError as error:
                _add_qualification_error(form, error)
            else:
                messages.success(request, _("Qualification created."))
                return redirect("org_qualification", slug=slug, qualification_id=qualification.pk)
    return render(
        request,
        "frontend/requester/qualifications.html",
        {
            "organisation": organisation,
            "form": form,
            "qualifications": organisation.qualifications.order_by("-id"),
            "max_attempts": rule_value("qualification_test_max_attempts"),
            "cooldown_hours": rule_value("qualification_retake_cooldown_hours"),
        },
    )


@app_page
def org_qualification(request: HttpRequest, slug: str, qualification_id: int) -> HttpResponse:
    organisation = _organisation(request, slug, "publish" if request.method == "POST" else None)
    qualification = _qualification(organisation, qualification_id)
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        worker = User.objects.filter(pseudonym=form.cleaned_data["worker"].strip()).first()
        if worker is None:
            form.add_error("worker", _("No worker has this pseudonym."))
        else:
            task_services.qualification_grant(qualification=qualification, worker=worker, actor=user_of(request))
            messages.success(request, _("Granted to %(worker)s.") % {"worker": worker.pseudonym})
            return redirect("org_qualification", slug=slug, qualification_id=qualification.pk)
    attempts = QualificationTestAttempt.objects.filter(qualification=qualification, submitted_at__isnull=False)
    return render(
        request,
        "frontend/requester/qualification.html",
        {
            "organisation": organisation,
            "qualification": qualification,
            "form": form,
            "grants": QualificationGrant.objects.filter(qualification=qualification)
            .select_related("worker")
            .order_by("-granted_at")[:500],
            "answer_key": [
                (question, qualification.answer_key.get(question["name"], ""))
                for question in qualification.test_questions
            ],
            "attempts_scored": attempts.count(),
            "attempts_passed": sum(1 for attempt in attempts.only("score_bps", "pass_bps") if attempt.passed),
            "pay": task_services.qualification_test_pay(qualification=qualification),
        },
    )


@require_POST
@app_page
def org_qualification_revoke(request: HttpRequest, slug: str, qualification_id: int, pseudonym: str) -> HttpResponse:
    organisation = _organisation(request, slug, "publish")
    qualification = _qualification(organisation, qualification_id)
    worker = User.objects.filter(pseudonym=pseudonym).first()
    if worker is None:
        raise NotFound("worker")
    task_services.qualification_revoke(qualification=qualification, worker=worker, actor=user_of(request))
    messages.success(request, _("Revoked from %(worker)s.") % {"worker": worker.pseudonym})
    return redirect("org_qualification", slug=slug, qualification_id=qualification.pk)


# --- requester: control accuracy and aggregation on the review page ------------------------------


def batch_quality_summary(batch: Batch) -> dict[str, Any]:
    """What the review page shows of quality: each worker's control accuracy (with whether the
    threshold applies) and, for redundant work, the aggregated answers and agreement."""
    threshold = batch.control_threshold_bps
    scores = sorted(
        quality_selectors.batch_control_scores(batch=batch).values(), key=lambda score: score.accuracy_bps or 0
    )
    score_rows = [
        {
            "score": score,
            "below": threshold is not None
            and score.accuracy_bps is not None
            and score.answered >= batch.control_min_answered
            and score.accuracy_bps < threshold,
        }
        for score in scores
    ]
    fields: list[dict[str, Any]] = []
    if batch.assignments_per_task > 1:
        aggregates = quality_selectors.batch_aggregates(batch=batch)
        task_ids = sorted({task_id for aggregate in aggregates for task_id in aggregate.majority})[:ITEMS_SHOWN]
        rows = dict(Task.objects.filter(pk__in=task_ids).values_list("pk", "row_number"))
        for aggregate in aggregates:
            fields.append(
                {
                    "aggregate": aggregate,
                    "items": [
                        {
                            "row": rows.get(task_id),
                            "majority": aggregate.majority[task_id],
                            "dawid_skene": aggregate.dawid_skene[task_id],
                        }
                        for task_id in task_ids
                        if task_id in aggregate.majority
                    ],
                }
            )
    return {
        "has_checks": quality_selectors.batch_has_checks(batch),
        "threshold_bps": threshold,
        "scores": score_rows,
        "below": sum(1 for row in score_rows if row["below"]),
        "fields": fields,
        "formulas": {
            "accuracy": quality_selectors.CONTROL_ACCURACY_FORMULA,
            "scoring": SCORING_RULES,
            "majority": MAJORITY_VOTE_FORMULA,
            "dawid_skene": DAWID_SKENE_FORMULA,
            "alpha": ALPHA_FORMULA,
        },
    }


@require_POST
@app_page
def batch_control_reject(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    batch = task_selectors.access_batch(user=user_of(request), batch_id=batch_id, permission="tasks.review_batch")
    if batch.organisation.slug != slug:
        raise NotFound("batch")
    account_selectors.require_organisation_capability(
        user=user_of(request), organisation=batch.organisation, capability="review"
    )
    try:
        count = task_services.batch_reject_below_control_threshold(actor=user_of(request), batch=batch)
    except AppError as error:
        flash_error(request, error)
    else:
        messages.success(
            request,
            _("%(count)s submission(s) rejected provisionally; each worker can dispute, with the checks attached.")
            % {"count": count},
        )
    return redirect("org_review", slug=slug, batch_id=batch.pk)


# --- worker: qualification tests and scores --------------------------------------------------------


@app_page
def worker_qualification(request: HttpRequest, qualification_id: int) -> HttpResponse:
    """A qualification test: what it certifies, the pass mark, attempts and the wait between
    them; the drawn questions of the open attempt; the score after submitting."""
    worker = user_of(request)
    qualification = task_selectors.qualification_for_worker(qualification_id=qualification_id, worker=worker)
    result: QualificationTestAttempt | None = None
    test_form = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "start":
                task_services.qualification_test_start(qualification=qualification, worker=worker)
                return redirect("worker_qualification", qualification_id=qualification.pk)
            standing = task_services.qualification_retake_standing(qualification=qualification, worker=worker)
            if standing.open_attempt is None:
                raise AppError("no_open_attempt", _("Start the test first."), status=409)
            questions = quality_selectors.qualification_attempt_questions(standing.open_attempt)
            test_form = qualification_test_form(questions, request.POST)
            test_form.is_valid()
            answers = {name: str(test_form.cleaned_data.get(name) or "") for name in test_form.fields}
            result = task_services.qualification_test_take(qualification=qualification, worker=worker, answers=answers)
        except AppError as error:
            flash_error(request, error)
            return redirect("worker_qualification", qualification_id=qualification.pk)
    standing = task_services.qualification_retake_standing(qualification=qualification, worker=worker)
    if standing.open_attempt is not None:
        test_form = qualification_test_form(quality_selectors.qualification_attempt_questions(standing.open_attempt))
    last = (
        QualificationTestAttempt.objects.filter(qualification=qualification, worker=worker, submitted_at__isnull=False)
        .order_by("-number")
        .first()
    )
    return render(
        request,
        "frontend/worker/qualification.html",
        {
            "qualification": qualification,
            "standing": standing,
            "test_form": test_form,
            "result": result,
            "last": last,
            "pay": task_services.qualification_test_pay(qualification=qualification),
            "cooldown_hours": rule_value("qualification_retake_cooldown_hours"),
            "score_formula": quality_selectors.QUALIFICATION_SCORE_FORMULA,
            "scoring_rules": SCORING_RULES,
        },
    )


@app_page
def worker_scores(request: HttpRequest) -> HttpResponse:
    """Every score the platform keeps about the signed-in worker, each with how it is computed."""
    worker = user_of(request)
    return render(
        request,
        "frontend/worker/scores.html",
        {
            "rate": task_selectors.worker_approval_rate(worker=worker),
            "approval_rate_formula": task_selectors.APPROVAL_RATE_FORMULA,
            "controls": quality_selectors.worker_control_scores(worker=worker),
            "attempts": quality_selectors.worker_qualification_attempts(worker=worker),
            "grants": QualificationGrant.objects.filter(worker=worker)
            .select_related("qualification__organisation")
            .order_by("-granted_at")[:200],
            "accuracy_formula": quality_selectors.CONTROL_ACCURACY_FORMULA,
            "score_formula": quality_selectors.QUALIFICATION_SCORE_FORMULA,
            "scoring_rules": SCORING_RULES,
        },
    )


def batch_quality_disclosure(batch: Batch) -> dict[str, Any]:
    """What the batch card tells workers about checks, and which required tests they can take."""
    tests = [
        requirement.qualification
        for requirement in batch.requirement_rows
        if requirement.qualification is not None and requirement.qualification.has_test
    ]
    return {
        "control_share_bps": batch.control_share_bps,
        "attention_checks": len(batch.attention_checks),
        "threshold_bps": batch.control_threshold_bps,
        "min_answered": batch.control_min_answered,
        "tests": tests,
    }
