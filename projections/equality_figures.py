"""The arithmetic of the equality figures: suppression of small counts, and rate ratios with
Katz's log interval. Pure functions over counts; projections/equality.py feeds them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def suppressed_groups(counts: Mapping[str, int], min_count: int) -> set[str]:
    """The groups whose count must not be shown.

    Primary: every group under ``min_count``. Secondary: while the hidden groups could be
    recovered from the total less the shown ones (one hidden group alone; or hidden groups
    that sum to nothing, so each must be zero), hide the next smallest group too.
    """
    hidden = {group for group, n in counts.items() if n < min_count}
    shown = sorted((n, group) for group, n in counts.items() if group not in hidden)
    while hidden and shown and (len(hidden) == 1 or sum(counts[g] for g in hidden) == 0):
        hidden.add(shown.pop(0)[1])
    return hidden


@dataclass(frozen=True)
class RateRatio:
    ratio: float | None
    low: float | None
    high: float | None

    @property
    def finding(self) -> str:
        """``higher`` or ``lower`` where the whole interval is on one side of 1."""
        if self.low is not None and self.low > 1:
            return "higher"
        if self.high is not None and self.high < 1:
            return "lower"
        return "no_evidence"


def rate_ratio(a: int, n1: int, c: int, n2: int) -> RateRatio:
    """The ratio of rate a/n1 to rate c/n2, with its 95% interval by Katz's log method:
    exp(ln R +/- z * sqrt(1/a - 1/n1 + 1/c - 1/n2)). No interval where a count is zero."""
    if n1 == 0 or n2 == 0 or c == 0:
        return RateRatio(None, None, None)
    ratio = (a / n1) / (c / n2)
    if a == 0:
        return RateRatio(ratio, None, None)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    log_ratio = math.log(ratio)
    return RateRatio(ratio, math.exp(log_ratio - Z95 * se), math.exp(log_ratio + Z95 * se))
