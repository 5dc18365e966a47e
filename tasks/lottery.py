"""Fair dispatch's lottery, pure functions anyone can re-run from a wave's stored record
(``tasks.dispatch.wave_rerun`` does it for the platform; the API publishes the same values).

Two formulas, recorded on each drawn wave (``DispatchWave.draw_formula``):

1. **The weighted lottery** (``LOTTERY``, every wave drawn before the stratified draw, and
   any wave drawn while the governed ``dispatch_stratify_by_zone`` is off): ``draw_iter``
   over the whole pool with the wave's seed.
2. **Stratified by time zone** (``STRATIFIED``): the wave's slots are first shared among
   its applicants' time zones (strata: each applicant's UTC offset in whole hours at the
   wave's opening, from their settings; ``None`` for a worker with no zone set), in
   proportion to each stratum's total lottery weight, by largest remainder
   (``stratum_quotas``); then each stratum's quota is drawn within it by the same weighted
   lottery (seed ``<seed>:zone:<stratum>``), strata in ascending order, ``None`` first;
   slots a stratum cannot fill (too few applicants, or those drawn were skipped) go to
   everyone not yet drawn by the same lottery (seed ``<seed>:rest``).

Why shares by weight and not by head count: the lottery's weights favour workers who earned
less lately, across the whole pool. Sharing by weight gives each stratum what the
unstratified lottery gives it on average, so each applicant's chance stays what it was and
only the luck of the draw between time zones goes; sharing by head count would undo the
weighting between zones (a low earner among low earners would get less than among high
earners), and would make the zone a worker declares matter.
"""

import hashlib
import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEIGHT_SCALE = 1_000_000

LOTTERY = 1
STRATIFIED = 2

# The stored name of the stratum of workers with no zone set (JSON keys are strings).
NO_ZONE = "none"
REST = "rest"

Stratum = int | None


