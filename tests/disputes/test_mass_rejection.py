"""The mass-rejection guard: the trigger, the freeze, the publishing block, a panel
deciding on a sample for the whole case, and a worker taking their own case."""

import pytest

from core.errors import AppError
from disputes import jobs, selectors, services
from disputes.models import Case, CaseItem, Juror
from ledger import accounts
from ledger.selectors import balance
from tasks import services as task_services
from tasks.models import Assignment, Batch
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
    # One batch's pattern holds that batch, not the requester's other publishing.
    assert case.batch_id == rejected[0].batch_id and selectors.batch_held_by_case(case.batch_id)
    assert not selectors.organisation_publish_blocked(organisation)
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


def test_the_count_of_distinct_workers_across_batches_triggers_whatever_the_share():
    adopt("mass_rejection_share_bps", 10_000)
    adopt("mass_rejection_min_count", 3)
    organisation = OrganisationFactory()
    rejected = [a for _ in range(3) for a in reviewed(organisation, approved=8, rejected=1)]

    assert jobs.scan_mass_rejections.delay().get() == 1
    assert statuses(rejected) == ["disputed"] * 3
    case = Case.objects.get()
    assert case.batch_id is None and selectors.organisation_publish_blocked(organisation)


def test_rejecting_all_the_junk_of_one_or_two_workers_never_triggers_the_guard():
    """Issue 20.4: the guard counted rejections per worker, so rejecting one spammer made a
    requester a "mass rejecter". Now it counts distinct workers."""
    organisation = OrganisationFactory()
    spammers = [UserFactory(), UserFactory()]
    batch = batch_for(organisation, slots=12)
    honest = [submitted(batch, UserFactory()) for _ in range(2)]
    for assignment in honest:
        approve(assignment)
    junk = []
    for spammer in spammers:
        for _ in range(5):
            junk.append(reject(submitted(batch_for(organisation), spammer)))
    junk += [reject(submitted(batch, spammer)) for spammer in spammers]  # 100% of two workers, 50% of the batch

    assert services.mass_rejection_check(organisation_id=organisation.pk) is None
    assert jobs.scan_mass_rejections.delay().get() == 0
    assert Case.objects.count() == 0 and set(statuses(junk)) == {"rejected"}
    assert not selectors.organisation_publish_blocked(organisation)


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


def same_batch(organisation, *, approved: int, rejected: int, later: int) -> tuple[list[Assignment], list]:
    """One batch: ``approved`` + ``rejected`` decided now, ``later`` submissions awaiting review."""
    batch = batch_for(organisation, slots=approved + rejected + later)
    work = [submitted(batch, UserFactory()) for _ in range(approved + rejected + later)]
    for assignment in work[:approved]:
        approve(assignment)
    return [reject(a) for a in work[approved : approved + rejected]], work[approved + rejected :]


def test_new_rejections_join_the_open_mass_case():
    organisation = OrganisationFactory()
    _, later = same_batch(organisation, approved=7, rejected=3, later=2)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    more = [reject(assignment) for assignment in later]

    assert services.mass_rejection_check(organisation_id=organisation.pk) == case
    assert case.items.count() == 5 and statuses(more) == ["disputed", "disputed"]
    case.refresh_from_db()
    assert case.batch_id == later[0].batch_id


def test_once_a_panel_is_drawn_new_rejections_open_another_case():
    jurors(3)
    organisation = OrganisationFactory()
    _, later = same_batch(organisation, approved=7, rejected=3, later=3)
    first = services.mass_rejection_check(organisation_id=organisation.pk)
    services.case_respond(case=first, actor=owner(organisation), action="contest", text="Spam.")
    more = [reject(assignment) for assignment in later]

    second = services.mass_rejection_check(organisation_id=organisation.pk)

    assert second is not None and second.pk != first.pk
    assert first.items.count() == 3
    assert sorted(second.items.values_list("assignment_id", flat=True)) == [a.pk for a in more]


