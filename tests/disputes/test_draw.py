"""The juror draw: eligibility, conflicts of interest over many draws, and re-running a
stored draw from its seed and pool."""

import random

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership
from core.errors import AppError, PermissionDenied
from disputes import draw, selectors, services
from disputes.models import Draw, Juror
from tests.disputes.factories import approve, batch_for, jurors, reject, submitted
from tests.factories import MemberFactory, OrganisationFactory, UserFactory, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(clock):
    """A contested-to-be case and every kind of member around it."""
    organisation = OrganisationFactory()
    # Worked for this requester 91 days ago: outside the 90-day look-back, so eligible.
    long_ago = MemberFactory()
    approve(submitted(batch_for(organisation), long_ago))
    clock.advance(days=91)

    party = MemberFactory()
    staff = MemberFactory()
    account_services.organisation_staff_add(organisation=organisation, user=staff, actor=staff)
    batch = batch_for(organisation, slots=2)
    colleague = MemberFactory()  # worked on the same batch
    approve(submitted(batch, colleague))
    recent = MemberFactory()  # worked for the requester on another batch last week
    approve(submitted(batch_for(organisation), recent))
    work = reject(submitted(batch, party))
    newcomer = MemberFactory(membership__joined_at=timezone.now() - timezone.timedelta(days=10))
    not_opted_in = MemberFactory(membership__juror_opt_in=False)
    suspended = MemberFactory()
    services.user_suspend(
        user=suspended, actor=staff_member("moderator"), code="payment_fraud", reason="Fraud under review."
    )
    left = MemberFactory()
    Membership.objects.filter(user=left).update(status=Membership.Status.LEFT)
    clean = jurors(6)
    case = services.dispute_open(worker=party, assignment_id=work.pk, statement="It was right.")
    return {
        "case": case,
        "organisation": organisation,
        "conflicted": {party.pk, staff.pk, colleague.pk, recent.pk},
        "ineligible": {newcomer.pk, not_opted_in.pk, suspended.pk, left.pk},
        "eligible": {long_ago.pk} | {member.pk for member in clean},
    }


def test_the_pool_is_the_eligible_members_without_conflicts(scene):
    pool = draw.draw_pool(case=scene["case"], at=timezone.now())
    assert pool == sorted(scene["eligible"])


def test_a_conflicted_member_is_never_drawn_over_many_draws(scene):
    case = scene["case"]
    drawn: set[int] = set()
    for _ in range(200):
        made = draw.draw_make(case=case, size=3, purpose=Draw.Purpose.PANEL, at=timezone.now())
        assert len(made.chosen) == 3 and len(set(made.chosen)) == 3
        drawn.update(made.chosen)
    assert not drawn & (scene["conflicted"] | scene["ineligible"])
    # Every eligible member was drawn at some point: the exclusion is not an accident of chance.
    assert drawn == scene["eligible"]


def test_a_stored_draw_reruns_to_the_same_jurors(scene):
    case = scene["case"]
    owner = scene["organisation"].staff.get(role="owner").user
    services.case_respond(case=case, actor=owner, action="contest", text="Wrong labels.")

    made = Draw.objects.get(case=case)
    assert len(made.seed) == 32 and made.pool == sorted(scene["eligible"])
    expected = random.Random(int(made.seed, 16)).sample(made.pool, 3)
    assert made.chosen == expected == draw.draw_rerun(seed=made.seed, pool=made.pool, size=made.size)
    assert list(Juror.objects.filter(case=case).values_list("user_id", flat=True)) == expected

    audit = selectors.case_draws_for_audit(user=UserFactory(is_staff=True), case_id=case.pk)
    assert [(row["seed"], row["chosen"], row["reproduced"]) for row in audit] == [(made.seed, expected, True)]


def test_only_co_op_staff_read_the_draws(scene):
    with pytest.raises(PermissionDenied):
        selectors.case_draws_for_audit(user=scene["case"].worker, case_id=scene["case"].pk)


def test_the_seed_decides_the_draw():
    pool = list(range(1, 101))
    assert draw.draw_rerun(seed="ab" * 16, pool=pool, size=5) == draw.draw_rerun(
        seed="ab" * 16, pool=pool[::-1], size=5
    )
    assert draw.draw_rerun(seed="ab" * 16, pool=pool, size=5) != draw.draw_rerun(seed="cd" * 16, pool=pool, size=5)
    assert draw.draw_rerun(seed="ab" * 16, pool=[7, 3], size=5) in ([3, 7], [7, 3])


def test_the_sample_of_a_mass_case_is_reproducible():
    items = list(range(10, 40))
    first = draw.draw_sample(seed="12" * 16, item_ids=items, size=5)
    assert first == draw.draw_sample(seed="12" * 16, item_ids=items[::-1], size=5)
    assert len(first) == 5 and set(first) <= set(items)
    assert draw.draw_sample(seed="12" * 16, item_ids=[1, 2], size=5) == [1, 2]


def test_a_suspension_needs_a_reason_and_changes_nothing_without_one():
    worker = UserFactory()
    with pytest.raises(AppError) as refused:
        services.user_suspend(user=worker, actor=staff_member("moderator"), code="harassment", reason="  ")
    assert refused.value.code == "reason_required"
    worker.refresh_from_db()
    assert worker.suspended_at is None and worker.suspension_reason == ""


def test_with_an_activity_rule_only_recently_active_members_are_drawn(clock):
    from tests.disputes.factories import adopt

    # Factory-made members have no recorded activity; a service call writes an audit row.
    idle = jurors(2)
    active = jurors(1)[0]
    clock.advance(days=40)
    account_services.membership_set_juror_opt_in(user=active, opt_in=True)
    adopt("voter_activity_days", 30)
    assert draw.eligible_member_ids(at=timezone.now(), tenure_days=30) == {active.pk}
    assert not {member.pk for member in idle} & draw.eligible_member_ids(at=timezone.now(), tenure_days=30)


def test_former_staff_sit_on_none_of_the_organisations_cases_for_the_governed_days(scene, clock):
    """Issue 19.2: present and former staff (for ``former_staff_days``) never sit on its cases."""
    organisation, case = scene["organisation"], scene["case"]
    former = next(iter(scene["eligible"] - {min(scene["eligible"])}))
    from accounts.models import User

    person = User.objects.get(pk=former)
    account_services.organisation_staff_add(organisation=organisation, user=person, actor=person)
    account_services.organisation_staff_remove(organisation=organisation, user=person, actor=person)
    assert former in draw.conflicted_ids(case=case, at=timezone.now())
    assert former not in draw.draw_pool(case=case, at=timezone.now())
    later = timezone.now() + timezone.timedelta(days=181)
    assert former not in draw.conflicted_ids(case=case, at=later)
