"""Property: over random markets of honest and junk work, judged by honest, inattentive and
mass-rejecting requesters, every good attempt ends paid with its top-up, every junk attempt
ends unpaid, and no good attempt is decided by another worker's work (issue 20)."""

from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Organisation, User
from disputes import jobs as dispute_jobs
from disputes import selectors as dispute_selectors
from disputes import services as dispute_services
from disputes.models import Case, CaseItem, Juror
from ledger.selectors import ledger_check
from tasks import jobs, services
from tasks.models import Assignment, Bonus, FairPayReview
from tests.factories import MemberFactory, OrganisationFactory, UserFactory
from tests.ledger.factories import fund
from tests.tasks.conftest import Clock
from tests.tasks.factories import earnings, published_batch

pytestmark = pytest.mark.django_db

REWARD = 50  # for an estimated 2 minutes; the founding floor is 12.00/h


class Rollback(Exception):
    """Ends one example, undoing everything it wrote."""


@dataclass
class Worker:
    user: User
    good: bool
    minutes: list[float]


market = st.fixed_dictionaries(
    {
        # Honest workers' minutes per item (3 to 8: the estimate of 2 is too short, so top-ups are owed).
        "honest": st.lists(st.lists(st.integers(3, 8), min_size=1, max_size=3), min_size=2, max_size=4),
        # Junk workers: how many items each, done in a few seconds.
        "junk": st.lists(st.integers(1, 3), min_size=0, max_size=3),
        # "honest" rejects junk only; "inattentive" approves everything; "mass" rejects everything.
        "requester": st.sampled_from(["honest", "inattentive", "mass"]),
    }
).filter(lambda m: sum(len(x) for x in m["honest"]) > sum(m["junk"]))  # junk is a minority of the work


def _play(organisation: Organisation, clock: Clock, spec: dict, panel: list[User]) -> None:  # type: ignore[type-arg]
    workers = [Worker(UserFactory(), True, [float(m) for m in items]) for items in spec["honest"]]
    workers += [Worker(UserFactory(), False, [0.1] * count) for count in spec["junk"]]
    items = sum(len(w.minutes) for w in workers)
    rows = "animal,image_url\n" + "".join(f"cat,https://img.example/{n}.jpg\n" for n in range(items))
    batch = published_batch(organisation, rows=rows, assignments_per_task=1, time_allotted_minutes=60)
    fund(organisation, 100_000)  # enough for every top-up
    owner = organisation.staff.get(role="owner").user
    done: list[tuple[Worker, Assignment]] = []
    for worker in workers:
        for minutes in worker.minutes:
            slot = services.assignment_accept(worker=worker.user, batch=batch)
            clock.advance(minutes=minutes)
            answer = "yes" if worker.good else "no"
            done.append(
                (worker, services.assignment_submit(worker=worker.user, assignment=slot, answers={"answer": answer}))
            )
    for worker, slot in done:
        reject = spec["requester"] == "mass" or (spec["requester"] == "honest" and not worker.good)
        if reject:
            services.assignment_reject(actor=owner, assignment=slot, reason="incomplete", text="Not usable.")
        else:
            services.assignment_approve(actor=owner, assignment=slot)
    jobs.fair_pay_reviews.delay()  # the batch is finished: measured now, before any dispute settles
    dispute_services.mass_rejection_check(organisation_id=organisation.pk)
    # Honest workers contest every rejection the guard did not freeze.
    for worker, slot in done:
        slot.refresh_from_db()
        if worker.good and slot.status == Assignment.Status.REJECTED:
            dispute_services.dispute_open(worker=worker.user, assignment_id=slot.pk, statement="Careful work.")
    for case in Case.objects.filter(kind=Case.Kind.MASS_REJECTION, state=Case.State.AWAITING_RESPONSE):
        dispute_services.case_respond(case=case, actor=owner, action="contest", text="All of it was junk.")
    clock.advance(hours=49)
    dispute_jobs.run_deadlines.delay()
    for case in Case.objects.filter(kind=Case.Kind.MASS_REJECTION, state=Case.State.VOTING):
        for juror in Juror.objects.filter(case=case, status=Juror.Status.SERVING).select_related("user"):
            view = dispute_selectors.case_view(access=dispute_selectors.access_case(user=juror.user, case_id=case.pk))
            # Each juror judges each worker on that worker's own sampled items only.
            shares = {
                w["label"]: 0 if any(item["answers"].get("answer") == "no" for item in w["items"]) else 10_000
                for w in view["workers"]
                if w["held_items"]
            }
            dispute_services.case_vote(case=case, juror_user=juror.user, worker_shares=shares, reason="Read each.")
    for _ in range(3):
        clock.advance(hours=73)
        dispute_jobs.run_deadlines.delay()
    clock.advance(days=8)
    jobs.finalise_rejections.delay()
    jobs.fair_pay_reviews.delay()
    jobs.fair_pay_reviews.delay()

    review = FairPayReview.objects.get(batch=batch)
    honest_seconds = [int(m * 60) for w in workers if w.good for m in w.minutes]
    expected = services.fair_pay_figures(reward=REWARD, work_seconds=honest_seconds, floor_hourly=1200)
    assert expected is not None
    # The measured time is the good work's own median, whoever else worked on the batch.
    assert review.top_up_per_assignment == expected.top_up_per_assignment
    for worker in workers:
        slots = [slot for w, slot in done if w is worker]
        statuses = set(Assignment.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True))
        if worker.good:
            assert statuses <= {"approved", "settled"}, (spec, statuses)
            assert earnings(worker.user) == len(slots) * (REWARD + review.top_up_per_assignment), spec
            assert Bonus.objects.filter(worker=worker.user, kind="fair_pay_top_up", paid=False).count() == 0
        elif spec["requester"] == "inattentive":
            assert statuses == {"approved"}  # paid: nobody contested it (and it got its top-up too)
        else:
            assert statuses == {"refunded"}, (spec, statuses)
            assert earnings(worker.user) == 0
    # A mass case decided each worker alone: every item executed with its own worker's share.
    for item in CaseItem.objects.filter(case__kind=Case.Kind.MASS_REJECTION, state=CaseItem.State.EXECUTED):
        good = next(w.good for w in workers if w.user.pk == item.worker_id)
        assert item.executed_share_bps == (10_000 if good else 0)
    assert panel  # the jurors were there to draw
    assert ledger_check() == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=market)
def test_every_good_attempt_ends_paid_with_its_top_up(clock: Clock, spec: dict) -> None:  # type: ignore[type-arg]
    try:
        with transaction.atomic():
            panel = [MemberFactory() for _ in range(9)]
            _play(OrganisationFactory(), clock, spec, panel)
            raise Rollback
    except Rollback:
        pass
