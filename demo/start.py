"""A demo case's first weeks: court work, allocation (and any transfer), induction, enquiries,
the risk assessment, registrations and MAPPA, and the sentence plan."""

from __future__ import annotations

from datetime import datetime, timedelta

from application import commands as c
from application.access import Actor
from demo.case import Draft, weighted
from domain.allocation import SUITABILITY_FLAGS, AllocationPolicy, required_training
from domain.vocabulary import (
    Agency,
    EnquiryStage,
    Need,
    RegistrationCode,
    ReportType,
    RoSH,
    Source,
)

REPORT_TYPES = ((ReportType.STANDARD, 0.3), (ReportType.SHORT_FORMAT, 0.5), (ReportType.ORAL, 0.2))
PROPOSALS = (
    "community order with unpaid work",
    "community order with rehabilitation activity days",
    "suspended sentence order with requirements",
    "community order with an accredited programme",
)
OBJECTIVES = (
    "find settled accommodation",
    "engage with drug and alcohol services",
    "complete the accredited programme",
    "find work or training",
    "manage debts and benefits",
    "keep away from the victim and keep to the restraining order",
    "build a support network away from offending peers",
    "attend mental health appointments",
)
CONTINGENCIES = (
    "if contact with the victim resumes: home visit within 48 hours and police liaison",
    "if drug use relapses: more frequent reporting and referral back to treatment",
    "if a missed appointment follows a risk indicator: same-day welfare check",
)
LOWER = {RoSH.VERY_HIGH: RoSH.HIGH, RoSH.HIGH: RoSH.MEDIUM, RoSH.MEDIUM: RoSH.LOW}
CHILD_CODES = {RegistrationCode.RCCO, RegistrationCode.RCPR}


def first_weeks(d: Draft) -> None:
    court_work(d)
    allocation(d)
    induction(d)
    assessment(d)
    registrations(d)
    sentence_plan(d)


def enquiry(
    d: Draft,
    asked: datetime,
    actor: Actor,
    agency: Agency,
    stage: EnquiryStage,
    answered: datetime | None,
) -> None:
    """An enquiry to another agency, and its answer if one comes (``answered``)."""
    enquiry_id = d.new_id("E")
    d.add(asked, actor, c.RequestEnquiry, enquiry_id=enquiry_id, agency=agency, stage=stage)
    if answered is None or d.chance(d.profile.enquiry_unanswered_rate):
        return
    answered = max(answered, asked + timedelta(minutes=30))
    concerns = d.chance(0.3)
    d.add(
        answered,
        actor if stage is EnquiryStage.COURT else d.worker(answered),
        c.RecordEnquiryResponse,
        enquiry_id=enquiry_id,
        concerns=concerns,
        summary="concerns shared: see the agency's letter" if concerns else "no information held",
    )


def court_work(d: Draft) -> None:
    """New orders: a pre-sentence report, and the enquiries made before it (or not)."""
    p, window, rng = d.profile, d.window, d.rng
    if not d.is_order or d.carried_in or not d.chance(p.court_report_rate):
        return
    day = window.workday(d.opened_at.date() - timedelta(days=rng.randint(7, 21)))
    if day < window.start or day >= d.opened_at.date():
        return
    report_at = window.office_hours(rng, day, first=11, last=15)
    officer = d.ctx.roster.court_officer(rng, d.team).actor
    made: dict[str, bool] = {}
    for agency, rate in (
        (Agency.POLICE_DOMESTIC_ABUSE, p.police_da_enquiry_rate),
        (Agency.CHILDRENS_SERVICES, p.childrens_services_enquiry_rate),
    ):
        made[agency.value] = d.chance(rate)
        if made[agency.value]:
            asked = report_at - timedelta(days=rng.randint(2, 5), hours=rng.randint(0, 2))
            if asked.date() < window.start:
                asked = report_at - timedelta(hours=3)
            enquiry(d, asked, officer, agency, EnquiryStage.COURT, asked + (report_at - asked) / 2)
    d.add(
        report_at,
        officer,
        c.PrepareCourtReport,
        report_type=weighted(rng, REPORT_TYPES),
        proposal=rng.choice(PROPOSALS),
        enquiries=made,
    )


