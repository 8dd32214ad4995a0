"""From a case's facts to its read-model row: typed columns for the rates and indicators, and
the open clocks of the oversight queue.

Nothing here depends on a threshold or on the time of day: the row keeps dates and the
business days things took, and the queries compare them with the thresholds in force when
they run. Changing a threshold needs no rebuild.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from projections.business_days import (
    add_business_days,
    business_days_between,
    end_of_day,
    latest_start,
    local_date,
)
from projections.oversight_facts import HIGH, Facts, instant

Unit = Literal["business_days", "calendar_days", "hours"]


class Thresholds(Protocol):
    """The oversight thresholds (``application.settings.OversightSettings`` is one)."""

    @property
    def induction_days(self) -> int: ...
    @property
    def sentence_plan_days(self) -> int: ...
    @property
    def enforcement_decision_days(self) -> int: ...
    @property
    def oversight_after_risk_days(self) -> int: ...
    @property
    def oversight_interval_calendar_days(self) -> int: ...
    @property
    def mappa_level1_review_calendar_days(self) -> int: ...
    @property
    def risk_review_days(self) -> int: ...
    @property
    def enquiry_response_days(self) -> int: ...
    @property
    def recall_decision_hours(self) -> int: ...
    @property
    def home_visit_days(self) -> int: ...
    @property
    def allocation_training_days(self) -> int: ...
    @property
    def due_soon_days(self) -> int: ...
    @property
    def unpaid_work_completion_months(self) -> int: ...


@dataclass(frozen=True)
class Rule:
    """One clock of the queue: the reason it shows, its unit and its threshold setting."""

    name: str
    reason: str
    unit: Unit
    setting: str

    def threshold(self, thresholds: Thresholds) -> int:
        value: int = getattr(thresholds, self.setting)
        return value

    def due_at(self, since: datetime, thresholds: Thresholds) -> datetime:
        n = self.threshold(thresholds)
        if self.unit == "hours":
            return since + timedelta(hours=n)
        if self.unit == "calendar_days":
            return end_of_day(local_date(since) + timedelta(days=n))
        return end_of_day(add_business_days(local_date(since), n))

    def since_cutoff(self, horizon: date, thresholds: Thresholds) -> date | datetime:
        """The latest start (a date; an instant for hours) whose deadline is by ``horizon``."""
        n = self.threshold(thresholds)
        if self.unit == "hours":
            return end_of_day(horizon) - timedelta(hours=n)
        if self.unit == "calendar_days":
            return horizon - timedelta(days=n)
        return latest_start(horizon, n)


RULES = {
    rule.name: rule
    for rule in (
        Rule("induction", "induction_overdue", "business_days", "induction_days"),
        Rule("sentence_plan", "sentence_plan_overdue", "business_days", "sentence_plan_days"),
        Rule(
            "enforcement_decision",
            "enforcement_decision_overdue",
            "business_days",
            "enforcement_decision_days",
        ),
        Rule(
            "oversight_after_risk",
            "oversight_required",
            "business_days",
            "oversight_after_risk_days",
        ),
        Rule(
            "oversight_interval",
            "oversight_required",
            "calendar_days",
            "oversight_interval_calendar_days",
        ),
        Rule(
            "mappa_level1_review",
            "mappa_level1_review_due",
            "calendar_days",
            "mappa_level1_review_calendar_days",
        ),
        Rule("risk_review", "risk_review_overdue", "business_days", "risk_review_days"),
        Rule(
            "enquiry_response", "enquiry_response_overdue", "business_days", "enquiry_response_days"
        ),
        Rule("recall_decision", "recall_decision_overdue", "hours", "recall_decision_hours"),
        Rule("home_visit", "home_visit_missing", "business_days", "home_visit_days"),
        Rule(
            "allocated_without_training",
            "allocated_without_training",
            "business_days",
            "allocation_training_days",
        ),
    )
}


def day_of(text: str | None) -> date | None:
    moment = instant(text)
    return None if moment is None else local_date(moment)


def days_taken(start: str | None, end: str | None) -> int | None:
    """Business days from one recorded instant to another (None if either is missing)."""
    first, last = day_of(start), day_of(end)
    return None if first is None or last is None else business_days_between(first, last)


def at_(text: str) -> datetime:
    return datetime.fromisoformat(text)


def first_after(moment: str, candidates: list[str]) -> str | None:
    """The earliest candidate at or after ``moment``."""
    return min((c for c in candidates if at_(c) >= at_(moment)), key=at_, default=None)


def earliest(moments: list[str]) -> str | None:
    return min(moments, key=at_, default=None)


def home_visit_required(facts: Facts) -> bool:
    """Domestic-abuse offence flag, or an active child registration (RCCO, RCPR)."""
    registered = {"RCCO", "RCPR"} & set(facts["registrations"])
    return "domestic_abuse" in facts["offence_flags"] or bool(registered)


def safeguarding_concern(facts: Facts) -> bool:
    """Domestic abuse (offence flag or ADVP) or a child registration (RCCO, RCPR)."""
    return home_visit_required(facts) or "ADVP" in facts["registrations"]


def in_oversight_scope(facts: Facts) -> bool:
    return facts["rosh"] in HIGH or facts["mappa_level"] is not None


def open_clocks(facts: Facts) -> dict[str, str]:
    """Each queue rule's open clock on the case: rule name -> the instant it started."""
    if facts["status"] != "active":
        return {}
    clocks: dict[str, str | None] = {}
    if facts["inducted_at"] is None:
        clocks["induction"] = facts["opened_at"]
    elif facts["plan_first_at"] is None:
        clocks["sentence_plan"] = facts["inducted_at"]
    failures = facts["failures"].values()
    clocks["enforcement_decision"] = earliest([f["at"] for f in failures if not f["cited_at"]])
    if in_oversight_scope(facts):
        anchor, last = facts["risk_anchor_at"], facts["oversight_at"]
        if anchor is not None and (last is None or at_(last) < at_(anchor)):
            clocks["oversight_after_risk"] = anchor
        clocks["oversight_interval"] = last
    if facts["mappa_level"] == 1:
        clocks["mappa_level1_review"] = facts["mappa_review_at"] or facts["mappa_at"]
    reviews = [at for at, _ in facts["reviews"]]
    unreviewed = [e for e in facts["significant_events"] if first_after(e, reviews) is None]
    clocks["risk_review"] = earliest(unreviewed)
    enquiries = facts["enquiries"].values()
    clocks["enquiry_response"] = earliest([e["at"] for e in enquiries if not e["answered_at"]])
    decided = instant(facts["recall_decided_at"])
    requests = facts["recall_requests"]
    clocks["recall_decision"] = earliest(
        [r for r in requests if decided is None or at_(r) > decided]
    )
    if home_visit_required(facts) and facts["inducted_at"] and not facts["home_visit_at"]:
        clocks["home_visit"] = facts["inducted_at"]
    if untrained := facts.get("untrained"):  # read-time: training recorded since closes it
        clocks["allocated_without_training"] = untrained["at"]
    return {rule: since for rule, since in clocks.items() if since is not None}


def queue_items(facts: Facts) -> list[dict[str, Any]]:
    """The case's rows of the queue table (without generation and case id)."""
    return [
        {
            "rule": rule,
            "reason": RULES[rule].reason,
            "since": at_(since),
            "since_on": day_of(since),
            "team": facts["team"],
            "practitioner_id": facts["practitioner_id"],
            "crn": facts["crn"],
        }
        for rule, since in sorted(open_clocks(facts).items())
    ]


def digest(items: list[dict[str, Any]]) -> str:
    text = json.dumps(items, sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
