"""Aggregation of redundant answers: majority vote, Dawid-Skene, and Krippendorff's alpha.

Pure Python on purpose: ``crowd-kit`` (Toloka's library, the reference) needs pandas,
scikit-learn and transformers, too heavy for ``make run``; the test suite checks these
functions against it on the same data (tests/tasks/test_aggregation.py).

An answer is ``(item, worker, label)``; items and workers are any hashable, labels strings.
Results are ordered by item in the order items first appear.
"""

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from operator import add, mul

from django.utils.translation import gettext_lazy as _

Answer = tuple[Hashable, Hashable, str]

MAJORITY_VOTE_FORMULA = _(
    "majority vote: the answer given by the most workers on the item; confidence = its share of the item's "
    "answers. A tie goes to the answer that comes first alphabetically."
)
DAWID_SKENE_FORMULA = _(
    "Dawid-Skene: starting from the majority vote, estimates each worker's confusion matrix (how often they give "
    "each answer when another is true) and the answers' prior shares, alternately, until they settle; "
    "confidence = the estimated probability that the chosen answer is true."
)
ALPHA_FORMULA = _(
    "Krippendorff's alpha (nominal) = 1 - observed disagreement / disagreement expected by chance, over items "
    "with at least two answers: 1 is perfect agreement, 0 what chance gives."
)


@dataclass(frozen=True)
class ItemResult:
    item: Hashable
    label: str
    confidence: float  # 0..1
    answers: int


def _group(answers: Iterable[Answer]) -> dict[Hashable, list[tuple[Hashable, str]]]:
    grouped: dict[Hashable, list[tuple[Hashable, str]]] = {}
    for item, worker, label in answers:
        grouped.setdefault(item, []).append((worker, str(label)))
    return grouped


def majority_vote(answers: Iterable[Answer]) -> list[ItemResult]:
    """The most frequent label per item, with its share as confidence (ties: first label
    in sort order, so the result never depends on input order)."""
    results: list[ItemResult] = []
    for item, given in _group(answers).items():
        counts: dict[str, int] = defaultdict(int)
        for _worker, label in given:
            counts[label] += 1
        label = min(counts, key=lambda candidate: (-counts[candidate], candidate))
        results.append(ItemResult(item=item, label=label, confidence=counts[label] / len(given), answers=len(given)))
    return results


_EPS = 1e-8


def dawid_skene(answers: Iterable[Answer], *, max_iterations: int = 100, tolerance: float = 1e-5) -> list[ItemResult]:
    """Dawid and Skene (1979), by expectation-maximisation, initialised with the majority
    vote's label shares and stopped as crowd-kit's ``DawidSkene`` is (the evidence lower
    bound per answer gains less than ``tolerance``, or ``max_iterations``)."""
    grouped = _group(answers)
    if not grouped:
        return []
    labels = sorted({label for given in grouped.values() for _worker, label in given})
    label_index = {label: index for index, label in enumerate(labels)}
    worker_index: dict[Hashable, int] = {}
    items = list(grouped)
    # Per item: (worker index, observed label index) pairs, as ints for speed.
    coded: list[list[tuple[int, int]]] = []
    for item in items:
        row = []
        for worker, label in grouped[item]:
            row.append((worker_index.setdefault(worker, len(worker_index)), label_index[label]))
        coded.append(row)
    size, workers = len(labels), len(worker_index)
    answer_count = sum(len(row) for row in coded)
    # Initial posteriors: each item's label shares (soft majority vote).
    posteriors: list[list[float]] = []
    for row in coded:
        shares = [0.0] * size
        for _worker, observed in row:
            shares[observed] += 1.0
        posteriors.append([share / len(row) for share in shares])
    # The loop of crowd-kit's DawidSkene: E-step, then priors and error matrices, then the
    # evidence lower bound per answer, stopping once it gains less than ``tolerance``.
    priors, log_errors = _m_step(coded, posteriors, size, workers)
    previous = -math.inf
    for _iteration in range(max_iterations):
        log_priors = [math.log(max(p, _EPS)) for p in priors]
        posteriors = _e_step(coded, log_priors, log_errors, size)
        priors, log_errors = _m_step(coded, posteriors, size, workers)
        bound = _evidence_lower_bound(coded, posteriors, priors, log_errors, size) / answer_count
        if bound - previous < tolerance:
            break
        previous = bound
    results = []
    for item, row, posterior in zip(items, coded, posteriors, strict=True):
        best = max(range(size), key=lambda index: (posterior[index], -index))
        results.append(ItemResult(item=item, label=labels[best], confidence=posterior[best], answers=len(row)))
    return results


