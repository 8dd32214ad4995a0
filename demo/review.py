"""A demo case's reviewing and oversight: significant events and the risk reviews after them,
scheduled reviews, serious further offences, SPO oversight, and a few corrections."""

from __future__ import annotations

from datetime import timedelta

from application import commands as c
from demo.case import RISING, Draft, Ref, weighted
from demo.start import LOWER
from domain.vocabulary import OversightKind, SignificantEventKind

EVENT_KINDS = (
    (SignificantEventKind.ARREST, 0.30),
    (SignificantEventKind.FURTHER_OFFENCE_CHARGED, 0.15),
    (SignificantEventKind.CHANGE_OF_ADDRESS, 0.25),
    (SignificantEventKind.RELATIONSHIP_CHANGE, 0.20),
    (SignificantEventKind.LICENCE_CONDITION_BREACHED, 0.10),
)
LAPSES: tuple[tuple[tuple[int, int] | None, bool], ...] = (
    ((7, 20), True),
    ((1, 5), False),
    (None, False),
)
RAISING = {
    SignificantEventKind.ARREST,
    SignificantEventKind.FURTHER_OFFENCE_CHARGED,
    SignificantEventKind.RELATIONSHIP_CHANGE,
}
DETAILS = {
    SignificantEventKind.ARREST: "arrested on suspicion of assault; released under investigation",
    SignificantEventKind.FURTHER_OFFENCE_CHARGED: "charged with a further offence",
    SignificantEventKind.CHANGE_OF_ADDRESS: "moved to a new address without notice",
    SignificantEventKind.RELATIONSHIP_CHANGE: "new intimate relationship disclosed",
    SignificantEventKind.LICENCE_CONDITION_BREACHED: "exclusion zone entered",
}


def reviewing(d: Draft) -> None:
    """Planned before supervision, which needs to know whether the RoSH rose."""
    significant_events(d)
    scheduled_review(d)


def overseeing(d: Draft) -> None:
    """Planned last: oversight follows the risk anchors, corrections the failures."""
    oversight(d)
    corrections(d)


def significant_events(d: Draft) -> None:
    """Some cases have one or two; a timely review informed by other agencies' intelligence
    follows about half of them. Arrests, charges and new relationships may raise the RoSH."""
    p, rng, window = d.profile, d.rng, d.window
    if d.inducted_at is None:
        return
    first = d.inducted_at + timedelta(days=14)
    span = (d.stop_at - first).days
    if span < 1:
        return
    rosh = d.rosh
    days = sorted(rng.randint(0, span - 1) for _ in range(weighted(rng, p.significant_event_mix)))
    for n, offset in enumerate(days, 1):
        kind = weighted(rng, EVENT_KINDS)
        if kind is SignificantEventKind.LICENCE_CONDITION_BREACHED and d.is_order:
            kind = SignificantEventKind.CHANGE_OF_ADDRESS
        at = window.office_hours(rng, window.workday(first.date() + timedelta(days=offset)))
        key = f"event:{n}"
        d.add(at, d.worker(at), c.ReportSignificantEvent, key=key, kind=kind, details=DETAILS[kind])
        raised = RISING.get(rosh) if kind in RAISING and d.chance(p.escalation_rate) else None
        when: tuple[int, int] | None = (0, 5)
        informed = True
        if rng.random() >= p.review_on_time_informed_rate:  # late, uninformed, or none at all
            when, informed = rng.choice(LAPSES)
        if when is not None:
            reviewed = window.later(rng, at, when)
            changed = d.chance(p.plan_changed_rate if raised else 0.2)
            d.add(
                reviewed,
                d.worker(reviewed),
                c.CompleteRiskReview,
                significant_event_version=Ref(key),
                informed_by_intelligence=informed,
                plan_changed=changed,
                rosh=raised,
            )
            if raised is not None:
                rosh = raised
                d.anchors.append(reviewed)
                d.facts["escalated"] = True
        if kind is SignificantEventKind.FURTHER_OFFENCE_CHARGED and d.chance(p.sfo_rate):
            notified = window.later(rng, at, (5, 20))
            d.add(
                notified,
                d.spo(notified),
                c.NotifySeriousFurtherOffence,
                offence="serious further offence: wounding with intent",
                charged_on=at.date(),
            )
    d.facts["rosh"] = rosh


