"""A rejection under a batch's control threshold is the normal provisional one (issue 27.1):
the worker disputes it, the jurors read the control evidence in the case file, and they can
overturn it."""

import pytest

from disputes import jobs, services
from disputes.models import Case, Juror
from disputes.selectors import access_case, case_view
from ledger import accounts
from ledger.selectors import balance
from tasks import services as task_services
from tasks.models import Assignment
from tests.disputes.factories import jurors
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db

TEMPLATE = '<p>${text}</p><input name="sentiment" required><input name="attention" data-expected="blue">'


def test_a_control_rejection_is_disputed_and_overturned_by_jurors_who_see_the_checks(clock):  # type: ignore[no-untyped-def]
    organisation = OrganisationFactory()
    owner = organisation.staff.get(role="owner").user
    batch = published_batch(
        organisation,
        template_html=TEMPLATE,
        rows="text,_expected_sentiment,_tolerance_sentiment\nGreat!,positive,2\nAwful.,negative,\nFine.,,\n",
        assignments_per_task=1,
        control_threshold_bps=8000,
        control_min_answered=2,
    )
    worker = UserFactory()
    for task in batch.tasks.order_by("row_number"):
        slot = task_services.assignment_accept(worker=worker, batch=batch, task_id=task.pk)
        # "postive" is within the tolerance of 2 slips; "neutral" for "Awful." is wrong, and so
        # is every attention check: 1 of 5 right.
        answer = {"Great!": "postive", "Awful.": "neutral", "Fine.": "neutral"}[task.input["text"]]
        task_services.assignment_submit(
            worker=worker, assignment=slot, answers={"sentiment": answer, "attention": "grey"}
        )
    assert task_services.batch_reject_below_control_threshold(actor=owner, batch=batch) == 3
    disputed = Assignment.objects.filter(worker=worker).order_by("id").first()
    assert disputed is not None and disputed.status == Assignment.Status.REJECTED

    case = services.dispute_open(
        worker=worker, assignment_id=disputed.pk, statement="Sky colour is a trick question here: it was grey."
    )
    panel = jurors(12)
    services.case_respond(case=case, actor=owner, action="contest", text="Below the stated control threshold.")
    seated = list(Juror.objects.filter(case=case).select_related("user"))
    assert seated and {juror.user for juror in seated} <= set(panel)

    # The jurors' file carries the evidence: accuracy, threshold, each check expected vs given.
    view = case_view(access=access_case(user=seated[0].user, case_id=case.pk))
    evidence = view["items"][0]["control_evidence"]
    assert (evidence["accuracy_bps"], evidence["correct"], evidence["answered"], evidence["threshold_bps"]) == (
        2000,
        1,
        5,
        8000,
    )
    assert {(c["kind"], c["expected"], c["given"], c["correct"]) for c in evidence["checks"]} == {
        ("control", "positive", "postive", True),
        ("control", "negative", "neutral", False),
        ("attention", "blue", "grey", False),
    }
    # The worker sees the same evidence about their own work.
    worker_view = case_view(access=access_case(user=worker, case_id=case.pk))
    assert worker_view["items"][0]["control_evidence"]["accuracy_bps"] == 2000

    clock.advance(hours=48, seconds=1)
    jobs.run_deadlines.delay()
    for juror in Juror.objects.filter(case=case).exclude(status=Juror.Status.REPLACED).select_related("user"):
        services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="The attention check was unfair.")
    assert Case.objects.get(pk=case.pk).outcome_share_bps == 10_000
    clock.advance(hours=72, seconds=1)
    jobs.run_deadlines.delay()

    assert Assignment.objects.get(pk=disputed.pk).status == Assignment.Status.SETTLED
    assert balance(accounts.worker_earnings(worker)).posted == batch.reward  # overturned: paid in full