def test_a_mass_case_is_decided_per_worker_and_no_outcome_follows_from_anothers_work(clock):
    """Issue 20.5: a mass case decided every item by a five-item sample, whoever's work it was."""
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    from notifications.models import Notification

    def api(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    panel = jurors(3)
    adopt("mass_rejection_min_count", 3)
    organisation = OrganisationFactory()
    good, spammer, careful = UserFactory(), UserFactory(), UserFactory()
    junk = [reject(submitted(batch_for(organisation), spammer)) for _ in range(7)]
    good_work = reject(submitted(batch_for(organisation), good))
    careful_work = reject(submitted(batch_for(organisation), careful))
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    assert case is not None and case.batch_id is None and case.items.count() == 9
    # Every worker is told, once, that their work is judged in a mass case and decided alone.
    for worker in (good, spammer, careful):
        assert Notification.objects.filter(user=worker, category="mass_case_opened").count() == 1
    assert services.mass_rejection_check(organisation_id=organisation.pk) is None
    assert Notification.objects.filter(category="mass_case_opened").count() == 3

    contested = api(owner(organisation)).post(
        f"/api/disputes/cases/{case.pk}/respond/", {"action": "contest", "text": "All spam."}, format="json"
    )
    assert contested.status_code == 200, contested.json()
    case.refresh_from_db()
    labels = {
        worker.pk: label
        for worker, label in zip(
            sorted([good, spammer, careful], key=lambda u: u.pk), ["Worker 1", "Worker 2", "Worker 3"], strict=True
        )
    }
    # A sample per worker: five of the spammer's seven, each other worker's one.
    sampled = CaseItem.objects.filter(pk__in=case.sample_item_ids)
    assert sorted(sampled.values_list("worker_id", flat=True)) == sorted([spammer.pk] * 5 + [good.pk, careful.pk])
    added = api(careful).post(
        f"/api/disputes/cases/{case.pk}/evidence/", {"text": "My answer matches the image."}, format="json"
    )
    assert added.status_code == 201, added.json()
    seat = Juror.objects.filter(case=case).first()
    view = api(seat.user).get(f"/api/disputes/cases/{case.pk}/").json()
    assert [(w["label"], w["held_items"], len(w["items"])) for w in view["workers"]] == sorted(
        [(labels[good.pk], 1, 1), (labels[spammer.pk], 7, 5), (labels[careful.pk], 1, 1)]
    )
    assert [(e["side"], e["worker"]) for e in view["evidence"]] == [("worker", labels[careful.pk])]

    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    shares = {labels[good.pk]: 10_000, labels[spammer.pk]: 0, labels[careful.pk]: 10_000}
    one_share = api(panel[0]).post(
        f"/api/disputes/cases/{case.pk}/vote/", {"share_bps": 10_000, "reason": "All good."}, format="json"
    )
    assert one_share.status_code == 400 and "worker_shares" in one_share.json()["error"]["fields"]
    from disputes.models import Vote

    assert Vote.objects.count() == 0
    jurors_seated = list(Juror.objects.filter(case=case).select_related("user"))
    for juror in jurors_seated[:-1]:
        voted = api(juror.user).post(
            f"/api/disputes/cases/{case.pk}/vote/",
            {"worker_shares": shares, "reason": "Each worker judged on their own items."},
            format="json",
        )
        assert voted.status_code == 201, voted.json()
    # The last juror votes through the page, one share per worker.
    browser = Client()
    browser.force_login(jurors_seated[-1].user)
    page = browser.get(reverse("case", args=[case.pk]))
    assert page.status_code == 200
    assert all(f"{label}: share of the reward to pay" in page.content.decode() for label in shares)
    form = {f"share_{i}": str(shares[label] // 100) for i, label in enumerate(sorted(shares))}
    form["reason"] = "Judged per worker."
    posted = browser.post(reverse("case_action", args=[case.pk, "vote"]), form)
    assert posted.status_code in (302, 303), posted.content.decode()[:500]
    case.refresh_from_db()
    assert case.state == Case.State.DECIDED
    assert case.worker_shares == {str(good.pk): 10_000, str(spammer.pk): 0, str(careful.pk): 10_000}

    clock.advance(hours=73)
    jobs.run_deadlines.delay()

    assert statuses(junk) == ["refunded"] * 7
    assert statuses([good_work, careful_work]) == ["settled", "settled"]
    assert balance(accounts.worker_earnings(good)).posted == REWARD
    assert balance(accounts.worker_earnings(spammer)).posted == 0
    assert balance(accounts.org_escrow(organisation)).credits_pending == 0
    assert api(good).get(f"/api/disputes/cases/{case.pk}/").json()["your_share_bps"] == 10_000
    assert api(spammer).get(f"/api/disputes/cases/{case.pk}/").json()["your_share_bps"] == 0


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
    assert case.items.filter(state=CaseItem.State.HELD).count() == 2
    assert not worker.has_perm("disputes.view_case", case) and worker.has_perm("disputes.view_case", own)
    assert statuses(rejected) == ["disputed"] * 3

    services.case_split(case=case, worker=rejected[1].worker, statement="Mine too.")
    services.case_split(case=case, worker=rejected[2].worker, statement="And mine.")
    case.refresh_from_db()
    assert (case.state, case.resolution) == ("closed", "split")
    assert CaseItem.objects.filter(state=CaseItem.State.HELD).count() == 3


def test_a_stranger_cannot_split_a_mass_case():
    organisation = OrganisationFactory()
    reviewed(organisation, approved=7, rejected=3)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    with pytest.raises(AppError) as refused:
        services.case_split(case=case, worker=UserFactory(), statement="Me too.")
    assert refused.value.code == "not_found"
    assert Case.objects.count() == 1 and case.items.filter(state=CaseItem.State.HELD).count() == 3


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


def test_a_mass_case_on_one_batch_holds_that_batch_only():
    organisation = OrganisationFactory()
    _, later = same_batch(organisation, approved=7, rejected=3, later=1)
    batch = later[0].batch
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PAUSED
    with pytest.raises(AppError) as refused:
        task_services.batch_resume(batch=batch, actor=owner(organisation))
    assert refused.value.code == "batch_held"
    fund(organisation, REWARD + FEE)
    assert (
        task_services.batch_publish(batch=draft(organisation), actor=owner(organisation)).status
        == Batch.Status.PUBLISHED
    )

    services.case_respond(case=case, actor=owner(organisation), action="accept")
    assert task_services.batch_resume(batch=batch, actor=owner(organisation)).status == Batch.Status.PUBLISHED


def test_an_undecided_mass_case_across_batches_freezes_publishing_until_it_is_decided():
    adopt("mass_rejection_min_count", 3)
    organisation = OrganisationFactory()
    for _ in range(3):
        reviewed(organisation, approved=3, rejected=1)
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    assert case is not None and case.batch_id is None
    fund(organisation, REWARD + FEE)
    batch = draft(organisation)

    with pytest.raises(AppError) as refused:
        task_services.batch_publish(batch=batch, actor=owner(organisation))
    assert refused.value.code == "publishing_frozen"
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT and not batch.assignments.exists()
    assert balance(accounts.org_available(organisation)).available == REWARD + FEE

    services.case_respond(case=case, actor=owner(organisation), action="accept")
    assert task_services.batch_publish(batch=batch, actor=owner(organisation)).status == Batch.Status.PUBLISHED


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