def allocation(d: Draft) -> None:
    p = d.profile
    at = d.window.later(d.rng, d.opened_at, (0, 2))
    d.allocated_at = at
    suitability = d.chance(p.suitability_considered_rate)
    d.add(
        at,
        d.spo(at),
        c.AllocateCase,
        practitioner_id=d.practitioner.staff_id,
        training_considered=d.chance(p.training_considered_rate),
        suitability_considered=suitability,
        override_reason=override_reason(d, d.practitioner.training, suitability),
    )
    if d.transfer is not None:
        moved = d.transfer
        d.add(moved.at, d.spo(moved.at), c.TransferCase, team=moved.team, pdu=d.ctx.roster.pdu)
        later = moved.at + timedelta(minutes=30)
        d.add(
            later,
            d.spo(later),
            c.AllocateCase,
            practitioner_id=moved.practitioner.staff_id,
            training_considered=d.chance(p.training_considered_rate),
            suitability_considered=(suitable := d.chance(p.suitability_considered_rate)),
            override_reason=override_reason(d, moved.practitioner.training, suitable),
        )


def induction(d: Draft) -> None:
    """Within 5 working days of opening, mostly (licences on release day or the next)."""
    assert d.allocated_at is not None
    if d.chance(d.profile.induction_on_time_rate):
        n = d.rng.randint(0, 1) if not d.is_order else d.rng.randint(1, 5)
    else:
        n = d.rng.randint(6, 15)
    at = d.window.later(d.rng, d.opened_at, (n, n), first=10)
    if at <= d.allocated_at:
        at = d.allocated_at + timedelta(minutes=45)
    d.inducted_at = d.add(at, d.worker(at), c.CompleteInduction, key="induction")


def assessment(d: Draft) -> None:
    """The risk assessment, after enquiries to the police and children's services (or not):
    its sources are those whose answers arrived before it."""
    p, rng, window = d.profile, d.rng, d.window
    assert d.inducted_at is not None
    assert d.allocated_at is not None
    concern = d.domestic_abuse or bool(
        ({RegistrationCode.ADVP} | CHILD_CODES) & set(d.registrations)
    )
    use_police = d.chance(p.assessment_police_source_rate)
    use_children = d.chance(p.assessment_childrens_services_rate if concern else 0.15)
    offset = rng.randint(3, 12)
    d.facts["assessment_offset"] = offset
    at = window.later(rng, d.inducted_at, (offset, offset), first=13)
    asked = window.later(rng, d.allocated_at, (0, 2))
    before = asked + (at - asked) / 2
    after = window.later(rng, at, (3, 20))
    for agency, used, rate in (
        (Agency.POLICE_INTELLIGENCE, use_police, 0.35),
        (Agency.CHILDRENS_SERVICES, use_children, 0.30 if concern else 0.0),
        (Agency.POLICE_DOMESTIC_ABUSE, False, 0.50 if d.domestic_abuse else 0.0),
    ):
        if used:
            _answered_in_time(d, asked, agency, before)
        elif d.chance(rate):
            enquiry(d, asked, d.worker(asked), agency, EnquiryStage.ASSESSMENT, after)
    sources = [Source.PREVIOUS_CONVICTIONS]
    sources += [Source.POLICE] if use_police else []
    sources += [Source.CHILDRENS_SERVICES] if use_children else []
    sources += [] if d.is_order else [Source.PRISON]
    sources += [Source.HEALTH] if d.chance(0.2) else []
    needs = None
    if d.chance(p.assessment_needs_analysed_rate):
        needs = [
            Need(code)
            for code, rate in p.need_rates
            if (code != "WOS" or d.female) and d.chance(rate)
        ]
    d.needs = None if needs is None else [n.value for n in needs]
    children = RoSH.MEDIUM if CHILD_CODES & set(d.registrations) else RoSH.LOW
    d.assessed_at = d.add(
        at,
        d.worker(at),
        c.AssessRisk,
        rosh=d.rosh,
        rosh_by_group={
            "public": d.rosh,
            "known_adult": d.rosh if d.domestic_abuse else LOWER.get(d.rosh, RoSH.LOW),
            "children": children,
            "staff": RoSH.MEDIUM if RegistrationCode.AV2S in d.registrations else RoSH.LOW,
        },
        needs=needs,
        sources=sources,
        person_involved=d.chance(p.assessment_person_involved_rate),
    )
    if d.rosh.is_high or d.mappa is not None:
        d.anchors.append(at)


