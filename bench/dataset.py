"""Bulk history for benchmarks: every event still decided by the Case aggregate."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from api.cli import rate_bar
from application.service import CaseTrail
from domain.case import Case, Meta
from domain.vocabulary import (
    AppointmentType,
    EnforcementAction,
    Outcome,
    OversightKind,
    RoSH,
    SentenceType,
)

EVENTS_PER_CASE = 10
PDU_CASES = 1820  # Sheffield's size: the national store is PDUs of this size
TEAMS_PER_PDU = 10


def place(n: int) -> tuple[str, str]:
    """Case n's PDU and team: SHF (teams T0..T9) first, then PDUs P001, P002, ... like it."""
    index = n // PDU_CASES
    pdu = "SHF" if index == 0 else f"P{index:03d}"
    prefix = "" if index == 0 else f"{pdu}-"
    return pdu, f"{prefix}T{n % TEAMS_PER_PDU}"


def _meta(when: datetime, now: datetime) -> Meta:
    return Meta(actor_id="bench", command_id=uuid4(), occurred_at=when, now=now)


def build_case(rng: random.Random, n: int, now: datetime) -> Case:
    """One case of exactly EVENTS_PER_CASE events, decided through the aggregate."""
    pdu, team = place(n)
    opened = now - timedelta(days=rng.randint(30, 300))
    case = Case.open(
        meta=_meta(opened, now),
        crn=f"X{n:06d}",
        person={"name": f"Person {n}"},
        sentence_type=rng.choice(list(SentenceType)),
        start_date=date(2026, 1, 1),
        expected_end_date=date(2027, 1, 1),
        pdu=pdu,
        team=team,
        requirements={},
        licence_conditions=[],
        offence_flags=[],
    )
    step = opened
    for _ in range(2):
        step += timedelta(days=1)
        case.allocate(
            _meta(step, now),
            practitioner_id=f"P{rng.randint(1, 148)}",
            training_considered=True,
            suitability_considered=True,
        )
    step += timedelta(days=1)
    case.complete_induction(_meta(step, now))
    case.assess_risk(
        _meta(step, now),
        rosh=rng.choice(list(RoSH)),
        rosh_by_group={},
        needs=[],
        sources=[],
        person_involved=True,
    )
    case.schedule_appointment(
        _meta(step, now),
        appointment_id="a1",
        type=AppointmentType.COAP,
        starts_at=step,
        national_standard=True,
    )
    case.record_outcome(_meta(step, now), appointment_id="a1", outcome=Outcome.UAAB, notes="")
    case.take_enforcement_action(
        _meta(step, now),
        action=EnforcementAction.EA02,
        appointment_ids=["a1"],
        reason="first warning",
    )
    case.record_oversight(_meta(step, now), kind=OversightKind.ROUTINE, note="")
    _, to_team = place(n - n % TEAMS_PER_PDU + rng.randrange(TEAMS_PER_PDU))
    case.transfer(_meta(step, now), team=to_team, pdu=pdu)
    return case


def populate(app: CaseTrail, events: int, *, seed: int = 1, per_save: int = 50) -> int:
    """Save about ``events`` events (EVENTS_PER_CASE per case), many cases per transaction
    (the bulk mode: each event is still decided by the aggregate's rules)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    cases = events // EVENTS_PER_CASE
    with rate_bar("populate", "cases", cases) as update:
        for start in range(0, cases, per_save):
            end = min(start + per_save, cases)
            app.save(*[build_case(rng, n, now) for n in range(start, end)])
            update(end, cases)
    return app.recorder.max_notification_id() or 0
