"""A model of the Spread figure without a server: how far a bucket's realised ratio moves by
the lottery's luck alone, and what a draw stratified by time zone would give instead.

It uses ``fair_dispatch``'s population and activity curve and the platform's own plan
(``tasks.dispatch.wave_weights``, ``planned_in_hands``): a week of history measured, 24
waves sized from it, each wave's applicants drawn by the platform's own lottery
(``tasks.lottery``; all weights equal, as in the bench), what a wave cannot give rolled
over, every slot given (nobody is skipped). Two draws: the lottery over the whole pool
(formula 1), and the draw stratified by time zone as the platform now runs it (formula 2,
``stratified_draw``: each wave's slots shared among the applicants' time zones in
proportion to their weights by largest remainder, remainders carried to the next wave,
then drawn within each zone). Not a benchmark (the
leading underscore keeps it out of ``make bench``): run it by hand,

    PYTHONPATH=.:platform python bench/_spread_model.py [seeds] [workers] [slots]

and it prints, for each draw, the lowest and highest ratio per run and how many runs had
every bucket within 0.8-1.25. docs/performance.md quotes a run of 10 seeds.
"""

import os
import random
import sys
from collections import Counter

BUCKETS = 24


def simulate(*, seed: int, workers: int, slots: int, stratified: bool) -> tuple[float, float, int]:
    from bench.fair_dispatch import ACTIVITY, POPULATION
    from tasks.dispatch import planned_in_hands, wave_weights
    from tasks.lottery import WEIGHT_SCALE, draw_order, stratified_draw

    rng = random.Random(seed)
    bucket_of = rng.choices(range(BUCKETS), weights=POPULATION, k=workers)
    measured = [0] * 24
    for _day in range(7):
        for hour in range(24):
            measured[hour] += sum(1 for b in bucket_of if rng.random() < ACTIVITY[(hour + b) % 24])
    publish_hour = seed % 24
    figures = [measured[(publish_hour + k) % 24] for k in range(BUCKETS)]
    weights = wave_weights(figures=figures, floor_bps=2500).weights
    total_weight = sum(weights)
    given = 0
    so_far = 0
    active: set[int] = set()
    slots_of: Counter[int] = Counter()
    carry: dict[str, int] = {}  # stratified: each zone's remainder, carried from wave to wave
    for k in range(BUCKETS):
        hour = (publish_hour + k) % 24
        awake = [w for w in range(workers) if rng.random() < ACTIVITY[(hour + bucket_of[w]) % 24]]
        active.update(awake)
        so_far += weights[k]
        target = planned_in_hands(total=slots, weight_so_far=so_far, weight_total=total_weight)
        count = max(0, min(len(awake), target - given))
        # The platform's own draws (``tasks.lottery``): all weights equal, as in the bench.
        draw_seed = f"{rng.getrandbits(64):x}"
        if not stratified:
            drawn = draw_order(seed=draw_seed, pool=[(w, WEIGHT_SCALE) for w in awake], count=count)
        else:
            pool = [(w, WEIGHT_SCALE, bucket_of[w]) for w in awake]
            result = stratified_draw(seed=draw_seed, pool=pool, count=count, carry_in=carry, give=lambda _w: True)
            drawn = result.drawn
            carry = result.apportionment.carry_out
        for worker in drawn:
            slots_of[bucket_of[worker]] += 1
        given += len(drawn)
    active_of = Counter(bucket_of[w] for w in active)
    ratios = [(slots_of[b] / given) / (active_of[b] / len(active)) for b in active_of]
    return min(ratios), max(ratios), sum(1 for r in ratios if not 0.8 <= r <= 1.25)


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
    django.setup()
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    slots = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    for stratified in (False, True):
        runs = [simulate(seed=s, workers=workers, slots=slots, stratified=stratified) for s in range(seeds)]
        inside = sum(1 for _low, _high, outside in runs if outside == 0)
        print(
            f"{'stratified by time zone (formula 2)' if stratified else 'lottery over the whole pool (formula 1)'}: "
            f"lowest {min(r[0] for r in runs):.2f}, highest {max(r[1] for r in runs):.2f}; "
            f"every bucket inside 0.8-1.25 in {inside} of {seeds} runs; "
            f"{sum(r[2] for r in runs) / seeds:.1f} buckets outside on average"
        )


if __name__ == "__main__":
    main()