def scheduled_review(d: Draft) -> None:
    """Six months after the assessment, half the cases still open get a scheduled review."""
    p, rng, window = d.profile, d.rng, d.window
    if d.assessed_at is None or not d.chance(p.scheduled_review_rate):
        return
    day = window.workday(d.assessed_at.date() + timedelta(days=182 + rng.randint(0, 20)))
    at = window.office_hours(rng, day)
    if at >= d.stop_at:
        return
    current = d.facts.get("rosh", d.rosh)
    lowered = LOWER.get(current) if d.chance(0.15) else None
    d.add(
        at,
        d.worker(at),
        c.CompleteRiskReview,
        significant_event_version=None,
        informed_by_intelligence=d.chance(0.6),
        plan_changed=d.chance(0.5) if lowered else False,
        rosh=lowered,
    )


def oversight(d: Draft) -> None:
    """SPO oversight: sufficient on about 1 in 12 high-RoSH or MAPPA cases (after each risk
    escalation, then routinely); at allocation only, or never, on the rest; a quarter of
    other cases get some. MAPPA level 1 cases get no level-1 review (no framework)."""
    p, rng, window = d.profile, d.rng, d.window
    if d.allocated_at is None:
        return
    in_scope = d.rosh.is_high or d.mappa is not None or bool(d.facts.get("escalated"))
    if in_scope and d.anchors and d.attentive:
        for anchor in d.anchors:
            at = window.later(rng, anchor, (0, 4))
            d.add(at, d.spo(at), c.RecordOversight, kind=OversightKind.RISK, note="risk reviewed")
        at = window.later(rng, max(d.anchors), (55, 62))
        while at < d.stop_at:
            note = "routine supervision review"
            d.add(at, d.spo(at), c.RecordOversight, kind=OversightKind.ROUTINE, note=note)
            at = window.later(rng, at, (55, 62))
    elif d.chance(p.high_rosh_allocation_oversight_rate if in_scope else p.other_oversight_rate):
        at = window.later(rng, d.allocated_at, (0, 2))
        kind = OversightKind.ALLOCATION
        if not in_scope and d.chance(0.5):
            at, kind = window.later(rng, d.allocated_at, (40, 80)), OversightKind.ROUTINE
        d.add(at, d.spo(at), c.RecordOversight, kind=kind, note="allocation and plan agreed")
    if (
        d.mappa is not None
        and d.mappa[1] == 1
        and d.anchors
        and d.chance(p.mappa_level1_review_rate)
    ):
        at = window.later(rng, max(d.anchors), (55, 62))
        note = "MAPPA level 1 review"
        d.add(at, d.spo(at), c.RecordOversight, kind=OversightKind.MAPPA_LEVEL1_REVIEW, note=note)


def corrections(d: Draft) -> None:
    """A few mistakes put right: a failure that was an acceptable absence after all, an
    induction entered on the wrong day, a plan that did involve the person."""
    rng, window = d.rng, d.window
    if not d.chance(d.profile.correction_rate):
        return
    uncited = sorted(
        (at, a) for a, (at, cited) in d.failures.items() if not cited and at < d.stop_at
    )
    if uncited:
        failed, appointment_id = rng.choice(uncited)
        at = window.later(rng, failed, (2, 5))
        d.add(
            at,
            d.worker(at),
            c.CorrectEvent,
            corrects_version=Ref(f"outcome:{appointment_id}"),
            reason="medical certificate received after the appointment",
            replacement={"outcome": "AAME"},
        )
        return
    inducted = d.inducted_at
    if inducted is not None and inducted < d.stop_at and inducted - timedelta(days=1) > d.opened_at:
        at = window.later(rng, inducted, (1, 5))
        d.add(
            at,
            d.worker(at),
            c.CorrectEvent,
            corrects_version=Ref("induction"),
            reason="induction date entered wrongly",
            replacement={"occurred_at": (inducted - timedelta(days=1)).isoformat()},
        )
        return
    if d.planned_at is not None and d.planned_at < d.stop_at:
        at = window.later(rng, d.planned_at, (1, 5))
        d.add(
            at,
            d.worker(at),
            c.CorrectEvent,
            corrects_version=Ref("plan"),
            reason="the person took part in the plan; recorded wrongly",
            replacement={"person_involved": True},
        )