def _m_step(
    coded: Sequence[Sequence[tuple[int, int]]], posteriors: Sequence[Sequence[float]], size: int, workers: int
) -> tuple[list[float], list[list[list[float]]]]:
    """Priors and, per worker, log P(observed | true) laid out [worker][observed][true]."""
    priors = [sum(posterior[true] for posterior in posteriors) / len(posteriors) for true in range(size)]
    counts = [[[0.0] * size for _observed in range(size)] for _worker in range(workers)]
    for row, posterior in zip(coded, posteriors, strict=True):
        for worker, observed in row:
            matrix = counts[worker]
            matrix[observed] = list(map(add, matrix[observed], posterior))
    log_errors = []
    for matrix in counts:
        totals = [sum(max(matrix[observed][true], _EPS) for observed in range(size)) for true in range(size)]
        log_errors.append(
            [
                [math.log(max(matrix[observed][true], _EPS) / totals[true]) for true in range(size)]
                for observed in range(size)
            ]
        )
    return priors, log_errors


def _e_step(
    coded: Sequence[Sequence[tuple[int, int]]], log_priors: list[float], log_errors: list[list[list[float]]], size: int
) -> list[list[float]]:
    posteriors: list[list[float]] = []
    for row in coded:
        scores = log_priors
        for worker, observed in row:
            scores = list(map(add, scores, log_errors[worker][observed]))
        top = max(scores)
        weights = [math.exp(score - top) for score in scores]
        total = sum(weights)
        posteriors.append([weight / total for weight in weights])
    return posteriors


def _evidence_lower_bound(
    coded: Sequence[Sequence[tuple[int, int]]],
    posteriors: Sequence[Sequence[float]],
    priors: Sequence[float],
    log_errors: list[list[list[float]]],
    size: int,
) -> float:
    """crowd-kit's bound: the expected joint log-likelihood (the prior counted with each
    answer, as crowd-kit does) plus the posteriors' entropy."""
    log_priors = [math.log(max(p, _EPS)) for p in priors]
    joint = 0.0
    entropy = 0.0
    for row, posterior in zip(coded, posteriors, strict=True):
        # sum over answers of posterior . (log error column + log priors), regrouped
        joint += len(row) * sum(map(mul, posterior, log_priors))
        for worker, observed in row:
            joint += sum(map(mul, posterior, log_errors[worker][observed]))
        for share in posterior:
            share = max(share, _EPS)
            entropy -= share * math.log(share)
    return joint + entropy


def krippendorff_alpha(answers: Iterable[Answer]) -> float | None:
    """Krippendorff's alpha for nominal data over items with two or more answers; None when
    fewer than two such answers exist or every answer is the same label (no variation:
    agreement is undefined, not perfect)."""
    coincidence: dict[tuple[str, str], float] = defaultdict(float)
    for given in _group(answers).values():
        count = len(given)
        if count < 2:
            continue
        values: dict[str, int] = defaultdict(int)
        for _worker, label in given:
            values[label] += 1
        for first, n_first in values.items():
            for second, n_second in values.items():
                pairs = n_first * (n_second - (1 if first == second else 0))
                if pairs:
                    coincidence[(first, second)] += pairs / (count - 1)
    totals: dict[str, float] = defaultdict(float)
    for (first, _second), value in coincidence.items():
        totals[first] += value
    n = sum(totals.values())
    if n < 2:
        return None
    observed = sum(value for (first, second), value in coincidence.items() if first != second)
    expected_pairs = sum(totals[a] * totals[b] for a in totals for b in totals if a != b)
    if expected_pairs == 0:
        return None
    return 1.0 - (n - 1) * observed / expected_pairs
