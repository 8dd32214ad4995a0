"""A demo case's supervision: appointments and outcomes, enforcement and recalls, unpaid work,
and referrals to rehabilitative services."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

from application import commands as c
from demo.case import Draft, months_after, weighted
from domain.vocabulary import (
    AppointmentType,
    EnforcementAction,
    Outcome,
    OversightKind,
    RecallDecision,
    RecallReason,
    ReferralOutcome,
    RoSH,
    Service,
    TerminationReason,
)

KINDS = (
    (AppointmentType.COAP, 0.75),
    (AppointmentType.COPT, 0.15),
    (AppointmentType.COVC, 0.06),
    (AppointmentType.CHVS, 0.04),
)
OFFICE_KINDS = KINDS[:3]  # where a home visit is due, one is planned deliberately or not at all
FAILURES = ((Outcome.UAAB, 0.45), (Outcome.AFTA, 0.40), (Outcome.AFTC, 0.15))
ABSENCES = ((Outcome.AAME, 0.45), (Outcome.AAEM, 0.20), (Outcome.AAFC, 0.20), (Outcome.AACL, 0.15))
NOTES = {
    Outcome.ATTC: "attended; progress against the plan discussed",
    Outcome.AFTC: "attended but refused to engage with the session",
    Outcome.UAAB: "did not attend; no explanation given",
    Outcome.AFTA: "failed to attend; contact attempts unanswered",
}
CRS_ENDINGS = (
    (ReferralOutcome.COMPLETED, 0.55),
    (ReferralOutcome.WITHDRAWN, 0.20),
    (ReferralOutcome.TERMINATED, 0.25),
)
PROGRAMME_ENDINGS = (
    (ReferralOutcome.COMPLETED, 0.60),
    (ReferralOutcome.TERMINATED, 0.30),
    (ReferralOutcome.WITHDRAWN, 0.10),
)


def supervision(d: Draft) -> None:
    appointments(d)
    unpaid_work(d)
    referrals(d)


# -- appointments and enforcement ------------------------------------------------------------


def appointments(d: Draft) -> None:
    """Weekly, then fortnightly, then monthly for lower risk; each booked at the last one.
    A home visit where one is required in about half the cases (the inspection's finding)."""
    p, rng, window = d.profile, d.rng, d.window
    assert d.inducted_at is not None
    failure_rate = weighted(rng, p.engagement_mix)
    enforcement = "none"
    if d.chance(p.enforcement_rate):
        enforcement = "late" if d.chance(p.late_enforcement_share) else "prompt"
    required = bool(d.facts.get("home_visit_required"))
    visit_at: int | None = None  # which appointment is the home visit
    late_visit = False
    if required and d.chance(p.home_visit_rate):
        visit_at = 2
    elif required:
        late_visit = d.chance(p.late_home_visit_rate)
    booked = d.inducted_at + timedelta(minutes=20)
    day = window.add_workdays(d.inducted_at.date(), rng.randint(2, 5))
    number, warnings = 0, 0
    while booked < d.stop_at:
        starts = window.office_hours(rng, day)
        while starts <= booked:
            day = window.add_workdays(day, 1)
            starts = window.office_hours(rng, day)
        if d.end_at is not None and starts >= d.end_at:
            break
        number += 1
        home_visit = number == visit_at
        if late_visit and (day - d.inducted_at.date()).days > 40:
            home_visit, late_visit = True, False
        kind = (
            AppointmentType.CHVS
            if home_visit
            else weighted(rng, OFFICE_KINDS if required else KINDS)
        )
        appointment_id = d.new_id("A")
        d.add(
            booked,
            d.worker(booked),
            c.ScheduleAppointment,
            appointment_id=appointment_id,
            type=kind,
            starts_at=starts,
            national_standard=d.chance(p.national_standard_rate),
        )
        if starts >= window.horizon:
            break  # still to come
        outcome = Outcome.ATTC if home_visit else _outcome(d, failure_rate)
        if d.chance(0.9):
            recorded = starts + timedelta(minutes=rng.randint(45, 150))
        else:
            recorded = window.later(rng, starts, (1, 3))
        d.add(
            recorded,
            d.worker(recorded),
            c.RecordOutcome,
            key=f"outcome:{appointment_id}",
            appointment_id=appointment_id,
            outcome=outcome,
            notes=NOTES.get(outcome, "acceptable absence: evidence seen"),
        )
        if outcome.is_failure:
            warnings = _enforce(d, appointment_id, recorded, warnings, enforcement)
        if d.recalled_at is not None:
            break
        booked = recorded + timedelta(minutes=10)
        day = window.add_workdays(starts.date(), _interval(d, starts))


def _outcome(d: Draft, failure_rate: float) -> Outcome:
    draw = d.rng.random()
    if draw < failure_rate:
        return weighted(d.rng, FAILURES)
    if draw < failure_rate + d.profile.acceptable_absence_rate:
        return weighted(d.rng, ABSENCES)
    return Outcome.ATTC


def _interval(d: Draft, starts: datetime) -> int:
    """Working days to the next appointment."""
    assert d.inducted_at is not None
    weeks = (starts - d.inducted_at).days / 7
    if weeks < 12:
        return 10 if d.rosh is RoSH.LOW else 5
    if weeks < 26 or d.rosh.is_high:
        return 10
    return 20


def _enforce(d: Draft, appointment_id: str, failed: datetime, warnings: int, style: str) -> int:
    """Enforcement after a failure (``style``: prompt, late, none): a warning, then breach on
    orders or recall on licences. Returns the warnings given so far."""
    p, rng, window = d.profile, d.rng, d.window
    d.failures[appointment_id] = (failed, style != "none")
    if style == "none":
        return warnings
    at = window.later(rng, failed, (0, 3) if style == "prompt" else (7, 15))
    if warnings == 0 and d.chance(p.nfa_rate):
        action, reason = EnforcementAction.NFA, "explanation accepted; evidence to follow"
    elif warnings == 0:
        action, reason = EnforcementAction.EA02, "first warning letter"
    elif warnings == 1 and d.chance(0.3 if d.is_order else 0.5):
        action, reason = EnforcementAction.EA03, "second warning letter"
    elif d.is_order:
        action, reason = EnforcementAction.BRE, "second unacceptable failure within 12 months"
    else:
        action, reason = EnforcementAction.EA11, "licence conditions breached; risk increasing"
    d.add(
        at,
        d.worker(at),
        c.TakeEnforcementAction,
        action=action,
        appointment_ids=[appointment_id],
        reason=reason,
    )
    if action is EnforcementAction.NFA:
        return warnings
    if action is EnforcementAction.BRE:
        if _overseen(d):
            seen = window.later(rng, at, (0, 2))
            d.add(
                seen,
                d.spo(seen),
                c.RecordOversight,
                kind=OversightKind.ENFORCEMENT,
                note="breach reviewed",
            )
        if d.chance(p.breach_termination_rate):
            d.end(window.later(rng, at, (20, 40)), TerminationReason.BREACHED)
        return 0
    if action is EnforcementAction.EA11:
        _recall(d, at)
        return 1
    return warnings + 1


def _overseen(d: Draft) -> bool:
    """Whether the SPO records oversight of a breach or recall: on high-RoSH and MAPPA cases
    only where this SPO oversees the case well (the inspection's 1 in 12)."""
    if d.rosh.is_high or d.mappa is not None or d.facts.get("escalated"):
        return d.attentive
    return d.chance(d.profile.enforcement_oversight_rate)


def _recall(d: Draft, requested: datetime) -> None:
    """The SPO decides, mostly within 24 hours; a recalled licence ends soon after."""
    p, rng = d.profile, d.rng
    hours = rng.randint(2, 20) if d.chance(p.recall_on_time_rate) else rng.randint(26, 72)
    at = requested + timedelta(hours=hours)
    decision = RecallDecision(weighted(rng, p.recall_mix))
    reasons = [RecallReason.CONTACT_STOPPED]
    if d.chance(0.5):
        reasons.append(RecallReason.RISK_INCREASED)
    d.add(at, d.spo(at), c.DecideRecall, decision=decision, reasons=reasons)
    if _overseen(d):
        seen = at + timedelta(minutes=20)
        d.add(
            seen, d.spo(seen), c.RecordOversight, kind=OversightKind.RECALL, note="recall reviewed"
        )
    if decision is not RecallDecision.NO_RECALL:
        d.recalled_at = at
        d.end(d.window.later(rng, at, (5, 10)), TerminationReason.REVOKED)


# -- unpaid work -----------------------------------------------------------------------------


def unpaid_work(d: Draft) -> None:
    """Seven-hour sessions, paced to finish within 12 months of the start in about half the
    orders (the inspection's 48%); the others slower, some stopping for good."""
    p, rng, window = d.profile, d.rng, d.window
    hours = int(d.requirements.get("unpaid_work_hours") or 0)
    if not hours or d.inducted_at is None:
        return
    on_time = d.chance(p.unpaid_work_on_time_rate)
    first = window.later(rng, d.inducted_at, (5, 15))
    sessions = math.ceil(hours / 7)
    deadline = months_after(d.start_date, rng.uniform(4, 11.5) if on_time else rng.uniform(13, 20))
    gap = max(2.0, (deadline - first.date()).days / (sessions / p.unpaid_work_attendance_rate))
    stall = rng.randint(1, sessions) if not on_time and d.chance(p.unpaid_work_stall_rate) else None
    worked, held, at = 0, 0, first
    while worked < hours and at < d.stop_at and (stall is None or held < stall):
        attended = d.chance(p.unpaid_work_attendance_rate)
        done = min(7, hours - worked) if attended else 0
        worked += done
        d.add(at, d.worker(at), c.RecordUnpaidWorkSession, hours=Decimal(done), attended=attended)
        held += 1
        day = window.workday(first.date() + timedelta(days=round(held * gap)))
        after = window.office_hours(rng, day, first=15, last=16)
        at = after if after > at else at + timedelta(days=1)


# -- referrals -------------------------------------------------------------------------------


def referrals(d: Draft) -> None:
    """Few of the needs identified are referred (the inspection's low CRS referrals); an
    accredited programme where the order requires one."""
    if d.planned_at is None:
        return
    for need in d.needs or []:
        if d.chance(d.profile.crs_referral_rate):
            _referral(d, Service(need), f"{need}: referred after the sentence plan", False)
    programme = d.requirements.get("accredited_programme")
    if programme and d.chance(0.9):
        _referral(d, Service.ACCREDITED_PROGRAMME, str(programme), True)


def _referral(d: Draft, service: Service, need: str, programme: bool) -> None:
    rng, window = d.rng, d.window
    assert d.planned_at is not None
    at = window.later(rng, d.planned_at, (1, 10))
    referral_id = d.new_id("R")
    d.add(at, d.worker(at), c.MakeReferral, referral_id=referral_id, service=service, need=need)
    if d.chance(0.1):
        gone = window.later(rng, at, (5, 20))
        outcome = ReferralOutcome.WITHDRAWN
        d.add(
            gone, d.worker(gone), c.RecordReferralOutcome, referral_id=referral_id, outcome=outcome
        )
        return
    started = window.later(rng, at, (20, 50) if programme else (10, 20))
    d.add(
        started,
        d.worker(started),
        c.RecordReferralOutcome,
        referral_id=referral_id,
        outcome=ReferralOutcome.STARTED,
    )
    ended = window.later(rng, started, (60, 130) if programme else (40, 80))
    final = weighted(rng, PROGRAMME_ENDINGS if programme else CRS_ENDINGS)
    d.add(ended, d.worker(ended), c.RecordReferralOutcome, referral_id=referral_id, outcome=final)
