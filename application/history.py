"""Historical views of a case: at a version, as known at a time, as it had happened by a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.records import Record, apply_corrections
from domain.state import CaseState


@dataclass(frozen=True)
class LeftOut:
    version: int
    type: str
    reason: str


@dataclass(frozen=True)
class HistoricalState:
    version: int
    state: CaseState
    left_out: list[LeftOut] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "state": self.state.fields(),
            "left_out": [vars(x) for x in self.left_out],
        }


def state_at_version(records: list[Record], version: int) -> HistoricalState:
    """The case as it stood when ``version`` was its last event."""
    included = [r for r in records if r["version"] <= version]
    left_out = [
        LeftOut(r["version"], r["type"], "after_version") for r in records if r["version"] > version
    ]
    return HistoricalState(
        max((r["version"] for r in included), default=0), CaseState.fold(included), left_out
    )


def state_as_known_at(records: list[Record], known_at: datetime) -> HistoricalState:
    """The case as the service knew it at ``known_at``: only events recorded by then."""
    included = [r for r in records if r["recorded_at"] <= known_at]
    left_out = [
        LeftOut(r["version"], r["type"], "recorded_after")
        for r in records
        if r["recorded_at"] > known_at
    ]
    return HistoricalState(
        max((r["version"] for r in included), default=0), CaseState.fold(included), left_out
    )


def state_as_of(records: list[Record], as_of: datetime) -> HistoricalState:
    """Things as they had happened by ``as_of``, as known now (corrections known now applied).

    A correction is not an event in the world: it changes what we know of its target, so it
    applies whatever its own time; the target's (corrected) occurred_at decides inclusion.
    """
    effective, corrected_by = apply_corrections(records)
    included = [r for r in effective if r["occurred_at"] <= as_of]
    left_out = [
        LeftOut(r["version"], r["type"], "occurred_after")
        for r in effective
        if r["occurred_at"] > as_of
    ]
    state = CaseState.fold(included)
    included_versions = {r["version"] for r in included}
    state.corrected_by = {t: c for t, c in corrected_by.items() if t in included_versions}
    return HistoricalState(max(included_versions, default=0), state, left_out)
