"""The rating rule: a standard takes the band of its lowest key question (docs/quality.md)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from projections.quality import rating

# Sheffield PDU, 2023 (HMIP's inspection). Assessment is the inspection's own key-question
# table; for the other standards the inspection gives the finding that bears on a key
# question, as a share of cases judged "yes" (None where it gives no figure: such a question
# is simply not known).
SHEFFIELD: dict[str, list[float | Fraction | None]] = {
    # police domestic-abuse enquiries missing in 66% of court reports
    "2.1 court work": [100 - 66],
    # engagement 60%, desistance 59%, keeping other people safe 33%
    "2.2 assessment": [60, 59, 33],
    # contingency planning insufficient in 60% of cases
    "2.3 planning": [None, None, 100 - 60],
    # SPO oversight insufficient or absent in 68% of cases (and enforcement in 27 of 52: 51.9%)
    "2.4 implementation and delivery": [None, None, 100 - 68],
    # 1 of 12 high-RoSH cases with sufficient oversight; no review framework for MAPPA level 1
    "2.5 reviewing": [None, None, Fraction(100, 12)],
}


@pytest.mark.parametrize("standard", sorted(SHEFFIELD))
def test_sheffield_figures_rate_every_standard_inadequate(standard: str) -> None:
    assert rating(SHEFFIELD[standard]) == "Inadequate"


@pytest.mark.parametrize(
    ("lowest", "expected"),
    [
        (100, "Outstanding"),
        (80, "Outstanding"),
        (Fraction(7999, 100), "Good"),
        (65, "Good"),
        (Fraction(6499, 100), "Requires improvement"),
        (50, "Requires improvement"),
        (Fraction(4999, 100), "Inadequate"),
        (0, "Inadequate"),
    ],
)
def test_the_lowest_key_question_sets_the_band(lowest: float | Fraction, expected: str) -> None:
    assert rating([100, lowest, 90]) == expected


def test_questions_that_do_not_apply_are_left_out() -> None:
    assert rating([None, 70, None]) == "Good"
    assert rating([None, None]) is None
    assert rating([]) is None


def test_the_rating_uses_the_unrounded_score() -> None:
    # 129 of 199 is 64.82%: shown as 64.8, and Requires improvement, not Good.
    assert rating([Fraction(100 * 129, 199)]) == "Requires improvement"