def lottery_weight(*, earned: int, reference: int) -> int:
    """The applicant's weight: halves when ``earned`` reaches ``reference``; never 0."""
    return max(1, WEIGHT_SCALE * reference // (reference + max(0, earned)))


def _step_number(seed: str, step: int) -> int:
    return int(hashlib.sha256(f"{seed}:{step}".encode()).hexdigest(), 16)


def draw_iter(*, seed: str, pool: Iterable[tuple[int, int]]) -> Iterator[int]:
    """Worker ids in the order the weighted lottery draws them from ``pool`` ((worker id,
    weight) pairs; sorted by worker id here so that the order of the input never matters)."""
    remaining = sorted((int(worker), int(weight)) for worker, weight in pool)
    total = sum(weight for _, weight in remaining)
    step = 0
    while remaining:
        target = _step_number(seed, step) % total
        index = 0
        while target >= remaining[index][1]:
            target -= remaining[index][1]
            index += 1
        worker, weight = remaining.pop(index)
        total -= weight
        step += 1
        yield worker


def draw_order(*, seed: str, pool: Iterable[tuple[int, int]], count: int) -> list[int]:
    """The first ``count`` workers the lottery draws (re-running a stored draw)."""
    drawn: list[int] = []
    for worker in draw_iter(seed=seed, pool=pool):
        if len(drawn) >= count:
            break
        drawn.append(worker)
    return drawn


# --- Strata ---------------------------------------------------------------------------------------


def zone_stratum(*, time_zone: str | None, at: datetime) -> Stratum:
    """The stratum of a worker whose settings name ``time_zone``: its UTC offset at ``at`` in
    whole hours, rounded down (UTC+5:30 is 5, UTC-3:30 is -4), so that a local hour of the
    day is the same for the whole stratum; ``None`` when no zone (or an unknown one) is set."""
    if not time_zone:
        return None
    try:
        offset = at.astimezone(ZoneInfo(time_zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    if offset is None:
        return None
    return int(offset.total_seconds() // 3600)


def stratum_key(stratum: Stratum) -> str:
    return NO_ZONE if stratum is None else str(stratum)


def _stratum_order(stratum: Stratum) -> tuple[int, int]:
    return (0, 0) if stratum is None else (1, stratum)


# A stratum's entitlement is counted in millionths of a slot, so that what it was owed
# but not given in one wave (the rounding) carries exactly to the next.
SHARE_SCALE = 1_000_000


@dataclass(frozen=True)
class Quota:
    stratum: Stratum
    applicants: int
    weight: int
    owed: int  # millionths of a slot: carried in + this wave's share
    quota: int


@dataclass(frozen=True)
class Apportionment:
    quotas: list[Quota]  # the strata of the pool, in drawing order
    carry_out: dict[str, int]  # per stratum key, millionths of a slot, for the next wave


def stratum_quotas(
    *, seed: str, count: int, pool: Iterable[tuple[int, int, Stratum]], carry_in: dict[str, int] | None = None
) -> Apportionment:
    """Each stratum's share of ``count`` slots by largest remainder over the strata's total
    weights, the remainders carried from wave to wave of a batch:

    - a stratum's share is ``count x stratum weight x 1,000,000 // pool weight`` millionths
      of a slot; it is owed that plus what it carried in from the batch's previous wave;
    - slots go one at a time to the stratum still owed the most (its quota so far taken
      off), ties broken by SHA-256 of ``<seed>:tie:<stratum>`` (larger first); without
      carries that is the plain largest-remainder method: each stratum its whole slots, then
      one more to the largest remainders;
    - a quota never exceeds the stratum's applicants (what that leaves goes to the draw of
      the rest);
    - each stratum carries out what it was owed less its quota, kept within one slot either
      way; a stratum with no applicant in this wave carries its figure unchanged.

    Carrying matters when a wave has fewer slots than strata: without it, a small time zone
    whose share is a fraction of a slot in every wave would lose the rounding every time."""
    carry = dict(carry_in or {})
    applicants: dict[Stratum, int] = {}
    weights: dict[Stratum, int] = {}
    for _worker, weight, stratum in pool:
        applicants[stratum] = applicants.get(stratum, 0) + 1
        weights[stratum] = weights.get(stratum, 0) + int(weight)
    total = sum(weights.values())
    strata = sorted(applicants, key=_stratum_order)
    owed = {
        s: int(carry.get(stratum_key(s), 0)) + (count * weights[s] * SHARE_SCALE // total if total > 0 else 0)
        for s in strata
    }
    quotas = dict.fromkeys(strata, 0)

    def tie(stratum: Stratum) -> int:
        return int(hashlib.sha256(f"{seed}:tie:{stratum_key(stratum)}".encode()).hexdigest(), 16)

    ties = {s: tie(s) for s in strata}
    heap = [(-owed[s], -ties[s], index) for index, s in enumerate(strata) if applicants[s] > 0]
    heapq.heapify(heap)
    left = max(0, count) if total > 0 else 0
    while left > 0 and heap:
        _still_owed, _tie, index = heapq.heappop(heap)
        stratum = strata[index]
        quotas[stratum] += 1
        left -= 1
        if quotas[stratum] < applicants[stratum]:
            heapq.heappush(heap, (-(owed[stratum] - quotas[stratum] * SHARE_SCALE), -ties[stratum], index))
    for s in strata:
        carry[stratum_key(s)] = max(-SHARE_SCALE, min(SHARE_SCALE, owed[s] - quotas[s] * SHARE_SCALE))
    return Apportionment(
        quotas=[Quota(s, applicants[s], weights[s], owed[s], quotas[s]) for s in strata],
        carry_out=dict(sorted(carry.items())),
    )


@dataclass
class StratifiedDraw:
    """What a stratified draw did: the apportionment, and per phase (each stratum with a
    quota, then the rest) how many applicants it drew; ``drawn`` is all of them in order."""

    apportionment: Apportionment
    phases: list[tuple[str, int]]
    drawn: list[int]


def stratified_draw(
    *,
    seed: str,
    pool: list[tuple[int, int, Stratum]],
    count: int,
    carry_in: dict[str, int],
    give: Callable[[int], bool | None],
) -> StratifiedDraw:
    """Runs the stratified draw of ``count`` slots over ``pool`` ((worker id, weight,
    stratum)). ``give(worker)`` is asked for each worker drawn, in order: True when the
    worker got a slot, False when they were skipped (the next is drawn), None when no slot
    is left at all (the draw stops)."""
    apportionment = stratum_quotas(seed=seed, count=count, pool=pool, carry_in=carry_in)
    result = StratifiedDraw(apportionment=apportionment, phases=[], drawn=[])
    taken: set[int] = set()
    given = 0
    for quota in apportionment.quotas:
        if quota.quota <= 0:
            continue
        members = [(worker, weight) for worker, weight, stratum in pool if stratum == quota.stratum]
        key = stratum_key(quota.stratum)
        drawn_here = given_here = 0
        for worker in draw_iter(seed=f"{seed}:zone:{key}", pool=members):
            if given_here >= quota.quota:
                break
            drawn_here += 1
            result.drawn.append(worker)
            taken.add(worker)
            outcome = give(worker)
            if outcome is None:
                result.phases.append((key, drawn_here))
                return result
            if outcome:
                given_here += 1
        result.phases.append((key, drawn_here))
        given += given_here
    rest = [(worker, weight) for worker, weight, _stratum in pool if worker not in taken]
    drawn_here = 0
    if given < count:
        for worker in draw_iter(seed=f"{seed}:{REST}", pool=rest):
            drawn_here += 1
            result.drawn.append(worker)
            outcome = give(worker)
            if outcome is None:
                break
            if outcome:
                given += 1
                if given >= count:
                    break
    result.phases.append((REST, drawn_here))
    return result


def stratified_rerun(
    *, seed: str, pool: list[tuple[int, int, Stratum]], count: int, record: dict[str, Any]
) -> list[int] | None:
    """The order a stored stratified draw must have drawn in, from its seed, pool (with
    strata), slots offered and its record (``carry_in``, ``quotas``, ``carry_out`` and the
    phases' lengths); None when the stored quotas or carries are not what
    ``stratum_quotas`` gives."""
    carry_in = {str(key): int(value) for key, value in record.get("carry_in", [])}
    derived = stratum_quotas(seed=seed, count=count, pool=pool, carry_in=carry_in)
    if [[stratum_key(q.stratum), q.quota] for q in derived.quotas] != [
        [str(key), int(value)] for key, value in record.get("quotas", [])
    ]:
        return None
    if [[key, value] for key, value in derived.carry_out.items()] != [
        [str(key), int(value)] for key, value in record.get("carry_out", [])
    ]:
        return None
    drawn: list[int] = []
    for key, length in record.get("phases", []):
        if key == REST:
            taken = set(drawn)
            members = [(worker, weight) for worker, weight, _stratum in pool if worker not in taken]
            drawn += draw_order(seed=f"{seed}:{REST}", pool=members, count=int(length))
        else:
            members = [(worker, weight) for worker, weight, stratum in pool if stratum_key(stratum) == key]
            drawn += draw_order(seed=f"{seed}:zone:{key}", pool=members, count=int(length))
    return drawn


def stratified_record(draw: StratifiedDraw, *, carry_in: dict[str, int]) -> dict[str, Any]:
    """The JSON stored on the wave (and published) for a stratified draw."""
    return {
        "carry_in": [[key, value] for key, value in sorted(carry_in.items())],
        "quotas": [[stratum_key(q.stratum), q.quota] for q in draw.apportionment.quotas],
        "carry_out": [[key, value] for key, value in draw.apportionment.carry_out.items()],
        "phases": [[key, length] for key, length in draw.phases],
    }
