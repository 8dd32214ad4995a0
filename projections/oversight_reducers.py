"""How each case event changes the case's oversight facts (projections/oversight_facts.py).

One reducer per event type, each folding the event's data (as the record gives it: codes may be
enum members, instants aware datetimes) into JSON-ready facts, in place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Facts = dict[str, Any]
Data = dict[str, Any]
RECALL_ON = ("licence", "post_sentence_supervision")  # IBR on these is a recall request
ROSH_RANK = {"low": 1, "medium": 2, "high": 3, "very_high": 4}
HIGH = ("high", "very_high")
ENDED = ("completed", "terminated", "withdrawn")


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def code(value: Any) -> Any:
    return getattr(value, "value", value)


def _iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else moment.isoformat()


def _latest(facts: Facts, key: str, moment: datetime) -> None:
    current = instant(facts[key])
    if current is None or moment > current:
        facts[key] = moment.isoformat()


def _earliest(facts: Facts, key: str, moment: datetime) -> None:
    current = instant(facts[key])
    if current is None or moment < current:
        facts[key] = moment.isoformat()


def _hours(value: Any) -> Decimal | None:
    try:
        hours = Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None
    return hours if hours is not None and hours.is_finite() and hours > 0 else None


def _opened(f: Facts, d: Data, at: datetime) -> None:
    f.update(
        crn=d["crn"],
        pdu=d["pdu"],
        team=d["team"],
        sentence_type=code(d["sentence_type"]),
        opened_at=at.isoformat(),
        start_date=_iso(d["start_date"]),
        offence_flags=sorted(code(flag) for flag in d["offence_flags"]),
    )
    hours = _hours(dict(d["requirements"]).get("unpaid_work_hours"))
    f["uw_required"] = None if hours is None else str(hours)


def _court_report(f: Facts, d: Data, at: datetime) -> None:
    f["court_reports"] += 1
    enquiries = d["enquiries"]
    if enquiries.get("police_domestic_abuse") and enquiries.get("childrens_services"):
        f["court_reports_both"] += 1


def _allocated(f: Facts, d: Data, at: datetime) -> None:
    f["practitioner_id"] = d["practitioner_id"]
    # A new allocation ends the last one's training gap, and may open its own (an override).
    missing = sorted(d.get("missing_training") or [])
    f["untrained"] = {"at": at.isoformat(), "modules": missing} if missing else None


def _enquiry_requested(f: Facts, d: Data, at: datetime) -> None:
    f["enquiries"][d["enquiry_id"]] = {"at": at.isoformat(), "answered_at": None}


def _enquiry_responded(f: Facts, d: Data, at: datetime) -> None:
    enquiry = f["enquiries"].get(d["enquiry_id"])
    if enquiry is not None:
        enquiry["answered_at"] = at.isoformat()


def _inducted(f: Facts, d: Data, at: datetime) -> None:
    _earliest(f, "inducted_at", at)


def _assessed(f: Facts, d: Data, at: datetime) -> None:
    rosh = code(d["rosh"])
    needs = d["needs"]
    f["assessment"] = {
        "at": at.isoformat(),
        "rosh": rosh,
        "needs": None if needs is None else sorted({code(n) for n in needs}),
        "sources": sorted({code(s) for s in d["sources"]}),
        "person_involved": bool(d["person_involved"]),
    }
    f["rosh"] = rosh
    _latest(f, "risk_anchor_at", at)
    if rosh in HIGH:
        _latest(f, "high_at", at)


def _reviewed(f: Facts, d: Data, at: datetime) -> None:
    f["reviews"].append([at.isoformat(), bool(d["informed_by_intelligence"])])
    rosh = code(d.get("rosh"))
    if rosh is None:
        return
    before = f["rosh"]
    if rosh != before:
        f["rosh_changes"] += 1
        f["rosh_changes_planned"] += 1 if d["plan_changed"] else 0
    if ROSH_RANK[rosh] > ROSH_RANK.get(before or "", 0):  # an escalation
        _latest(f, "risk_anchor_at", at)
    if rosh in HIGH:
        _latest(f, "high_at", at)
    f["rosh"] = rosh


def _registered(f: Facts, d: Data, at: datetime) -> None:
    f["registrations"] = sorted({*f["registrations"], code(d["code"])})


def _deregistered(f: Facts, d: Data, at: datetime) -> None:
    f["registrations"] = [c for c in f["registrations"] if c != code(d["code"])]


def _mappa(f: Facts, d: Data, at: datetime) -> None:
    level = int(d["level"])
    if f["mappa_level"] is None or level > f["mappa_level"]:  # first set, or an escalation
        _latest(f, "risk_anchor_at", at)
    f["mappa_level"] = level
    f["mappa_at"] = at.isoformat()


def _planned(f: Facts, d: Data, at: datetime) -> None:
    _earliest(f, "plan_first_at", at)
    assessment = f["assessment"]
    # Personal text reaches read models sealed ("[sealed]"): only its presence is known.
    contingency = d["contingency_plan"]
    f["plan"] = {
        "person_involved": bool(d["person_involved"]),
        "contingency": contingency is not None,
        "objectives": len(d["objectives"]),
        "needs_analysed": assessment is not None and assessment["needs"] is not None,
    }


def _scheduled(f: Facts, d: Data, at: datetime) -> None:
    f["pending"][d["appointment_id"]] = {
        "type": code(d["type"]),
        "national_standard": bool(d["national_standard"]),
        "starts_at": _iso(d["starts_at"]),
    }


def _outcome(f: Facts, d: Data, at: datetime) -> None:
    appointment = f["pending"].pop(d["appointment_id"], None)
    if appointment is None:
        return
    outcome = code(d["outcome"])
    attended = outcome in ("ATTC", "AFTC")
    if appointment["national_standard"] and not outcome.startswith("AA"):
        f["ns_countable"] += 1
        f["ns_attended"] += 1 if attended else 0
    if appointment["type"] == "CHVS" and attended:
        _earliest(f, "home_visit_at", datetime.fromisoformat(appointment["starts_at"]))
    if outcome in ("UAAB", "AFTA", "AFTC"):
        f["failures"][d["appointment_id"]] = {"at": at.isoformat(), "cited_at": None}


def _enforced(f: Facts, d: Data, at: datetime) -> None:
    for appointment_id in d["appointment_ids"]:
        failure = f["failures"].get(appointment_id)
        if failure is not None:
            cited = instant(failure["cited_at"])
            failure["cited_at"] = (at if cited is None else min(at, cited)).isoformat()
    action = code(d["action"])
    if action == "EA11" or (action == "IBR" and f["sentence_type"] in RECALL_ON):
        f["recall_requests"].append(at.isoformat())


def _recall_decided(f: Facts, d: Data, at: datetime) -> None:
    _latest(f, "recall_decided_at", at)


def _referred(f: Facts, d: Data, at: datetime) -> None:
    service = code(d["service"])
    f["referred_services"] = sorted({*f["referred_services"], service})
    if service == "accredited_programme":
        f["programmes"][d["referral_id"]] = None


def _referral_outcome(f: Facts, d: Data, at: datetime) -> None:
    if d["referral_id"] in f["programmes"]:
        f["programmes"][d["referral_id"]] = code(d["outcome"])


def _unpaid_work(f: Facts, d: Data, at: datetime) -> None:
    f["uw_sessions"] += 1
    if d["attended"]:
        f["uw_attended"] += 1
        f["uw_hours"].append([at.isoformat(), str(Decimal(str(d["hours"])))])


def _significant_event(f: Facts, d: Data, at: datetime) -> None:
    f["significant_events"].append(at.isoformat())


def _oversight(f: Facts, d: Data, at: datetime) -> None:
    _latest(f, "oversight_at", at)
    if code(d["kind"]) == "mappa_level1_review":
        _latest(f, "mappa_review_at", at)


def _sfo(f: Facts, d: Data, at: datetime) -> None:
    f["sfo"] += 1


def _transferred(f: Facts, d: Data, at: datetime) -> None:
    f["team"], f["pdu"] = d["team"], d["pdu"]


def _terminated(f: Facts, d: Data, at: datetime) -> None:
    f["status"] = "terminated"
    f["termination_reason"] = code(d["reason"])


REDUCERS: dict[str, Callable[[Facts, Data, datetime], None]] = {
    "Opened": _opened,
    "CourtReportPrepared": _court_report,
    "Allocated": _allocated,
    "EnquiryRequested": _enquiry_requested,
    "EnquiryResponded": _enquiry_responded,
    "InductionCompleted": _inducted,
    "RiskAssessed": _assessed,
    "RiskReviewCompleted": _reviewed,
    "RegistrationAdded": _registered,
    "RegistrationRemoved": _deregistered,
    "MappaLevelSet": _mappa,
    "SentencePlanAgreed": _planned,
    "AppointmentScheduled": _scheduled,
    "AppointmentOutcomeRecorded": _outcome,
    "EnforcementActionTaken": _enforced,
    "RecallDecided": _recall_decided,
    "ReferralMade": _referred,
    "ReferralOutcomeRecorded": _referral_outcome,
    "UnpaidWorkSessionRecorded": _unpaid_work,
    "SignificantEventReported": _significant_event,
    "OversightRecorded": _oversight,
    "SeriousFurtherOffenceNotified": _sfo,
    "Transferred": _transferred,
    "Terminated": _terminated,
}
