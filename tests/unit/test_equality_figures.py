"""Suppression cannot be undone by subtraction; rate ratios match hand-computed intervals."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.equality_figures import rate_ratio, suppressed_groups

GROUPS = ("asian", "black", "mixed", "white", "other", "not_stated")


def determined(counts: dict[str, int], hidden: set[str], group: str) -> bool:
    """Whether an observer who knows the total and the shown counts can tell ``group``'s
    count: the hidden counts are non-negative integers with a known sum, so a hidden count
    is fixed exactly when it is the only hidden one or the hidden sum is zero."""
    residual = sum(counts.values()) - sum(n for g, n in counts.items() if g not in hidden)
    return len(hidden) == 1 or residual == 0


@given(
    st.fixed_dictionaries({g: st.integers(min_value=0, max_value=60) for g in GROUPS}),
    st.integers(min_value=1, max_value=20),
)
def test_no_suppressed_count_can_be_recovered_from_the_rest_and_the_total(
    counts: dict[str, int], min_count: int
) -> None:
    hidden = suppressed_groups(counts, min_count)

    assert {g for g, n in counts.items() if n < min_count} <= hidden  # primary
    if sum(counts.values()) > 0:
        for group in hidden:
            assert not determined(counts, hidden, group), (counts, hidden)


@given(st.fixed_dictionaries({g: st.integers(min_value=10, max_value=60) for g in GROUPS}))
def test_nothing_is_suppressed_when_every_group_is_large_enough(counts: dict[str, int]) -> None:
    assert suppressed_groups(counts, 10) == set()


def test_one_small_group_takes_the_next_smallest_with_it() -> None:
    counts = {"white": 100, "asian": 30, "black": 12, "mixed": 4}

    assert suppressed_groups(counts, 10) == {"mixed", "black"}


def test_two_small_groups_need_no_secondary_suppression() -> None:
    assert suppressed_groups({"white": 100, "asian": 30, "black": 3, "mixed": 4}, 10) == {
        "black",
        "mixed",
    }


def test_hidden_groups_that_are_all_empty_take_a_counted_group_with_them() -> None:
    counts = {"white": 100, "asian": 30, "black": 0, "mixed": 0}

    assert suppressed_groups(counts, 10) == {"black", "mixed", "asian"}


def test_rate_ratio_matches_a_hand_computed_katz_interval() -> None:
    # 30/100 against 20/200: R = 3.0; SE = sqrt(1/30 - 1/100 + 1/20 - 1/200) = sqrt(0.068333..)
    # = 0.261406; exp(ln 3 ± 1.959964 * 0.261406) = 3 * exp(±0.512346) = (1.7973, 5.0076)
    found = rate_ratio(30, 100, 20, 200)

    assert found.ratio == pytest.approx(3.0)
    assert found.low == pytest.approx(1.7973, abs=1e-4)
    assert found.high == pytest.approx(5.0076, abs=1e-4)
    assert found.finding == "higher"


def test_a_lower_rate_with_an_interval_below_one() -> None:
    # 10/200 against 40/200: R = 0.25; SE = sqrt(1/10 - 1/200 + 1/40 - 1/200) = sqrt(0.115)
    found = rate_ratio(10, 200, 40, 200)

    se = math.sqrt(0.115)
    assert found.ratio == pytest.approx(0.25)
    assert found.low == pytest.approx(0.25 * math.exp(-1.959964 * se), rel=1e-6)
    assert found.high == pytest.approx(0.25 * math.exp(1.959964 * se), rel=1e-6)
    assert found.high is not None
    assert found.high < 1
    assert found.finding == "lower"


def test_an_interval_containing_one_is_no_evidence() -> None:
    assert rate_ratio(11, 100, 10, 100).finding == "no_evidence"


def test_a_zero_count_has_no_interval() -> None:
    assert rate_ratio(0, 50, 10, 100).low is None
    assert rate_ratio(0, 50, 10, 100).finding == "no_evidence"
    assert rate_ratio(5, 50, 0, 100).ratio is None
