"""Benchmark: aggregating 100,000 answers (20,000 items x 5 workers) by majority vote,
Dawid-Skene and Krippendorff's alpha, as the review page and the export do (issue 27).

Pure computation on generated answers (three labels, 200 workers of mixed skill); no
database. Goal: all three together under 5 s.

    .venv/bin/python bench/aggregation.py
"""

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ITEMS = 20_000
PER_ITEM = 5
GOAL_SECONDS = 5.0


def _answers() -> list[tuple[int, int, str]]:
    rng = random.Random(27)
    labels = ["positive", "neutral", "negative"]
    skill = [0.4 if worker % 10 == 0 else 0.65 + 0.3 * rng.random() for worker in range(200)]
    answers = []
    for item in range(ITEMS):
        truth = rng.choice(labels)
        for worker in rng.sample(range(200), PER_ITEM):
            answers.append((item, worker, truth if rng.random() < skill[worker] else rng.choice(labels)))
    return answers


def run() -> list[dict[str, str]]:
    for entry in (str(ROOT), str(ROOT / "platform")):
        if entry not in sys.path:
            sys.path.append(entry)
    from tasks.quality.aggregation import dawid_skene, krippendorff_alpha, majority_vote

    answers = _answers()
    started = time.perf_counter()
    majority_vote(answers)
    vote_seconds = time.perf_counter() - started
    dawid_skene(answers)
    skene_seconds = time.perf_counter() - started - vote_seconds
    krippendorff_alpha(answers)
    total = time.perf_counter() - started
    return [
        {
            "what": f"aggregation of {len(answers):,} answers ({ITEMS:,} items x {PER_ITEM}): vote, Dawid-Skene, alpha",
            "figure": f"{total:.2f} s",
            "reference": f"vote {vote_seconds:.2f} s, Dawid-Skene {skene_seconds:.2f} s",
            "ratio": f"{total / GOAL_SECONDS:.2f} of goal",
            "goal": f"< {GOAL_SECONDS:.0f} s",
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
