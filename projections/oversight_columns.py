"""The typed columns of a case's oversight row: what the compliance rates and the quality
indicators sum over a scope. Dates and business days taken, never a threshold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from projections.business_days import local_date, months_between
from projections.oversight_facts import ENDED, HIGH, Facts
from projections.oversight_rules import (
    at_,
    day_of,
    days_taken,
    earliest,
    first_after,
    home_visit_required,
    safeguarding_concern,
)


def _uw_months(facts: Facts) -> int | None:
    """Whole months from the order's start to the session that completed its hours."""
    required = facts["uw_required"]
    if required is None:
        return None
    total = Decimal(0)
    for at, hours in sorted(facts["uw_hours"], key=lambda session: at_(session[0])):
        total += Decimal(hours)
        if total >= Decimal(required):
            start = date.fromisoformat(facts["start_date"])
            return months_between(start, local_date(at_(at)))
    return None


def _enforcement(facts: Facts) -> dict[str, Any]:
    failures = list(facts["failures"].values())
    answered = [days_taken(f["at"], f["cited_at"]) for f in failures if f["cited_at"]]
    return {
        "first_failure_on": day_of(earliest([f["at"] for f in failures])),
        "first_uncited_on": day_of(earliest([f["at"] for f in failures if not f["cited_at"]])),
        "enforcement_worst_bd": max((d for d in answered if d is not None), default=None),
    }


def _significant_events(facts: Facts) -> dict[str, Any]:
    informed = [at for at, was_informed in facts["reviews"] if was_informed]
    taken, unreviewed = [], []
    for event in facts["significant_events"]:
        review = first_after(event, informed)
        if review is None:
            unreviewed.append(event)
        else:
            taken.append(days_taken(event, review) or 0)
    return {
        "sig_events": len(facts["significant_events"]),
        "sig_worst_bd": max(taken, default=None),
        "sig_first_unreviewed_on": day_of(earliest(unreviewed)),
    }


def case_columns(facts: Facts) -> dict[str, Any]:
    """The typed columns of the case's row: what the rates and indicators sum."""
    assessment, plan = facts["assessment"], facts["plan"]
    needs = set(assessment["needs"] or []) if assessment else set()
    sources = set(assessment["sources"]) if assessment else set()
    required = home_visit_required(facts)
    inducted = facts["inducted_at"]
    opened_at = at_(facts["opened_at"])
    programmes = list(facts["programmes"].values())
    enquiries = facts["enquiries"].values()
    return {
        "crn": facts["crn"],
        "pdu": facts["pdu"],
        "team": facts["team"],
        "practitioner_id": facts["practitioner_id"],
        "sentence_type": facts["sentence_type"],
        "status": facts["status"],
        "opened_at": opened_at,
        "opened_on": local_date(opened_at),
        "start_date": date.fromisoformat(facts["start_date"]),
        "rosh": facts["rosh"],
        "rosh_high": facts["rosh"] in HIGH,
        "high_oversight": bool(
            facts["high_at"]
            and facts["oversight_at"]
            and at_(facts["oversight_at"]) >= at_(facts["high_at"])
        ),
        "ns_attended": facts["ns_attended"],
        "ns_countable": facts["ns_countable"],
        **_enforcement(facts),
        "induction_bd": days_taken(facts["opened_at"], inducted),
        "inducted_on": day_of(inducted),
        "plan_agreed": plan is not None,
        "plan_bd": days_taken(inducted, facts["plan_first_at"]),
        "uw_required": facts["uw_required"] is not None,
        "uw_sessions": facts["uw_sessions"],
        "uw_attended": facts["uw_attended"],
        "uw_months": _uw_months(facts),
        "needs_count": len(needs),
        "needs_referred": len(needs & set(facts["referred_services"])),
        "ap_completed": programmes.count("completed"),
        "ap_ended": sum(1 for outcome in programmes if outcome in ENDED),
        "hv_required": required,
        "hv_bd": days_taken(inducted, facts["home_visit_at"]) if required else None,
        "enq_requested": len(enquiries),
        "enq_answered": sum(1 for e in enquiries if e["answered_at"]),
        "court_reports": facts["court_reports"],
        "court_ok": facts["court_reports"] > 0
        and facts["court_reports_both"] == facts["court_reports"],
        "assessed": assessment is not None,
        "assessment_person_involved": bool(assessment and assessment["person_involved"]),
        "assessment_needs_analysed": bool(assessment and assessment["needs"] is not None),
        "assessment_sources_ok": "police" in sources
        and (not safeguarding_concern(facts) or "childrens_services" in sources),
        "plan_person_involved": bool(plan and plan["person_involved"]),
        "plan_desistance": bool(plan and plan["objectives"] > 0 and plan["needs_analysed"]),
        "plan_contingency": bool(plan and plan["contingency"]),
        **_significant_events(facts),
        "reviewed": bool(facts["reviews"]),
        "review_person_involved": bool(facts["reviews"])
        and bool(
            (assessment and assessment["person_involved"]) or (plan and plan["person_involved"])
        ),
        "rosh_changes": facts["rosh_changes"],
        "rosh_changes_planned": facts["rosh_changes_planned"],
        "completed": facts["termination_reason"] == "completed",
        "sfo": facts["sfo"],
    }
