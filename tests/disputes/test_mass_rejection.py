"""The mass-rejection guard: the trigger, the freeze, the publishing block, a panel
deciding on a sample for the whole case, and a worker taking their own case."""

import pytest

from core.errors import AppError
from disputes import jobs, selectors, services
from disputes.models import Case, CaseItem, Juror
from ledger import accounts
from ledger.selectors import balance
from tasks import services as task_services
from tasks.models import Assignment
from tests.disputes.factories import FEE, REWARD, adopt, approve, batch_for, jurors, reject, submitted
from tests.factories import OrganisationFactory, UserFactory
from tests.ledger.factories import fund

pytestmark = pytest.mark.django_db


def reviewed(organisation, *, approved: int, rejected: int) -> list[Assignment]:
    """One batch of approved + rejected slots, each by another worker; returns the rejected."""
    batch = batch_for(organisation, slots=approved + rejected)
    work = [submitted(batch, UserFactory()) for _ in range(approved + rejected)]
    for assignment in work[:approved]:
        approve(assignment)
    return [reject(assignment) for assignment in work[approved:]]


def statuses(assignments: list[Assignment]) -> list[str]:
    return [Assignment.objects.get(pk=a.pk).status for a in assignments]


def owner(organisation):
    return organisation.staff.get(role="owner").user


def test_a_batch_share_at_the_limit_freezes_the_rejections_into_one_case():
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=7, rejected=3)  # 30% = mass_rejection_share_bps

    case_id = jobs.check_mass_rejection.delay(organisation.pk).get()

    case = Case.objects.get(pk=case_id)
    assert (case.kind, case.state, case.organisation_id, case.worker_id) == (
        "mass_rejection",
        "awaiting_response",
        organisation.pk,
        None,
    )
    assert sorted(case.items.values_list("assignment_id", flat=True)) == [a.pk for a in rejected]
    assert statuses(rejected) == ["disputed"] * 3
    assert balance(accounts.org_escrow(organisation)).credits_pending == 3 * (REWARD + FEE)
    assert selectors.organisation_publish_blocked(organisation)
    for assignment in rejected:
        assert assignment.worker.has_perm("disputes.view_case", case)
        assert selectors.rejection_is_held(assignment.pk)
    assert owner(organisation).has_perm("disputes.view_case", case)

    # Running the guard again changes nothing.
    assert jobs.check_mass_rejection.delay(organisation.pk).get() is None
    assert Case.objects.count() == 1 and case.items.count() == 3


def test_below_the_share_and_the_count_nothing_is_frozen():
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=8, rejected=2)

    assert jobs.scan_mass_rejections.delay().get() == 0

    assert Case.objects.count() == 0
    assert statuses(rejected) == ["rejected", "rejected"]
    assert not selectors.organisation_publish_blocked(organisation)


def test_the_count_triggers_whatever_the_share():
    adopt("mass_rejection_share_bps", 10_000)
    adopt("mass_rejection_min_count", 2)
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=8, rejected=2)

    assert jobs.scan_mass_rejections.delay().get() == 1
    assert statuses(rejected) == ["disputed", "disputed"]


def test_one_workers_work_rejected_across_batches_triggers_the_guard():
    organisation = OrganisationFactory()
    worker = UserFactory()
    work = [submitted(batch_for(organisation), worker) for _ in range(4)]
    approve(work[0])
    approve(work[1])
    rejected = [reject(work[2]), reject(work[3])]  # 50% of this worker's work, each batch only one

    case = services.mass_rejection_check(organisation_id=organisation.pk)

    assert case is not None and case.batch_id is None
    assert statuses(rejected) == ["disputed", "disputed"]


def test_an_individual_dispute_is_left_out_of_the_mass_case():
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=7, rejected=3)
    own = services.dispute_open(worker=rejected[0].worker, assignment_id=rejected[0].pk, statement="Mine was good.")

    case = services.mass_rejection_check(organisation_id=organisation.pk)

    assert case is not None and case.pk != own.pk
    assert sorted(case.items.values_list("assignment_id", flat=True)) == [rejected[1].pk, rejected[2].pk]


def awaiting_review(organisation, count: int) -> list[Assignment]:
    """Submitted work on a batch published now, to be reviewed later."""
    batch = batch_for(organisation, slots=count)
    return [submitted(batch, UserFactory()) for _ in range(count)]


def test_new_rejections_join_the_open_mass_case():
    organisation = OrganisationFactory()
    later = awaiting_review(organisation, 2)
    reviewed(organisation, approved=7, rejected=3)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    more = [reject(assignment) for assignment in later]

    assert services.mass_rejection_check(organisation_id=organisation.pk) == case
    assert case.items.count() == 5 and statuses(more) == ["disputed", "disputed"]
    case.refresh_from_db()
    assert case.batch_id is None


def test_once_a_panel_is_drawn_new_rejections_open_another_case():
    jurors(3)
    organisation = OrganisationFactory()
    later = awaiting_review(organisation, 2)
    reviewed(organisation, approved=7, rejected=3)
    first = services.mass_rejection_check(organisation_id=organisation.pk)
    services.case_respond(case=first, actor=owner(organisation), action="contest", text="Spam.")
    more = [reject(assignment) for assignment in later]

    second = services.mass_rejection_check(organisation_id=organisation.pk)

    assert second is not None and second.pk != first.pk
    assert first.items.count() == 3
    assert sorted(second.items.values_list("assignment_id", flat=True)) == [a.pk for a in more]