def _answered_in_time(d: Draft, asked: datetime, agency: Agency, answered: datetime) -> None:
    enquiry_id = d.new_id("E")
    actor = d.worker(asked)
    d.add(
        asked,
        actor,
        c.RequestEnquiry,
        enquiry_id=enquiry_id,
        agency=agency,
        stage=EnquiryStage.ASSESSMENT,
    )
    concerns = d.chance(0.35)
    d.add(
        max(answered, asked + timedelta(minutes=30)),
        d.worker(answered),
        c.RecordEnquiryResponse,
        enquiry_id=enquiry_id,
        concerns=concerns,
        summary="concerns shared: see the agency's letter" if concerns else "no information held",
    )


def registrations(d: Draft) -> None:
    """The flags the assessment found, MAPPA among them; some removed months later."""
    assert d.assessed_at is not None
    at = d.window.later(d.rng, d.assessed_at, (0, 2))
    for code in d.registrations:
        at += timedelta(minutes=10)
        d.add(at, d.worker(at), c.AddRegistration, code=code)
        if code is RegistrationCode.MAPP and d.mappa is not None:
            at += timedelta(minutes=5)
            category, level = d.mappa
            d.add(at, d.worker(at), c.SetMappaLevel, category=category, level=level)
            d.anchors.append(at)
        if code in d.removals:
            gone = d.window.later(d.rng, at, (40, 120))
            reason = (
                "child protection plan ended"
                if code is RegistrationCode.RCPR
                else "no concerns for three months"
            )
            d.add(gone, d.worker(gone), c.RemoveRegistration, code=code, reason=reason)
    d.facts["home_visit_required"] = d.domestic_abuse or bool(
        CHILD_CODES & (set(d.registrations) - d.removals)
    )


def sentence_plan(d: Draft) -> None:
    """Within 15 working days of induction, mostly; a contingency plan in a minority."""
    p, rng = d.profile, d.rng
    assert d.inducted_at is not None
    assert d.assessed_at is not None
    offset = int(d.facts["assessment_offset"])
    if d.chance(p.plan_on_time_rate):
        n = rng.randint(min(offset + 1, 15), 15)
    else:
        n = rng.randint(16, 35)
    at = d.window.later(rng, d.inducted_at, (n, n), first=10)
    if at <= d.assessed_at:
        at = d.assessed_at + timedelta(hours=1)
    objectives = (
        []
        if d.chance(p.plan_without_objectives_rate)
        else rng.sample(OBJECTIVES, rng.randint(1, 4))
    )
    d.planned_at = d.add(
        at,
        d.worker(at),
        c.AgreeSentencePlan,
        key="plan",
        objectives=objectives,
        person_involved=d.chance(p.plan_person_involved_rate),
        contingency_plan=rng.choice(CONTINGENCIES) if d.chance(p.contingency_plan_rate) else None,
    )


def override_reason(d: Draft, training: list[str], suitability_considered: bool) -> str | None:
    """The SPO's reason to allocate despite the guard (Sheffield's practice: untrained staff
    were allocated such cases); None where the guard has nothing to say about training or
    suitability. Capacity is left to the guard: the demo's caseloads stay under its limit."""
    flags = {flag.value for flag in d.flags}
    codes = flags | {code.value for code in d.registrations}  # some precede a reallocation
    missing = set(required_training(codes, AllocationPolicy())) - set(training)
    unsuitable = bool(flags & SUITABILITY_FLAGS) and not suitability_considered
    return "no practitioner with the training was free" if missing or unsuitable else None
