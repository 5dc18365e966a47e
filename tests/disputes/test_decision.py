"""The panel's decision rule, for any votes."""

from hypothesis import given
from hypothesis import strategies as st

from disputes.services import decision_share

votes = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=21)


@given(votes)
def test_the_decision_is_a_vote_that_half_the_panel_reached(shares):
    decided = decision_share(shares)
    assert decided in shares
    assert 2 * sum(share >= decided for share in shares) >= len(shares)
    assert 2 * sum(share <= decided for share in shares) >= len(shares) - 1


@given(votes)
def test_the_order_of_the_votes_does_not_matter(shares):
    assert decision_share(shares) == decision_share(list(reversed(shares))) == decision_share(sorted(shares))


def test_a_split_panel_resolves_towards_the_worker():
    assert decision_share([0, 10_000]) == 10_000
    assert decision_share([0, 0, 10_000]) == 0
    assert decision_share([0, 5000, 10_000, 10_000]) == 10_000
