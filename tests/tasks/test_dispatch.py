"""Fair dispatch (issue 26): the plan at publish, applications, the weighted lottery and its
re-run from the stored seed, caps, waves on a fake clock, rollover, first come first served
after the period, and the feed's search and filters."""

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import User
from core.errors import AppError
from governance import services as governance_services
from governance.models import Proposal
from tasks import dispatch, jobs, lottery, searches, selectors, services
from tasks.models import Assignment, Batch, DispatchWave, WaveApplication
from tests.factories import MemberFactory, UserFactory
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import available, make_batch, published_batch

pytestmark = pytest.mark.django_db

TEMPLATE = '<p>${text}</p><input name="label" required>'


def rows(count: int) -> str:
    return "text\n" + "\n".join(f"sentence {i}" for i in range(count)) + "\n"


def waves_batch(organisation, *, slots: int = 48, **overrides) -> Batch:  # type: ignore[no-untyped-def]
    """A batch of ``slots`` slots (one per task) published in waves: founding rule, 24 waves
    over 24 hours, so two slots a wave for 48; the cap is 2% of 48, one slot a worker."""
    fields = {"template_html": TEMPLATE, "assignments_per_task": 1, "dispatch_mode": "waves", **overrides}
    return published_batch(organisation, rows=rows(slots), **fields)


def apply_all(batch: Batch, workers: list[User]) -> None:
    for worker in workers:
        services.wave_apply(worker=worker, batch=batch)


def held(batch: Batch) -> int:
    return Assignment.objects.filter(batch=batch).exclude(status=Assignment.Status.OPEN).count()


# --- The plan ------------------------------------------------------------------------------------


