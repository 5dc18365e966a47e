"""Fair dispatch, the reading side: the lottery itself (pure functions anyone can re-run),
the wave plan a batch was published with, and what workers and the public may see of it.

How a fresh batch opens (the governed "dispatch" rule class, recorded on the batch at
publish in ``Batch.dispatch_rules``):

- A batch of at most ``dispatch_all_at_once_max_slots`` slots may open all at once (first
  come, first served); the requester chooses, the feed says so. Larger batches open in waves.
- Waves: ``dispatch_waves`` waves spread over ``dispatch_period_hours``. Each wave starts
  with an application window of ``dispatch_window_minutes``; then a lottery gives up to the
  wave's cumulative share of the slots, less the slots already in workers' hands, so slots
  not given (too few applicants, returns, expiries) roll over to the next wave. After the
  period, what is left is first come, first served.
- Wave sizes: a wave's share follows the applicants to expect in its hour, measured
  (``tasks.activity``): how many workers who could take the batch were active in the UTC hour
  its window opens, over the 7 whole days before publication. Its weight is that figure,
  raised to the floor ``dispatch_wave_floor_bps`` of the average wave's figure (so no wave is
  empty); with nothing measured (a new platform) every weight is 1: equal waves. Wave ``k``'s
  cumulative share is ``slots * (weights of waves 1..k) // (all weights)``. The figures and
  weights are stored on the batch and its waves, so anyone can re-derive the sizes
  (``plan_rerun``). Equal waves over-serve the workers of quiet hours and under-serve those
  of busy ones; sized by activity, a worker's chance per wave is the same at every hour.
- The lottery: each applicant's weight is ``WEIGHT_SCALE * reference // (reference +
  earned)``, where ``earned`` is what the worker was paid in the lookback. ``draw_order``
  draws without replacement: step ``i`` takes ``int(sha256(f"{seed}:{i}"), 16)`` modulo
  the remaining weight and walks the remaining pool (in worker id order) to the applicant
  whose weight covers it. The seed, the pool and the drawn order are stored on the wave.
  With ``dispatch_stratify_by_zone`` on (its founding value) the draw is stratified by time
  zone: the wave's slots are first shared among the applicants' UTC offset hours in
  proportion to their weights, then drawn within each (``tasks.lottery``, formula 2); each
  pool entry then stores its stratum, which the re-run needs.
- Caps: until ``dispatch_cap_hours`` after publication no worker holds more than
  ``dispatch_cap_bps`` of the batch's slots (at least one).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.labels import rule_name
from core.rule_text import rule_value_text
from core.rules import rule_value
from governance.models import Rule
from tasks.activity import utc_hour
from tasks.lottery import STRATIFIED, stratified_rerun
from tasks.lottery import WEIGHT_SCALE as WEIGHT_SCALE
from tasks.lottery import draw_iter as draw_iter
from tasks.lottery import draw_order as draw_order
from tasks.lottery import lottery_weight as lottery_weight
from tasks.models import Assignment, Batch, DispatchWave, WaveApplication

DISPATCH_RULES = (
    "dispatch_period_hours",
    "dispatch_waves",
    "dispatch_window_minutes",
    "dispatch_weight_reference",
    "dispatch_lookback_days",
    "dispatch_cap_bps",
    "dispatch_cap_hours",
    "dispatch_all_at_once_max_slots",
    "dispatch_wave_floor_bps",
    "dispatch_stratify_by_zone",
)

DRAW_FORMULA = gettext_lazy(
    "weight = 1,000,000 x reference / (reference + earned in the lookback), rounded down, at least 1. "
    "Draw step i (from 0): r = SHA-256 of '<seed>:<i>' read as a number, modulo the remaining total weight; "
    "walk the remaining applicants in worker order, subtracting weights, and take the one where r falls. "
    "Repeat without that applicant until the wave's slots are given or nobody is left."
)

STRATIFIED_FORMULA = gettext_lazy(
    "Stratified by time zone (formula 2): an applicant's stratum is their UTC offset in whole hours (rounded "
    "down) at the wave's opening, from their settings' time zone; 'none' for a worker with none, and it is "
    "stored with the pool for the re-run. A stratum's share = slots x its applicants' total weight x 1,000,000 "
    "/ the pool's total weight, rounded down (millionths of a slot), plus what it carried from the batch's "
    "previous wave; slots go one at a time to the stratum still owed the most, ties to the larger SHA-256 of "
    "'<seed>:tie:<stratum>', never more than its applicants; it carries out what it was owed less its quota, "
    "within one slot either way. Each stratum (ascending, 'none' first) draws its quota by the lottery above "
    "with seed '<seed>:zone:<stratum>', skipping the ineligible; then everyone not yet drawn is drawn with seed "
    "'<seed>:rest' until the wave's slots are given."
)

PLAN_FORMULA = gettext_lazy(
    "A wave's figure = the workers who could take the batch and looked for work in the UTC hour its window "
    "opens, summed over the days measured. Floor = the wave floor x the average of the waves' figures, "
    "rounded up. A wave's weight = the larger of its figure and the floor (every weight 1 when nothing was "
    "measured). Slots in workers' hands by the end of wave k = slots x (weights of waves 1 to k) ÷ (all "
    "weights), rounded down; each draw gives that, less the slots already in workers' hands."
)


def wave_rerun(*, wave: DispatchWave) -> bool:
    """Re-runs the stored draw of ``wave`` from its record: True when it gives the same
    order as stored. Formula 1 (``tasks.lottery.LOTTERY``, every wave drawn before the
    stratified draw): the seed and the pool of (worker, weight). Formula 2 (``STRATIFIED``):
    the seed, the pool of (worker, weight, stratum), the slots offered and the strata's
    record (carries, quotas, phases), the quotas and carries being re-derived too. Anyone may
    call it (the API publishes the same values)."""
    stored = [int(worker) for worker in wave.drawn]
    if wave.draw_formula == STRATIFIED:
        pool = [(int(e[0]), int(e[1]), None if e[2] is None else int(e[2])) for e in wave.pool]
        order = stratified_rerun(seed=wave.seed, pool=pool, count=wave.slots_offered, record=wave.strata)
        return order is not None and order == stored
    pairs = [(int(entry[0]), int(entry[1])) for entry in wave.pool]
    return draw_order(seed=wave.seed, pool=pairs, count=len(stored)) == stored


# --- The plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WavePlan:
    number: int
    opens_at: datetime
    draws_at: datetime


def wave_plan(*, published_at: datetime, rules: dict[str, int]) -> list[WavePlan]:
    """The waves' times for a batch published at ``published_at`` under ``rules``: evenly
    spaced; a window longer than the spacing is cut to it (their sizes: ``wave_weights``)."""
    count = rules["dispatch_waves"]
    spacing = timedelta(hours=rules["dispatch_period_hours"]) / count
    window = min(timedelta(minutes=rules["dispatch_window_minutes"]), spacing)
    return [
        WavePlan(number=k + 1, opens_at=published_at + spacing * k, draws_at=published_at + spacing * k + window)
        for k in range(count)
    ]


@dataclass(frozen=True)
class WaveWeights:
    weights: list[int]
    floor: int  # the floor weight applied (0 when nothing was measured)
    equal: bool  # nothing measured: equal waves


def wave_weights(*, figures: list[int], floor_bps: int) -> WaveWeights:
    """Each wave's weight from its measured figure (``PLAN_FORMULA``): the figure, raised to
    ``floor_bps`` of the average figure (rounded up); every weight 1 when all are 0."""
    total = sum(figures)
    if total <= 0:
        return WaveWeights(weights=[1] * len(figures), floor=0, equal=True)
    floor = -(-floor_bps * total // (10_000 * len(figures)))
    return WaveWeights(weights=[max(figure, floor) for figure in figures], floor=floor, equal=False)


def cumulative_bps(weights: list[int]) -> list[int]:
    """Each wave's cumulative share in basis points (for display; 10,000 at the last)."""
    total = sum(weights)
    running = 0
    shares = []
    for weight in weights:
        running += weight
        shares.append(running * 10_000 // total if total else 10_000)
    return shares


def planned_in_hands(*, total: int, weight_so_far: int, weight_total: int) -> int:
    """Slots planned in workers' hands by the end of the wave whose cumulative weight is
    ``weight_so_far`` (``total`` at the last wave)."""
    if weight_total <= 0 or weight_so_far >= weight_total:
        return total
    return total * weight_so_far // weight_total


def slots_to_give(*, total: int, open_now: int, weight_so_far: int, weight_total: int) -> int:
    """How many slots a wave gives: the slots planned in hands by its end, less the slots
    already in workers' hands, so what earlier waves did not give (and returns) rolls over."""
    in_hands = total - open_now
    planned = planned_in_hands(total=total, weight_so_far=weight_so_far, weight_total=weight_total)
    return max(0, min(open_now, planned - in_hands))


def planned_slots(*, total: int, weights: list[int]) -> list[int]:
    """Each wave's own planned slots (before any rollover), from ``total`` and the weights."""
    weight_total = sum(weights)
    sizes = []
    before = 0
    running = 0
    for weight in weights:
        running += weight
        upto = planned_in_hands(total=total, weight_so_far=running, weight_total=weight_total)
        sizes.append(upto - before)
        before = upto
    return sizes


def plan_rerun(*, batch: Batch) -> bool:
    """Re-derives a batch's wave weights from the figures and floor rule stored with it:
    True when they give the stored weights and cumulative shares (anyone may check; the
    API publishes the same values)."""
    waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
    if not waves or not batch.dispatch_activity:
        return False
    hours = [int(h) for h in batch.dispatch_activity["hours"]]
    figures = [int(wave.activity) for wave in waves]
    if figures != [hours[wave_hour(wave)] for wave in waves]:
        return False
    floor_bps = int(batch.dispatch_rules["dispatch_wave_floor_bps"]["value"])
    derived = wave_weights(figures=figures, floor_bps=floor_bps)
    return (
        derived.weights == [int(wave.weight) for wave in waves]
        and derived.floor == int(batch.dispatch_activity["floor"])
        and derived.equal == bool(batch.dispatch_activity["equal"])
        and cumulative_bps(derived.weights) == [wave.cumulative_bps for wave in waves]
    )


def wave_hour(wave: DispatchWave | WavePlan) -> int:
    """The UTC hour of the day whose activity sizes ``wave``: the hour its window opens in."""
    return utc_hour(wave.opens_at)


def cap_slots(*, total: int, cap_bps: int) -> int:
    return max(1, total * cap_bps // 10_000)


# What a worker was paid lately (never play money: sandbox work is no earning), and the slots
# of one batch they hold, over their assignments in one statement. Plain SQL: the same read
# through the ORM (two filtered sums and a count over a join) cost more to build and compile
# than to run, on every application.
_FIGURES_SQL = """
SELECT COUNT(*) FILTER (WHERE a.batch_id = %s),
       SUM(b.reward) FILTER (WHERE a.status = %s AND a.approved_at >= %s AND NOT b.is_sandbox),
       SUM(b.reward * a.settled_share_bps / 10000) FILTER (
           WHERE a.status = %s AND a.finalised_at >= %s AND NOT b.is_sandbox
       )
  FROM {assignment} a JOIN {batch} b ON b.id = a.batch_id
 WHERE a.worker_id = %s
"""


def _figures(*, worker_id: int, batch_id: int, since: datetime) -> tuple[int, int]:
    sql = _FIGURES_SQL.format(assignment=Assignment._meta.db_table, batch=Batch._meta.db_table)
    moment = connection.ops.adapt_datetimefield_value(since)
    params: list[Any] = [batch_id, Assignment.Status.APPROVED, moment, Assignment.Status.SETTLED, moment, worker_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        held, approved, settled = cursor.fetchone()
    return int(held or 0), int(approved or 0) + int(settled or 0)


def recent_earnings(*, worker_id: int, days: int, at: datetime | None = None) -> int:
    """What the worker was paid for work in the ``days`` before ``at`` (minor units):
    approved rewards, and the paid share of dispute settlements (each rounded down). Sandbox
    work paid play money, which is no earning (issue 24.6)."""
    since = (at or timezone.now()) - timedelta(days=days)
    return _figures(worker_id=worker_id, batch_id=0, since=since)[1]


def applicant_figures(*, worker_id: int, batch_id: int, days: int, at: datetime) -> tuple[int, int]:
    """(the slots of ``batch_id`` the worker holds, ``recent_earnings``) in one query: what an
    application to a wave needs to check the cap and weigh the worker."""
    return _figures(worker_id=worker_id, batch_id=batch_id, since=at - timedelta(days=days))


def dispatch_rule_values(*, at: datetime | None = None) -> dict[str, int]:
    return {key: rule_value(key, at=at) for key in DISPATCH_RULES}


# --- What people see ------------------------------------------------------------------------------


def in_waves(batch: Batch, *, at: datetime | None = None) -> bool:
    """Whether ``batch``'s slots are still given only by wave lotteries."""
    return batch.dispatch_fcfs_at is not None and (at or timezone.now()) < batch.dispatch_fcfs_at


@dataclass(frozen=True)
class FeedDispatch:
    """A feed card's dispatch line."""

    in_waves: bool
    all_at_once: bool
    window_open: bool
    next_window_at: datetime | None
    window_closes_at: datetime | None
    applied: bool
    fcfs_at: datetime | None


def _current_and_next(batch: Batch, now: datetime) -> tuple[WavePlan | None, WavePlan | None]:
    rules = {key: int(value["value"]) for key, value in batch.dispatch_rules.items()}
    if batch.published_at is None or not rules:
        return None, None
    current = None
    for wave in wave_plan(published_at=batch.published_at, rules=rules):
        if wave.opens_at <= now < wave.draws_at:
            current = wave
        elif wave.opens_at > now:
            return current, wave
    return current, None


def feed_dispatch(*, worker: User, batches: list[Batch], at: datetime | None = None) -> dict[int, FeedDispatch]:
    """Each batch's dispatch line for ``worker``'s feed: waves or all at once, the window
    open now or the next one, and whether the worker applied to the current wave. One
    query (the worker's applications to those batches' waves), none without waves."""
    now = at or timezone.now()
    waving = [b for b in batches if in_waves(b, at=now)]
    applied: set[tuple[int, int]] = set()
    if waving:
        applied = set(
            WaveApplication.objects.filter(
                worker_id=worker.pk, wave__batch_id__in=[b.pk for b in waving], wave__draws_at__gt=now
            ).values_list("wave__batch_id", "wave__number")
        )
    lines: dict[int, FeedDispatch] = {}
    for batch in batches:
        if not in_waves(batch, at=now):
            lines[batch.pk] = FeedDispatch(
                in_waves=False,
                all_at_once=batch.dispatch_fcfs_at is None and batch.dispatch_mode != "",
                window_open=False,
                next_window_at=None,
                window_closes_at=None,
                applied=False,
                fcfs_at=batch.dispatch_fcfs_at,
            )
            continue
        current, upcoming = _current_and_next(batch, now)
        lines[batch.pk] = FeedDispatch(
            in_waves=True,
            all_at_once=False,
            window_open=current is not None,
            next_window_at=upcoming.opens_at if upcoming else None,
            window_closes_at=current.draws_at if current else None,
            applied=current is not None and (batch.pk, current.number) in applied,
            fcfs_at=batch.dispatch_fcfs_at,
        )
    return lines


def batch_dispatch_public(*, batch: Batch) -> dict[str, Any]:
    """What anyone may see of a batch's dispatch: the rule in force at its publication
    (values and version ids), and per drawn wave its seed, applicants and slots given."""
    waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
    described = {rule.key: rule for rule in Rule.objects.filter(key__in=list(batch.dispatch_rules))}
    rule_rows = [
        {
            "key": key,
            "name": rule_name(described[key]) if key in described else key,
            "unit": described[key].unit if key in described else "",
            "value": int(version["value"]),
            "shown": rule_value_text(described[key], int(version["value"])) if key in described else version["value"],
            "version_id": int(version["version_id"]),
        }
        for key, version in batch.dispatch_rules.items()
    ]
    floor_shown = next((row["shown"] for row in rule_rows if row["key"] == "dispatch_wave_floor_bps"), "")
    return {
        "rule_rows": rule_rows,
        "floor_shown": floor_shown,
        "in_waves": in_waves(batch),
        "all_at_once": batch.dispatch_fcfs_at is None,
        "fcfs_at": batch.dispatch_fcfs_at,
        "cap_slots": batch.dispatch_cap_slots,
        "cap_until": batch.dispatch_cap_until,
        "rules": batch.dispatch_rules,
        "formula": DRAW_FORMULA,
        "stratified": bool(int(batch.dispatch_rules.get("dispatch_stratify_by_zone", {}).get("value", 0))),
        "stratified_formula": STRATIFIED_FORMULA,
        "plan_formula": PLAN_FORMULA,
        "waves": waves,
        "plan": wave_sizes(batch=batch, waves=waves),
    }


@dataclass(frozen=True)
class WaveSize:
    """Why a wave has its size, as the batch's page shows it."""

    wave: DispatchWave
    hour_utc: int
    figure: int  # eligible workers active in that hour, summed over the days measured
    per_day: Decimal  # the same, on average a day
    weight: int
    raised: bool  # the floor raised the weight above the figure
    share_bps: int  # the wave's own share of the slots (before rollover)
    planned: int  # the wave's own planned slots (before rollover)


@dataclass(frozen=True)
class PlanShown:
    measured: bool  # sized by measured activity (else equal waves: nothing measured, or planned before)
    first_day: date | None
    last_day: date | None
    days: int
    floor: int
    floor_bps: int | None
    slots: int
    rows: list[WaveSize]


def wave_sizes(*, batch: Batch, waves: list[DispatchWave]) -> PlanShown | None:
    """The plan's figures for ``batch`` (one count of its slots): per wave its hour, the
    activity measured then, its weight and the slots that gives it; None when the batch
    opened all at once."""
    if not waves:
        return None
    stored = batch.dispatch_activity or {}
    days = int(stored.get("days") or 0)
    slots = Assignment.objects.filter(batch_id=batch.pk).exclude(status=Assignment.Status.WITHDRAWN).count()
    weights = [int(wave.weight) for wave in waves]
    weight_total = sum(weights)
    sizes = planned_slots(total=slots, weights=weights)
    floor_rule = batch.dispatch_rules.get("dispatch_wave_floor_bps")
    rows = [
        WaveSize(
            wave=wave,
            hour_utc=wave_hour(wave),
            figure=int(wave.activity),
            per_day=(Decimal(int(wave.activity)) / days).quantize(Decimal("0.1")) if days else Decimal(0),
            weight=int(wave.weight),
            raised=bool(stored) and not stored.get("equal") and int(wave.weight) > int(wave.activity),
            share_bps=int(wave.weight) * 10_000 // weight_total if weight_total else 0,
            planned=size,
        )
        for wave, size in zip(waves, sizes, strict=True)
    ]
    return PlanShown(
        measured=bool(stored) and not stored.get("equal"),
        first_day=date.fromisoformat(stored["first_day"]) if stored.get("first_day") else None,
        last_day=date.fromisoformat(stored["last_day"]) if stored.get("last_day") else None,
        days=days,
        floor=int(stored.get("floor") or 0),
        floor_bps=int(floor_rule["value"]) if floor_rule else None,
        slots=slots,
        rows=rows,
    )


def worker_draws(*, worker: User, batch: Batch | None = None) -> list[WaveApplication]:
    """The worker's own applications and their outcomes, newest first."""
    rows = WaveApplication.objects.filter(worker=worker).select_related("wave", "wave__batch")
    if batch is not None:
        rows = rows.filter(wave__batch=batch)
    return list(rows.order_by("-applied_at", "-id")[:200])


def current_wave(*, batch: Batch, at: datetime | None = None) -> DispatchWave | None:
    now = at or timezone.now()
    return DispatchWave.objects.filter(batch=batch, opens_at__lte=now, draws_at__gt=now).order_by("number").first()


def next_wave(*, batch: Batch, at: datetime | None = None) -> DispatchWave | None:
    now = at or timezone.now()
    return DispatchWave.objects.filter(batch=batch, opens_at__gt=now).order_by("number").first()


def due_waves(*, at: datetime | None = None) -> list[tuple[int, datetime]]:
    """(wave id, draws_at) of the waves whose window has closed and that are not drawn yet."""
    now = at or timezone.now()
    return list(
        DispatchWave.objects.filter(state=DispatchWave.State.PENDING, draws_at__lte=now)
        .filter(~Q(batch__status=Batch.Status.PAUSED))
        .order_by("draws_at", "id")
        .values_list("id", "draws_at")[:1000]
    )
