"""Fair dispatch, the draw stratified by time zone (issue 26): strata from the workers' time
zones, the apportionment by largest remainder (exact, ties from the seed, remainders carried
from wave to wave, capped by the applicants), weights within a stratum, the fill by the rest,
the re-run of old and new stored draws, the governed switch and what the pages show."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import User
from core.errors import AppError
from governance import services as governance_services
from governance.models import Proposal, Rule, RuleVersion
from notifications.models import NotificationSettings
from tasks import dispatch, jobs, lottery, services
from tasks.models import Assignment, Batch, DispatchWave, WaveApplication
from tests.factories import MemberFactory, UserFactory
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db

TEMPLATE = '<p>${text}</p><input name="label" required>'
SCALE = lottery.SHARE_SCALE


def rows(count: int) -> str:
    return "text\n" + "\n".join(f"sentence {i}" for i in range(count)) + "\n"


def waves_batch(organisation, *, slots: int = 48) -> Batch:  # type: ignore[no-untyped-def]
    """24 waves over 24 hours: two slots a wave for 48; the cap is one slot a worker."""
    return published_batch(
        organisation, rows=rows(slots), template_html=TEMPLATE, assignments_per_task=1, dispatch_mode="waves"
    )


def in_zone(workers: list[User], time_zone: str) -> list[User]:
    for worker in workers:
        NotificationSettings.objects.update_or_create(user=worker, defaults={"time_zone": time_zone})
    return workers


def quotas(apportionment: lottery.Apportionment) -> dict[int | None, int]:
    return {q.stratum: q.quota for q in apportionment.quotas}


# --- Strata -----------------------------------------------------------------------------------------


def test_a_stratum_is_the_utc_offset_in_whole_hours_at_the_waves_time() -> None:
    winter, summer = datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC)
    assert lottery.zone_stratum(time_zone="Europe/Berlin", at=winter) == 1
    assert lottery.zone_stratum(time_zone="Europe/Berlin", at=summer) == 2
    assert lottery.zone_stratum(time_zone="America/Sao_Paulo", at=winter) == -3
    assert lottery.zone_stratum(time_zone="Asia/Kolkata", at=winter) == 5  # +5:30, rounded down
    assert lottery.zone_stratum(time_zone="America/St_Johns", at=winter) == -4  # -3:30, rounded down
    assert lottery.zone_stratum(time_zone="UTC", at=winter) == 0
    assert lottery.zone_stratum(time_zone="", at=winter) is None
    assert lottery.zone_stratum(time_zone="Mars/Olympus", at=winter) is None


# --- The apportionment ------------------------------------------------------------------------------


def test_slots_are_shared_by_largest_remainder_over_the_strata_weights() -> None:
    # Strata of weights 45 : 35 : 20 share 7 slots: 3.15, 2.45 and 1.40; whole slots 3, 2
    # and 1, and the one left goes to the largest remainder (0.45).
    pool = [(i, 45, 1) for i in range(1, 9)] + [(i, 35, 2) for i in range(11, 19)] + [(i, 20, 3) for i in range(21, 29)]
    shared = lottery.stratum_quotas(seed="s", count=7, pool=pool)
    assert quotas(shared) == {1: 3, 2: 3, 3: 1}
    assert [q.owed for q in shared.quotas] == [3_150_000, 2_450_000, 1_400_000]
    # Each carries out what it was owed less its quota.
    assert shared.carry_out == {"1": 150_000, "2": -550_000, "3": 400_000}
    # The strata come in drawing order, no zone first; the seed plays no part without a tie.
    shared = lottery.stratum_quotas(seed="other", count=7, pool=[*pool, (40, 1, None)])
    assert [q.stratum for q in shared.quotas] == [None, 1, 2, 3]
    assert sum(quotas(shared).values()) == 7


def test_a_quota_never_exceeds_the_strata_applicants() -> None:
    # 5 slots over weights 45 : 35 : 20 are 2.25, 1.75 and 1.00; stratum 2 has one applicant
    # and stratum 1 two, so what they cannot take goes to the stratum still owed the most.
    pool = [(1, 20, 1), (2, 25, 1), (3, 35, 2), (4, 5, 3), (5, 5, 3), (6, 10, 3)]
    assert quotas(lottery.stratum_quotas(seed="s", count=5, pool=pool)) == {1: 2, 2: 1, 3: 2}
    # More slots than applicants: everyone, and no more.
    assert quotas(lottery.stratum_quotas(seed="s", count=50, pool=pool)) == {1: 2, 2: 1, 3: 3}


def test_shares_follow_the_lottery_weights_not_the_head_count() -> None:
    # Two strata of 4 applicants; one's applicants earned less lately (twice the weight).
    pool = [(i, 2_000, 1) for i in range(4)] + [(i, 1_000, 2) for i in range(10, 14)]
    assert quotas(lottery.stratum_quotas(seed="s", count=6, pool=pool)) == {1: 4, 2: 2}


def test_ties_are_broken_by_the_seed_and_the_same_seed_breaks_them_the_same_way() -> None:
    pool = [(1, 1, 5), (2, 1, -3)]  # one slot, two equal strata: a remainder of a half each
    winners = Counter()
    for seed in range(40):
        first = lottery.stratum_quotas(seed=str(seed), count=1, pool=pool)
        assert quotas(first) == quotas(lottery.stratum_quotas(seed=str(seed), count=1, pool=list(reversed(pool))))
        winners[next(q.stratum for q in first.quotas if q.quota)] += 1
    assert set(winners) == {5, -3}


def test_a_small_stratum_gets_its_share_over_the_waves_through_the_carried_remainders() -> None:
    # One slot a wave; a stratum of weight 4 against one of 6 is owed 0.4 a wave. Without the
    # carry it would lose the rounding every time; with it, it gets 2 of 5.
    pool = [(1, 4, 0), (2, 6, 7)]
    carry: dict[str, int] = {}
    got: Counter[int | None] = Counter()
    for wave in range(5):
        shared = lottery.stratum_quotas(seed=f"w{wave}", count=1, pool=pool, carry_in=carry)
        got.update({s: n for s, n in quotas(shared).items() if n})
        carry = shared.carry_out
        assert all(-SCALE <= value <= SCALE for value in carry.values())
    assert got == Counter({7: 3, 0: 2})
    # A stratum with no applicant in a wave keeps its carry.
    kept = lottery.stratum_quotas(seed="x", count=1, pool=[(2, 6, 7)], carry_in={"0": 300_000, "7": 0})
    assert kept.carry_out["0"] == 300_000 and quotas(kept) == {7: 1}


# --- The draw ---------------------------------------------------------------------------------------


def test_weights_still_apply_within_a_stratum() -> None:
    pool = [(1, 2_000, 3), (2, 1_000, 3), (3, 1_000, None)]
    firsts = Counter()
    for seed in range(3000):
        # One slot for stratum 3 (weight 3,000 of 4,000: 0.75, the larger remainder).
        result = lottery.stratified_draw(seed=f"s{seed}", pool=pool, count=1, carry_in={}, give=lambda _w: True)
        assert result.phases[0] == ("3", 1)
        firsts[result.drawn[0]] += 1
    assert 0.63 < firsts[1] / 3000 < 0.70  # two times in three, as its weight says


def test_a_stratum_that_cannot_fill_its_quota_leaves_the_rest_to_the_ordinary_draw() -> None:
    pool = [(1, 10, 2), (2, 10, 2), (3, 10, 2), (4, 10, None), (5, 10, None), (6, 10, None)]
    # 4 slots: 2 each; every applicant of stratum 2 is skipped, so its slots go to the rest.
    result = lottery.stratified_draw(seed="abc", pool=pool, count=4, carry_in={}, give=lambda worker: worker > 3)
    assert [q.quota for q in result.apportionment.quotas] == [2, 2]
    assert result.phases == [("none", 2), ("2", 3), ("rest", 1)]
    assert sorted(result.drawn) == [1, 2, 3, 4, 5, 6]
    given = [w for w in result.drawn if w > 3]
    assert len(given) == 3  # only three could take a slot
    # The re-run from the record gives the same order.
    record = lottery.stratified_record(result, carry_in={})
    assert lottery.stratified_rerun(seed="abc", pool=pool, count=4, record=record) == result.drawn
    # A record whose quotas were changed does not re-run.
    record["quotas"] = [["none", 3], ["2", 1]]
    assert lottery.stratified_rerun(seed="abc", pool=pool, count=4, record=record) is None


def test_a_stratified_wave_draw_is_stored_whole_and_re_runs(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    assert batch.dispatch_rules["dispatch_stratify_by_zone"]["value"] == 1
    berlin = in_zone(UserFactory.create_batch(3), "Europe/Berlin")
    lima = in_zone(UserFactory.create_batch(3), "America/Lima")
    nowhere = UserFactory.create_batch(2)
    for worker in berlin + lima + nowhere:
        services.wave_apply(worker=worker, batch=batch)
    clock.advance(minutes=10)
    assert jobs.dispatch_draw_due_waves() == 2
    wave = DispatchWave.objects.get(batch=batch, number=1)
    assert wave.draw_formula == lottery.STRATIFIED
    berlin_hour = lottery.zone_stratum(time_zone="Europe/Berlin", at=wave.opens_at)
    strata = {entry[0]: entry[2] for entry in wave.pool}
    assert strata == {
        **{w.pk: berlin_hour for w in berlin},
        **{w.pk: -5 for w in lima},
        **{w.pk: None for w in nowhere},
    }
    assert [entry[0] for entry in wave.pool] == sorted(strata)  # worker order, as before
    # Two slots over weights 2 : 3 : 3 (none, Berlin, Lima) are 0.5, 0.75 and 0.75 slots: the
    # two largest remainders take one each.
    assert sorted(quota for _key, quota in wave.strata["quotas"]) == [0, 1, 1]
    given = WaveApplication.objects.filter(wave=wave, outcome=WaveApplication.Outcome.GIVEN)
    zones = {strata[a.worker_id] for a in given}
    assert zones == {berlin_hour, -5} and given.count() == wave.slots_given == 2
    assert dispatch.wave_rerun(wave=wave)
    # The next wave starts from what this one carried out.
    clock.advance(minutes=50)
    late = in_zone(UserFactory.create_batch(2), "Asia/Tokyo")
    for worker in late:
        services.wave_apply(worker=worker, batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    second = DispatchWave.objects.get(batch=batch, number=2)
    assert second.strata["carry_in"] == wave.strata["carry_out"]
    assert dispatch.wave_rerun(wave=second)
    # A tampered record does not re-run: the pool's strata, the order or the carries.
    for field, value in (
        ("pool", [[w, weight, 3] for w, weight, _zone in wave.pool]),
        ("drawn", list(reversed(wave.drawn))),
        ("strata", {**wave.strata, "carry_in": [["none", 900_000]]}),
    ):
        tampered = DispatchWave.objects.get(pk=wave.pk)
        setattr(tampered, field, value)
        assert not dispatch.wave_rerun(wave=tampered), field


def test_old_draws_and_draws_with_the_rule_off_keep_the_lottery_formula(organisation, clock: Clock) -> None:
    # A batch published before the rule existed recorded no value for it: the old formula.
    batch = waves_batch(organisation)
    rules = dict(batch.dispatch_rules)
    del rules["dispatch_stratify_by_zone"]
    Batch.objects.filter(pk=batch.pk).update(dispatch_rules=rules)
    workers = in_zone(UserFactory.create_batch(4), "Europe/Paris")
    for worker in workers:
        services.wave_apply(worker=worker, batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    wave = DispatchWave.objects.get(batch=batch, number=1)
    assert wave.draw_formula == lottery.LOTTERY and wave.strata == {}
    assert all(len(entry) == 2 for entry in wave.pool)
    assert wave.drawn == dispatch.draw_order(seed=wave.seed, pool=[tuple(e) for e in wave.pool], count=2)
    assert dispatch.wave_rerun(wave=wave)
    # A wave stored before the field existed (formula 1 by default) re-runs the same way.
    DispatchWave.objects.filter(pk=wave.pk).update(draw_formula=1)
    assert dispatch.wave_rerun(wave=DispatchWave.objects.get(pk=wave.pk))


def test_the_co_op_can_turn_the_stratified_draw_off(organisation, clock: Clock) -> None:
    rule = Rule.objects.get(key="dispatch_stratify_by_zone")
    assert (rule.min_value, rule.max_value, rule.value_type, rule.rule_class.key) == (0, 1, "boolean", "dispatch")
    RuleVersion.objects.create(rule=rule, value=0, effective_at=clock.now - timedelta(seconds=1))
    from core.rules import rule_cache_invalidate

    rule_cache_invalidate("dispatch_stratify_by_zone")
    batch = waves_batch(organisation)
    assert batch.dispatch_rules["dispatch_stratify_by_zone"]["value"] == 0
    for worker in UserFactory.create_batch(3):
        services.wave_apply(worker=worker, batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    wave = DispatchWave.objects.get(batch=batch, number=1)
    assert wave.draw_formula == lottery.LOTTERY and dispatch.wave_rerun(wave=wave)


def test_a_value_outside_the_switch_is_refused_at_proposal() -> None:
    member = MemberFactory()
    with pytest.raises(AppError) as refused:
        governance_services.proposal_create(
            author=member, kind=Proposal.Kind.RULE_CHANGE, title="Zones", body="b",
            rule_key="dispatch_stratify_by_zone", proposed_value=2,
        )  # fmt: skip
    assert refused.value.code == "value_out_of_limits"
    assert not Proposal.objects.exists()


def test_the_cap_still_holds_in_a_stratified_draw(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    first, second = in_zone(UserFactory.create_batch(2), "Asia/Manila")
    services.wave_apply(worker=first, batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    clock.advance(minutes=50)
    services.wave_apply(worker=second, batch=batch)
    wave = DispatchWave.objects.get(batch=batch, number=2)
    WaveApplication.objects.create(wave=wave, worker=first, applied_at=clock.now, weight=10**6)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    wave.refresh_from_db()
    assert wave.draw_formula == lottery.STRATIFIED
    assert Assignment.objects.filter(batch=batch, worker=first).count() == 1  # the cap: one slot
    assert WaveApplication.objects.get(wave=wave, worker=first).outcome == WaveApplication.Outcome.SKIPPED
    assert WaveApplication.objects.get(wave=wave, worker=second).outcome == WaveApplication.Outcome.GIVEN
    assert dispatch.wave_rerun(wave=wave)


def test_the_batch_page_and_the_api_show_the_rule_and_the_stored_strata(organisation, clock: Clock) -> None:
    batch = waves_batch(organisation)
    workers = in_zone(UserFactory.create_batch(3), "Africa/Lagos")
    for worker in workers:
        services.wave_apply(worker=worker, batch=batch)
    clock.advance(minutes=10)
    jobs.dispatch_draw_due_waves()
    viewer = UserFactory()
    page = client_for(viewer)
    page.force_login(viewer)
    html = page.get(reverse("worker_batch", args=[batch.pk])).content.decode()
    assert "<dt>Draw by time zone</dt><dd>yes" in html
    assert 'id="stratified"' in html and "UTC offset" in html
    public = client_for(viewer).get(reverse("api-dispatch", args=[batch.pk])).json()
    first = public["waves"][0]
    assert first["draw_formula"] == 2
    assert sorted(first["pool"]) == sorted([w.pseudonym, dispatch.WEIGHT_SCALE, 1] for w in workers)
    assert first["strata"]["quotas"] == [["1", 2]]
    assert "zone" in public["stratified_formula"]
    # The published formulas read in the reader's language too (the symbols stay as they are).
    spanish = page.get(reverse("worker_batch", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Paso i del sorteo (desde 0): r = SHA-256 de &#x27;&lt;seed&gt;:&lt;i&gt;&#x27;" in spanish
    assert "Estratificado por zona horaria (fórmula 2)" in spanish
    assert "Draw step i" not in spanish


# --- Properties of the apportionment ----------------------------------------------------------------

_strata = st.one_of(st.none(), st.integers(min_value=-12, max_value=14))
_wave = st.tuples(
    st.integers(min_value=0, max_value=30),  # slots offered
    st.lists(st.tuples(st.integers(min_value=1, max_value=10**6), _strata), min_size=0, max_size=40),
)


# No deadline: a dozen waves of 40 applicants each take longer than 200 ms on a loaded host.
@settings(deadline=None, max_examples=100)
@given(waves=st.lists(_wave, min_size=1, max_size=12), seed=st.text(max_size=8))
def test_every_wave_shares_exactly_what_it_can_and_the_carries_stay_within_a_slot(
    waves: list[tuple[int, list[tuple[int, int | None]]]], seed: str
) -> None:
    carry: dict[str, int] = {}
    for count, entries in waves:
        pool = [(worker, weight, stratum) for worker, (weight, stratum) in enumerate(entries)]
        shared = lottery.stratum_quotas(seed=seed, count=count, pool=pool, carry_in=carry)
        assert shared == lottery.stratum_quotas(seed=seed, count=count, pool=list(reversed(pool)), carry_in=carry)
        assert sum(q.quota for q in shared.quotas) == min(count, len(pool))
        assert all(0 <= q.quota <= q.applicants for q in shared.quotas)
        assert all(-SCALE <= value <= SCALE for value in shared.carry_out.values())
        # The draw gives each stratum its quota when nobody is skipped, and the record re-runs.
        result = lottery.stratified_draw(seed=seed, pool=pool, count=count, carry_in=carry, give=lambda _w: True)
        assert len(result.drawn) == len(set(result.drawn)) == min(count, len(pool))
        record = lottery.stratified_record(result, carry_in=carry)
        assert lottery.stratified_rerun(seed=seed, pool=pool, count=count, record=record) == result.drawn
        carry = shared.carry_out