def test_a_panel_decides_on_a_sample_and_the_decision_applies_to_all(clock):
    panel = jurors(5)
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=3, rejected=7)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    with pytest.raises(AppError) as refused:
        services.case_respond(case=case, actor=owner(organisation), action="offer", share_bps=5000)
    assert refused.value.code == "offer_not_available"

    services.case_respond(case=case, actor=owner(organisation), action="contest", text="All were spam.")
    case.refresh_from_db()
    assert len(case.sample_item_ids) == 5
    assert set(case.sample_item_ids) <= set(case.items.values_list("id", flat=True))
    seat = Juror.objects.filter(case=case).first()
    assert seat.user in panel
    view = selectors.case_view(access=selectors.access_case(user=seat.user, case_id=case.pk))
    assert sorted(item["item"] for item in view["items"]) == case.sample_item_ids

    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    for juror in Juror.objects.filter(case=case):
        services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="The sample is good work.")
    case.refresh_from_db()
    assert case.state == "decided"
    assert not selectors.organisation_publish_blocked(organisation)

    clock.advance(hours=73)
    jobs.run_deadlines.delay()

    assert statuses(rejected) == ["settled"] * 7
    for assignment in rejected:
        assert balance(accounts.worker_earnings(assignment.worker)).posted == REWARD
    assert balance(accounts.org_escrow(organisation)).credits_pending == 0
    assert selectors.organisation_dispute_record(organisation=organisation) == {"overturned": 7, "upheld": 0}


def test_a_requester_accepting_the_mass_case_pays_every_worker():
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=7, rejected=3)
    case = services.mass_rejection_check(organisation_id=organisation.pk)

    services.case_respond(case=case, actor=owner(organisation), action="accept")

    assert statuses(rejected) == ["settled"] * 3
    assert not selectors.organisation_publish_blocked(organisation)


def test_a_worker_may_take_their_own_case_out_of_the_mass_case():
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=7, rejected=3)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    worker = rejected[0].worker

    own = services.case_split(case=case, worker=worker, statement="Judge mine on its own.")

    assert (own.kind, own.state, own.worker_id, own.parent_id) == ("rejection", "awaiting_response", worker.pk, case.pk)
    assert list(own.items.values_list("assignment_id", flat=True)) == [rejected[0].pk]
    assert case.items.filter(state="held").count() == 2
    assert not worker.has_perm("disputes.view_case", case) and worker.has_perm("disputes.view_case", own)
    assert statuses(rejected) == ["disputed"] * 3

    services.case_split(case=case, worker=rejected[1].worker, statement="Mine too.")
    services.case_split(case=case, worker=rejected[2].worker, statement="And mine.")
    case.refresh_from_db()
    assert (case.state, case.resolution) == ("closed", "split")
    assert CaseItem.objects.filter(state="held").count() == 3


def test_a_stranger_cannot_split_a_mass_case():
    organisation = OrganisationFactory()
    reviewed(organisation, approved=7, rejected=3)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    with pytest.raises(AppError) as refused:
        services.case_split(case=case, worker=UserFactory(), statement="Me too.")
    assert refused.value.code == "not_found"
    assert Case.objects.count() == 1 and case.items.filter(state="held").count() == 3


def test_rejections_past_their_contest_window_are_not_frozen(clock):
    adopt("mass_rejection_period_hours", 720)
    organisation = OrganisationFactory()
    rejected = reviewed(organisation, approved=7, rejected=3)
    clock.advance(days=7, seconds=1)

    assert services.mass_rejection_check(organisation_id=organisation.pk) is None
    assert statuses(rejected) == ["rejected"] * 3 and Case.objects.count() == 0


def draft(organisation):
    return task_services.batch_create(
        organisation=organisation,
        actor=owner(organisation),
        title="More images",
        description="d",
        purpose="p",
        data_use="u",
        reward=REWARD,
        assignments_per_task=1,
        estimated_minutes=5,
        time_allotted_minutes=30,
        lifetime_hours=48,
        external_url="https://example.org/task",
    )


def test_an_undecided_mass_case_freezes_publishing_until_it_is_decided():
    organisation = OrganisationFactory()
    reviewed(organisation, approved=7, rejected=3)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    fund(organisation, REWARD + FEE)
    batch = draft(organisation)

    with pytest.raises(AppError) as refused:
        task_services.batch_publish(batch=batch, actor=owner(organisation))
    assert refused.value.code == "publishing_frozen"
    batch.refresh_from_db()
    assert batch.status == "draft" and not batch.assignments.exists()
    assert balance(accounts.org_available(organisation)).available == REWARD + FEE

    services.case_respond(case=case, actor=owner(organisation), action="accept")
    assert task_services.batch_publish(batch=batch, actor=owner(organisation)).status == "published"


def test_a_rejection_queues_the_guard_once_committed(django_capture_on_commit_callbacks):
    organisation = OrganisationFactory()
    batch = batch_for(organisation, slots=10)
    work = [submitted(batch, UserFactory()) for _ in range(10)]
    for assignment in work[:7]:
        approve(assignment)
    reject(work[7])
    reject(work[8])
    assert Case.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reject(work[9])

    assert len(callbacks) >= 1
    case = Case.objects.get()
    assert case.kind == "mass_rejection" and case.items.count() == 3
