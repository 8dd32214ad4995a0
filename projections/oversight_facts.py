"""The facts of one case that the oversight rules read, folded from its event records.

Facts are JSON-ready (instants and dates as ISO text) because they live in the read model's
row: each new event folds into them without reading the case's history again. A correction
refolds the case from the store (``refold``), so both paths share these reducers exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast
from uuid import UUID

from domain.case import Case, to_record
from domain.records import Record, apply_corrections
from projections.history import CaseHistory
from projections.oversight_reducers import ENDED, HIGH, REDUCERS, Facts, code, instant

__all__ = ["ENDED", "HIGH", "Facts", "apply", "code", "fold", "instant", "new_facts", "refold"]


def new_facts() -> Facts:
    """The facts of a case before its first event (every key, by its empty value)."""
    return {
        "version": 0,
        "crn": "",
        "pdu": "",
        "team": "",
        "practitioner_id": None,
        "untrained": None,  # {"at", "modules"}: an allocation the guard let through untrained
        "sentence_type": "",
        "status": "active",
        "termination_reason": None,
        "opened_at": None,
        "start_date": None,
        "offence_flags": [],
        "uw_required": None,
        "registrations": [],
        "inducted_at": None,
        "plan_first_at": None,
        "plan": None,
        "assessment": None,
        "rosh": None,
        "risk_anchor_at": None,
        "high_at": None,
        "mappa_level": None,
        "mappa_at": None,
        "oversight_at": None,
        "mappa_review_at": None,
        "pending": {},
        "ns_attended": 0,
        "ns_countable": 0,
        "home_visit_at": None,
        "failures": {},
        "recall_requests": [],
        "recall_decided_at": None,
        "significant_events": [],
        "reviews": [],
        "rosh_changes": 0,
        "rosh_changes_planned": 0,
        "enquiries": {},
        "referred_services": [],
        "programmes": {},
        "uw_sessions": 0,
        "uw_attended": 0,
        "uw_hours": [],
        "court_reports": 0,
        "court_reports_both": 0,
        "sfo": 0,
    }


def fold(records: Iterable[Record]) -> Facts:
    """The facts after ``records`` (corrections already merged into them)."""
    facts = new_facts()
    for record in records:
        apply(facts, record)
    return facts


def refold(history: CaseHistory, case_id: UUID, version: int) -> Facts:
    """The case's facts at ``version``, every correction up to it applied."""
    events = history.event_store.get(case_id, lte=version)
    records = [to_record(cast(Case.Event, e)) for e in events]
    facts = fold(apply_corrections(records)[0])
    facts["version"] = version
    return facts


def apply(facts: Facts, record: Record) -> None:
    """Fold one non-correction record into ``facts`` (in place)."""
    reducer = REDUCERS.get(record["type"])
    if reducer is not None:
        reducer(facts, record["data"], record["occurred_at"])
    facts["version"] = max(facts["version"], record["version"])
