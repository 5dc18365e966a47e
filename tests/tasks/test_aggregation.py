"""Aggregation of redundant answers (issue 27.3) on fixed data with known results, and
against crowd-kit (the reference, a test dependency) on the same data."""

import random

import pytest

from tasks.quality.aggregation import dawid_skene, krippendorff_alpha, majority_vote

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", reliability data of
# 4 observers and 12 units; the paper computes nominal alpha = 0.743 by hand.
KRIPPENDORFF_2011 = {
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}


def _paper_answers() -> list[tuple[int, str, str]]:
    return [
        (unit, observer, value)
        for observer, values in KRIPPENDORFF_2011.items()
        for unit, value in enumerate(values.split(), start=1)
        if value != "."
    ]


def _noisy_answers(seed: int, items: int = 300, workers: int = 12, per_item: int = 5) -> list[tuple[str, str, str]]:
    """Items with a true label among three; workers of different skill (some spammers)."""
    rng = random.Random(seed)
    labels = ["cat", "dog", "fox"]
    skill = {f"w{w}": (0.35 if w % 5 == 0 else 0.6 + 0.35 * rng.random()) for w in range(workers)}
    answers = []
    for item in range(items):
        truth = rng.choice(labels)
        for worker in rng.sample(sorted(skill), per_item):
            label = truth if rng.random() < skill[worker] else rng.choice([x for x in labels if x != truth])
            answers.append((f"t{item}", worker, label))
    return answers


def test_alpha_matches_the_hand_computed_value_of_krippendorffs_paper() -> None:
    assert krippendorff_alpha(_paper_answers()) == pytest.approx(0.743, abs=0.0005)


def test_alpha_is_one_for_perfect_agreement_and_undefined_without_variation() -> None:
    perfect = [("x", "a", "yes"), ("x", "b", "yes"), ("y", "a", "no"), ("y", "b", "no")]
    assert krippendorff_alpha(perfect) == 1.0
    assert krippendorff_alpha([("x", "a", "yes"), ("x", "b", "yes")]) is None
    assert krippendorff_alpha([("x", "a", "yes")]) is None  # nothing pairable
    # crowd-kit's docstring example, computed by hand: 1 - (6 - 1) * 2 / (3 * 3 * 2) = 0.444...
    partly = [*perfect, ("z", "a", "yes"), ("z", "b", "no")]
    assert krippendorff_alpha(partly) == pytest.approx(4 / 9)


def test_majority_vote_gives_the_most_frequent_answer_with_its_share() -> None:
    answers = [("t1", "a", "x"), ("t1", "b", "x"), ("t1", "c", "y"), ("t2", "a", "y"), ("t2", "b", "x")]
    results = {r.item: r for r in majority_vote(answers)}
    assert (results["t1"].label, results["t1"].confidence, results["t1"].answers) == ("x", 2 / 3, 3)
    # A tie goes to the first answer in sort order, whatever the input order.
    assert (results["t2"].label, results["t2"].confidence) == ("x", 0.5)
    assert majority_vote(list(reversed(answers))) == sorted(majority_vote(answers), key=lambda r: r.item, reverse=True)


def test_dawid_skene_outvotes_a_majority_of_unreliable_workers() -> None:
    """Three workers who are always right on 20 shared items and two who always answer 'x';
    on an item where the two spammers and one good worker are the only answers, the vote says
    'x' but Dawid-Skene trusts the good worker."""
    answers = []
    for item in range(20):
        truth = "y" if item % 2 else "z"
        answers += [(item, "good1", truth), (item, "good2", truth), (item, "good3", truth)]
        answers += [(item, "spam1", "x"), (item, "spam2", "x")]
    answers += [("hard", "good1", "y"), ("hard", "spam1", "x"), ("hard", "spam2", "x")]
    assert {r.item: r.label for r in majority_vote(answers)}["hard"] == "x"
    hard = {r.item: r for r in dawid_skene(answers)}["hard"]
    assert hard.label == "y" and hard.confidence > 0.95


def test_empty_input_aggregates_to_nothing() -> None:
    assert majority_vote([]) == [] and dawid_skene([]) == [] and krippendorff_alpha([]) is None


crowdkit = pytest.importorskip("crowdkit", reason="crowd-kit is the reference (dev extra)")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_results_match_crowd_kit_on_the_same_data(seed: int) -> None:
    import pandas as pd
    from crowdkit.aggregation import DawidSkene, MajorityVote
    from crowdkit.metrics.data import alpha_krippendorff

    answers = _noisy_answers(seed)
    frame = pd.DataFrame(answers, columns=["task", "worker", "label"])

    ours_ds = {r.item: r for r in dawid_skene(answers)}
    theirs = DawidSkene(n_iter=100, tol=1e-5).fit(frame)
    theirs_probas = theirs.probas_
    for item, label in theirs.labels_.items():
        assert ours_ds[item].label == label
        assert ours_ds[item].confidence == pytest.approx(float(theirs_probas.loc[item, label]), abs=1e-4)

    probas = MajorityVote().fit_predict_proba(frame)
    for result in majority_vote(answers):
        top = probas.loc[result.item].max()
        assert result.confidence == pytest.approx(float(top))
        assert probas.loc[result.item, result.label] == pytest.approx(float(top))

    assert krippendorff_alpha(answers) == pytest.approx(alpha_krippendorff(frame), abs=1e-9)
