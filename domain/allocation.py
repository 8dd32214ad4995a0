"""The allocation guard: what a practitioner must have before a case is allocated to them.

A case requires training by its offence flags and registrations (a configurable map); a
sexual or racially aggravated offence requires that the practitioner's suitability was
considered; no practitioner is to go over the capacity limit. An SPO may allocate anyway with
a reason, and the ``Allocated`` event records what was overridden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.errors import (
    OverCapacityError,
    SuitabilityNotConsideredError,
    TrainingRequiredError,
    UnknownPractitionerError,
)

DEFAULT_REQUIRED_TRAINING: dict[str, str] = {
    "domestic_abuse": "domestic_abuse",
    "ADVP": "domestic_abuse",
    "sexual": "sexual_offending",
    "RCCO": "safeguarding_children",
    "RCPR": "safeguarding_children",
    "RCHD": "safeguarding_children",
    "stalking": "stalking",
    "racially_aggravated": "hate_crime",
}
SUITABILITY_FLAGS = frozenset({"sexual", "racially_aggravated"})


@dataclass(frozen=True)
class Practitioner:
    """What the allocation guard knows of a practitioner when the case is allocated."""

    staff_id: str
    training: frozenset[str]  # modules current on the allocation date
    capacity: int  # active cases at 100%
    caseload: int  # active cases allocated to them now, this one excluded


@dataclass(frozen=True)
class AllocationPolicy:
    required_training: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_REQUIRED_TRAINING)
    )
    capacity_limit_percent: int = 120


@dataclass(frozen=True)
class Overridden:
    """What an SPO's override let through; all empty when nothing was."""

    missing_training: list[str]
    over_capacity: bool
    suitability_not_considered: bool


def required_training(codes: Iterable[str], policy: AllocationPolicy) -> list[str]:
    """The modules that the case's offence flags and registrations require."""
    return sorted({policy.required_training[c] for c in codes if c in policy.required_training})


def check_allocation(
    *,
    practitioner_id: str,
    practitioner: Practitioner | None,
    case_codes: Iterable[str],
    suitability_considered: bool,
    override: bool,
    policy: AllocationPolicy,
) -> Overridden:
    """What the allocation overrides; raises the first rule broken unless ``override``."""
    if practitioner is None:
        raise UnknownPractitionerError(f"no member of staff {practitioner_id!r}")
    codes = set(case_codes)
    missing = [m for m in required_training(codes, policy) if m not in practitioner.training]
    limit = practitioner.capacity * policy.capacity_limit_percent / 100
    over = practitioner.caseload + 1 > limit
    unsuitable = bool(codes & SUITABILITY_FLAGS) and not suitability_considered
    if not override:
        if missing:
            raise TrainingRequiredError(
                f"{practitioner_id} lacks current training: {', '.join(missing)}", missing
            )
        if unsuitable:
            raise SuitabilityNotConsideredError(
                "a sexual or racially aggravated offence needs the practitioner's suitability "
                "considered before allocation"
            )
        if over:
            raise OverCapacityError(
                f"{practitioner_id} has {practitioner.caseload} active cases; one more goes "
                f"over {policy.capacity_limit_percent}% of a capacity of {practitioner.capacity}"
            )
    return Overridden(missing, over, unsuitable)