def test_a_large_batch_opens_in_waves_and_records_the_rule(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    assert batch.dispatch_fcfs_at == batch.published_at + timedelta(hours=24)
    assert batch.dispatch_cap_until == batch.published_at + timedelta(hours=24)
    assert batch.dispatch_cap_slots == 1
    assert batch.dispatch_rules["dispatch_waves"]["value"] == 24
    assert set(batch.dispatch_rules) == set(dispatch.DISPATCH_RULES)
    waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
    assert [w.number for w in waves] == list(range(1, 25))
    assert waves[0].opens_at == batch.published_at
    assert waves[0].draws_at == batch.published_at + timedelta(minutes=10)
    assert waves[1].opens_at == batch.published_at + timedelta(hours=1)
    assert waves[-1].cumulative_bps == 10_000


def test_a_small_batch_opens_all_at_once_by_default(organisation, worker) -> None:
    batch = published_batch(organisation)  # 4 slots, under the founding 100
    assert batch.dispatch_fcfs_at is None
    assert not DispatchWave.objects.filter(batch=batch).exists()
    assert services.assignment_accept(worker=worker, batch=batch).status == Assignment.Status.ACCEPTED


def test_auto_opens_a_batch_above_the_limit_in_waves(organisation) -> None:
    batch = published_batch(organisation, rows=rows(101), template_html=TEMPLATE, assignments_per_task=1)
    assert batch.dispatch_fcfs_at is not None
    assert DispatchWave.objects.filter(batch=batch).count() == 24


def test_all_at_once_above_the_limit_is_refused_and_nothing_is_published(organisation) -> None:
    batch = make_batch(
        organisation, rows=rows(101), template_html=TEMPLATE, assignments_per_task=1, dispatch_mode="all_at_once"
    )
    from tests.ledger.factories import fund

    fund(organisation, 101 * 55)
    before = available(organisation)
    with pytest.raises(AppError) as refused:
        services.batch_publish(batch=batch, actor=organisation.staff.get().user)
    assert refused.value.code == "all_at_once_not_allowed"
    assert refused.value.details == {"all_at_once_max_slots": 100, "slots": 101}
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT
    assert not Assignment.objects.filter(batch=batch).exists()
    assert not DispatchWave.objects.filter(batch=batch).exists()
    assert available(organisation) == before


def test_an_unknown_dispatch_mode_is_refused_at_creation(organisation) -> None:
    with pytest.raises(AppError) as refused:
        make_batch(organisation, dispatch_mode="fastest")
    assert refused.value.code == "invalid"
    assert "dispatch_mode" in refused.value.fields
    assert not Batch.objects.exists()


def test_a_dispatch_rule_value_outside_its_limits_is_refused_at_proposal() -> None:
    member = MemberFactory()
    with pytest.raises(AppError) as refused:
        governance_services.proposal_create(
            author=member,
            kind=Proposal.Kind.RULE_CHANGE,
            title="Many waves",
            body="More waves.",
            rule_key="dispatch_waves",
            proposed_value=500,
        )
    assert refused.value.code == "value_out_of_limits"
    assert (
        refused.value.message
        == "Dispatch waves must be between 1 wave and 96 waves; 500 waves is outside those limits."
    )
    assert not Proposal.objects.exists()
    # Within the limits it is a normal draft of the dispatch rule class.
    proposal = governance_services.proposal_create(
        author=member, kind=Proposal.Kind.RULE_CHANGE, title="Fewer", body="b", rule_key="dispatch_waves",
        proposed_value=12,
    )  # fmt: skip
    assert proposal.rule_class.key == "dispatch"


# --- Claims and applications during the waves ------------------------------------------------------


def test_accepting_directly_during_the_waves_is_refused_with_the_way_in(organisation, worker) -> None:
    batch = waves_batch(organisation)
    with pytest.raises(AppError) as refused:
        services.assignment_accept(worker=worker, batch=batch)
    assert refused.value.code == "dispatch_waves"
    assert "apply" in refused.value.message
    assert held(batch) == 0


def test_applying_twice_is_refused_and_keeps_one_application(organisation, worker) -> None:
    batch = waves_batch(organisation)
    first = services.wave_apply(worker=worker, batch=batch)
    assert first.weight == dispatch.WEIGHT_SCALE  # earned nothing lately
    with pytest.raises(AppError) as refused:
        services.wave_apply(worker=worker, batch=batch)
    assert refused.value.code == "already_applied"
    assert refused.value.status_code == 409
    assert WaveApplication.objects.filter(worker=worker).count() == 1


def test_a_blocked_worker_or_the_requesters_staff_cannot_apply(organisation, worker) -> None:
    batch = waves_batch(organisation)
    owner = organisation.staff.get().user
    services.worker_block(organisation=organisation, actor=owner, worker=worker, reason="Copied answers.")
    for person in (worker, owner):
        with pytest.raises(AppError) as refused:
            services.wave_apply(worker=person, batch=batch)
        assert refused.value.code == "not_eligible"
    assert not WaveApplication.objects.exists()


def test_applying_between_windows_names_the_next_window(organisation, worker, clock: Clock) -> None:
    batch = waves_batch(organisation)
    clock.advance(minutes=10)  # wave 1's window just closed
    with pytest.raises(AppError) as refused:
        services.wave_apply(worker=worker, batch=batch)
    assert refused.value.code == "window_closed"
    assert refused.value.details["next_window_at"] == (batch.published_at + timedelta(hours=1)).isoformat()
    assert not WaveApplication.objects.exists()
    clock.advance(minutes=50)  # wave 2's window opens
    assert services.wave_apply(worker=worker, batch=batch).wave.number == 2


def test_applying_to_a_batch_open_to_all_is_refused(organisation, worker) -> None:
    batch = published_batch(organisation)
    with pytest.raises(AppError) as refused:
        services.wave_apply(worker=worker, batch=batch)
    assert refused.value.code == "not_in_waves"
    assert not WaveApplication.objects.exists()


# --- The draw ------------------------------------------------------------------------------------


def test_a_wave_draw_gives_its_share_and_can_be_rerun_from_the_stored_seed(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    workers = UserFactory.create_batch(5)
    apply_all(batch, workers)
    assert jobs.dispatch_draw_due_waves() == 0  # the window is still open
    clock.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 2
    wave = DispatchWave.objects.get(batch=batch, number=1)
    assert wave.state == DispatchWave.State.DRAWN
    assert wave.slots_offered == 2 and wave.slots_given == 2
    # Stratified by time zone (the founding rule): none of these workers set a zone.
    assert wave.draw_formula == lottery.STRATIFIED
    assert sorted(wave.pool) == sorted([w.pk, dispatch.WEIGHT_SCALE, None] for w in workers)
    given = list(WaveApplication.objects.filter(wave=wave, outcome=WaveApplication.Outcome.GIVEN))
    assert sorted(a.worker_id for a in given) == sorted(wave.drawn)
    assert WaveApplication.objects.filter(wave=wave, outcome=WaveApplication.Outcome.NOT_DRAWN).count() == 3
    for application in given:
        slot = Assignment.objects.get(pk=application.assignment_id)
        assert slot.worker_id == application.worker_id and slot.status == Assignment.Status.ACCEPTED
    # Anyone re-runs it from the seed and pool stored (and published by the API).
    assert dispatch.wave_rerun(wave=wave)
    members = [(worker, weight) for worker, weight, _zone in wave.pool]
    assert dispatch.draw_order(seed=f"{wave.seed}:zone:none", pool=members, count=2) == wave.drawn
    wave.drawn = list(reversed(wave.drawn))  # a tampered record does not re-run
    assert not dispatch.wave_rerun(wave=wave)
    # Run again (a retry, a second beat): nothing more is given.
    assert jobs.dispatch_draw_due_waves() == 0
    assert held(batch) == 2


def test_the_draw_order_depends_only_on_seed_and_pool() -> None:
    pool = [(7, 3), (2, 5), (9, 1), (4, 8)]
    first = dispatch.draw_order(seed="abc", pool=pool, count=4)
    assert sorted(first) == [2, 4, 7, 9]
    assert dispatch.draw_order(seed="abc", pool=list(reversed(pool)), count=4) == first
    assert dispatch.draw_order(seed="abc", pool=pool, count=2) == first[:2]
    assert [dispatch.draw_order(seed=str(s), pool=pool, count=4) for s in range(20)].count(first) < 20


def test_weights_favour_workers_who_earned_less() -> None:
    assert dispatch.lottery_weight(earned=0, reference=5000) == 1_000_000
    assert dispatch.lottery_weight(earned=5000, reference=5000) == 500_000
    assert dispatch.lottery_weight(earned=15000, reference=5000) == 250_000
    assert dispatch.lottery_weight(earned=10**15, reference=100) == 1
    # Over many seeds the worker of weight 2 is drawn first about two times in three.
    pool = [(1, 1_000_000), (2, 500_000)]
    firsts = [dispatch.draw_order(seed=f"s{i}", pool=pool, count=1)[0] for i in range(3000)]
    share = firsts.count(1) / len(firsts)
    assert 0.63 < share < 0.70


def test_recent_earnings_lower_the_weight_at_application(organisation, worker, clock: Clock) -> None:
    small = published_batch(organisation)  # all at once
    slot = services.assignment_accept(worker=worker, batch=small)
    services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "yes"})
    services.assignment_approve(actor=organisation.staff.get().user, assignment=slot)
    assert dispatch.recent_earnings(worker_id=worker.pk, days=7) == small.reward
    batch = waves_batch(organisation)
    application = services.wave_apply(worker=worker, batch=batch)
    assert application.recent_earnings == small.reward
    assert application.weight == 1_000_000 * 5000 // (5000 + small.reward)
    clock.advance(days=8)  # outside the lookback, for a later batch
    assert dispatch.recent_earnings(worker_id=worker.pk, days=7) == 0


def test_the_cap_stops_a_worker_taking_more_in_the_first_hours(organisation, worker, clock: Clock) -> None:
    batch = waves_batch(organisation)
    services.wave_apply(worker=worker, batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    assert Assignment.objects.filter(batch=batch, worker=worker).count() == 1
    clock.advance(minutes=50)  # wave 2
    with pytest.raises(AppError) as refused:
        services.wave_apply(worker=worker, batch=batch)
    assert refused.value.code == "cap_reached"
    assert WaveApplication.objects.filter(worker=worker).count() == 1


def test_a_worker_at_the_cap_at_draw_time_is_skipped_and_the_next_is_drawn(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    first, second = UserFactory.create_batch(2)
    services.wave_apply(worker=first, batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    clock.advance(minutes=50)
    services.wave_apply(worker=second, batch=batch)
    # ``first`` reached the cap through wave 1; an application made before must not pass it.
    wave = DispatchWave.objects.get(batch=batch, number=2)
    WaveApplication.objects.create(wave=wave, worker=first, applied_at=clock.now, weight=1)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    assert Assignment.objects.filter(batch=batch, worker=first).count() == 1
    assert WaveApplication.objects.get(wave=wave, worker=first).outcome == WaveApplication.Outcome.SKIPPED
    assert WaveApplication.objects.get(wave=wave, worker=second).outcome == WaveApplication.Outcome.GIVEN


def test_untaken_slots_roll_over_and_returns_go_back_to_the_waves(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    clock.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 0  # nobody applied to wave 1: its 2 slots roll over
    clock.advance(minutes=50)
    workers = UserFactory.create_batch(6)
    apply_all(batch, workers)
    clock.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 4  # wave 2: its 2 and wave 1's 2
    given = Assignment.objects.filter(batch=batch, status=Assignment.Status.ACCEPTED).first()
    assert given is not None and given.worker is not None
    services.assignment_return(worker=given.worker, assignment=given)
    # The returned slot is not open to the fastest: it waits for the next wave.
    with pytest.raises(AppError):
        services.assignment_accept(worker=UserFactory(), batch=batch)
    clock.advance(minutes=50)
    apply_all(batch, UserFactory.create_batch(4))
    clock.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 3  # wave 3's 2 and the returned one


def test_after_the_period_the_rest_is_first_come_first_served(organisation, worker, clock: Clock) -> None:
    batch = waves_batch(organisation)
    clock.advance(hours=24)
    jobs.dispatch_draw_due_waves()  # every wave drawn, nobody applied: all 48 still open
    assert held(batch) == 0
    assert not DispatchWave.objects.filter(batch=batch, state=DispatchWave.State.PENDING).exists()
    slot = services.assignment_accept(worker=worker, batch=batch)
    assert slot.status == Assignment.Status.ACCEPTED
    with pytest.raises(AppError) as refused:
        services.wave_apply(worker=UserFactory(), batch=batch)
    assert refused.value.code == "not_in_waves"


def test_a_paused_batch_wave_waits_and_an_ended_batch_wave_gives_nothing(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    owner = organisation.staff.get().user
    apply_all(batch, UserFactory.create_batch(3))
    services.batch_pause(batch=batch, actor=owner)
    clock.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 0
    assert DispatchWave.objects.get(batch=batch, number=1).state == DispatchWave.State.PENDING
    services.batch_cancel(batch=batch, actor=owner)
    assert jobs.dispatch_draw_due_waves() == 0
    wave = DispatchWave.objects.get(batch=batch, number=1)
    assert wave.state == DispatchWave.State.DRAWN and wave.slots_given == 0


# --- Search and the feed -------------------------------------------------------------------------


def test_feed_search_and_tag_filters(organisation, worker) -> None:
    birds = published_batch(organisation, title="Count birds", keywords="birds, images")
    published_batch(organisation, title="Transcribe receipts", description="Type the totals.", keywords="text")
    feed = lambda **f: [b.pk for b in selectors.task_feed(worker=worker, **f)]  # noqa: E731
    assert feed(search="BIRDS") == [birds.pk]
    assert feed(search="count images") == [birds.pk]  # each word in title, description or tags
    assert feed(search="count totals") == []
    assert feed(tags=["Images"]) == [birds.pk]
    assert feed(tags=["images", "text"]) == []
    assert len(feed(requester=organisation.slug)) == 2


def test_a_saved_search_filters_the_feed_as_it_alerts(organisation, worker) -> None:
    birds = published_batch(organisation, title="Count birds")
    published_batch(organisation, title="Transcribe receipts")
    search = searches.saved_search_create(worker=worker, name="Birds", keywords="birds", requester=organisation.slug)
    found = selectors.task_feed(worker=worker, **searches.saved_search_filters(search))
    assert [b.pk for b in found] == [birds.pk]


def test_feed_api_search_and_dispatch_fields(organisation, worker) -> None:
    birds = published_batch(organisation, title="Count birds", keywords="birds")
    waving = waves_batch(organisation, title="Big labelling job")
    response = client_for(worker).get(reverse("api-feed"), {"search": "birds"})
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == birds.pk and item["tags"] == ["birds"] and item["dispatch"] == "all_at_once"
    response = client_for(worker).get(reverse("api-feed"), {"search": "labelling"})
    [item] = response.json()["results"]
    assert item["id"] == waving.pk and item["dispatch"] == "waves"


def test_apply_api_and_the_public_draw(organisation, worker, clock: Clock) -> None:
    batch = waves_batch(organisation)
    api = client_for(worker)
    response = api.post(reverse("api-apply", args=[batch.pk]))
    assert response.status_code == 201
    assert response.json()["wave"] == 1 and response.json()["outcome"] == "pending"
    again = api.post(reverse("api-apply", args=[batch.pk]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_applied"
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    public = client_for(UserFactory()).get(reverse("api-dispatch", args=[batch.pk])).json()
    wave = public["waves"][0]
    assert public["dispatch"] == "waves"
    assert wave["applicants"] == 1 and wave["slots_given"] == 1
    # Stratified by time zone: the stratum (UTC offset hour) is published; this worker set no zone.
    assert wave["pool"] == [[worker.pseudonym, 1_000_000, None]] and wave["drawn"] == [worker.pseudonym]
    assert len(wave["seed"]) == 32
    mine = api.get(reverse("api-draws")).json()
    assert [(d["batch_id"], d["wave"], d["outcome"]) for d in mine] == [(batch.pk, 1, "given")]
