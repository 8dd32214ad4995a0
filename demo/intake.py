"""What a demo case is: sentence, dates, person, offences, risk, registrations to come, team
and practitioner, how it ends, and whether it moves team. Decided before any step."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from demo.case import RISING, Context, Draft, Transfer, months_after, weighted
from demo.staff import person_name
from demo.window import DAYS_PER_MONTH
from domain.vocabulary import (
    OffenceFlag,
    RegistrationCode,
    RoSH,
    SentenceType,
    TerminationReason,
)

MONTHS = {
    SentenceType.COMMUNITY_ORDER: ((12, 0.5), (18, 0.3), (24, 0.2)),
    SentenceType.SUSPENDED_SENTENCE_ORDER: ((12, 0.4), (18, 0.4), (24, 0.2)),
    SentenceType.POST_SENTENCE_SUPERVISION: ((12, 1.0),),
}
PROGRAMMES = ("Building Better Relationships", "Building Choices", "Thinking Skills Programme")
# Sheffield's caseload: 22% from Black, Asian and minority ethnic groups (HMIP, 2023).
ETHNICITIES = (
    ("White British", 0.74),
    ("Asian or Asian British", 0.10),
    ("Black or Black British", 0.06),
    ("Mixed", 0.04),
    ("White other", 0.04),
    ("Other", 0.02),
)
ETHNIC_GROUPS = {
    "White British": "white",
    "White other": "white",
    "Asian or Asian British": "asian",
    "Black or Black British": "black",
    "Mixed": "mixed",
    "Other": "other",
}


def decide(ctx: Context, index: int) -> Draft:
    """What the case is: sentence, dates, person, offences, risk, team and practitioner."""
    rng, profile, window = ctx.rng, ctx.profile, ctx.window
    sentence = weighted(rng, profile.sentence_mix)
    carried_in = rng.random() < profile.carried_in_share
    if carried_in:
        open_day = window.day(rng.uniform(0, min(42, window.days / 4)))
    else:
        open_day = _open_day(ctx, min(21.0, window.days / 3))
    opened_at = window.office_hours(rng, open_day, first=8, last=10)
    months = (
        rng.randint(3, 30) if sentence is SentenceType.LICENCE else weighted(rng, MONTHS[sentence])
    )
    start = open_day
    if carried_in:  # begun up to a year before, with at least two months still to run
        begun = rng.randint(30, max(30, min(365, round(months * DAYS_PER_MONTH) - 60)))
        start = open_day - timedelta(days=begun)
    flags = {OffenceFlag(name) for name, rate in profile.offence_flag_rates if rng.random() < rate}
    female = rng.random() < profile.female_share
    rosh = weighted(rng, profile.rosh_mix)
    if OffenceFlag.SEXUAL in flags and rosh in (RoSH.LOW, RoSH.MEDIUM):
        rosh = RoSH.HIGH if rng.random() < 0.5 else RoSH.MEDIUM
    if not sentence.is_order and rng.random() < 0.3:
        rosh = RISING.get(rosh, rosh)
    registrations, removals, mappa = _registrations(ctx, sentence, flags, rosh)
    complex_case = rosh.is_high or mappa is not None or OffenceFlag.SEXUAL in flags
    team = rng.choice(ctx.roster.teams)
    practitioner = ctx.roster.allocate(rng, team, complex_case=complex_case)
    requirements: dict[str, Any] = {}
    if sentence.is_order:
        programme = None
        if rng.random() < profile.accredited_programme_rate:
            programme = PROGRAMMES[0] if OffenceFlag.DOMESTIC_ABUSE in flags else PROGRAMMES[1]
        requirements = {
            "unpaid_work_hours": rng.choice((40, 60, 80, 100, 120, 150, 200, 250, 300))
            if rng.random() < profile.unpaid_work_rate
            else 0,
            "rar_days": rng.choice((5, 10, 15, 20, 30, 40))
            if rng.random() < profile.rar_rate
            else 0,
            "accredited_programme": programme,
        }
    conditions = ["reside at an approved address", "report as instructed"]
    if OffenceFlag.DOMESTIC_ABUSE in flags:
        conditions.append("no contact with the victim")
    age = rng.randint(18, 62)
    d = Draft(
        ctx=ctx,
        index=index,
        sentence=sentence,
        carried_in=carried_in,
        team=team,
        opened_at=opened_at,
        start_date=start,
        end_date=months_after(start, months),
        flags=flags,
        female=female,
        rosh=rosh,
        registrations=registrations,
        removals=removals,
        mappa=mappa,
        practitioner=practitioner,
        crn=ctx.crn(),
        person={
            "name": person_name(rng),
            "date_of_birth": start - timedelta(days=round(age * 365.25) + rng.randint(0, 364)),
            "gender": "female" if female else "male",
            "ethnicity": (ethnicity := weighted(rng, ETHNICITIES)),
            "ethnic_group": ETHNIC_GROUPS[ethnicity],
            "sex": "female" if female else "male",
        },
        requirements=requirements,
        licence_conditions=[] if sentence.is_order else conditions,
    )
    d.attentive = rng.random() < profile.high_rosh_oversight_rate
    _endings(d)
    if d.stop_at >= window.horizon:  # expected to be active at the end: counts for balance
        ctx.roster.planned[practitioner.staff_id] += 1
    _transfer(d)
    return d


def _open_day(ctx: Context, earliest: float) -> date:
    window = ctx.window
    for _ in range(20):
        day = window.day(ctx.rng.uniform(earliest, window.days - 1))
        if day < window.end:
            return day
    return window.workday(window.start)


def _registrations(
    ctx: Context, sentence: SentenceType, flags: set[OffenceFlag], rosh: RoSH
) -> tuple[list[RegistrationCode], set[RegistrationCode], tuple[int, int] | None]:
    rng, p = ctx.rng, ctx.profile
    da = OffenceFlag.DOMESTIC_ABUSE in flags
    codes: list[RegistrationCode] = []
    rates = (
        (RegistrationCode.ADVP, p.advp_rate if da else 0.0),
        (RegistrationCode.RCCO, p.rcco_rate_domestic_abuse if da else p.rcco_rate),
        (RegistrationCode.RCPR, p.rcpr_rate_domestic_abuse if da else p.rcpr_rate),
        (RegistrationCode.ALSH, p.alsh_rate),
        (RegistrationCode.AV2S, p.av2s_rate),
    )
    codes = [code for code, rate in rates if rng.random() < rate]
    removable = {RegistrationCode.RCPR, RegistrationCode.ALSH}
    removals = {c for c in codes if c in removable and rng.random() < p.registration_removal_rate}
    category = None
    if OffenceFlag.SEXUAL in flags:
        category = 1
    elif not sentence.is_order and OffenceFlag.VIOLENCE in flags and rosh.is_high:
        category = 2 if rng.random() < p.mappa_violent_licence_rate else None
    elif rosh is RoSH.VERY_HIGH and rng.random() < p.mappa_very_high_rate:
        category = 3
    mappa = None
    if category is not None:
        codes.append(RegistrationCode.MAPP)
        mappa = (category, weighted(rng, p.mappa_level_mix))
    return codes, removals, mappa


def _endings(d: Draft) -> None:
    """Natural completion, death, early revocation: whichever comes first in the window."""
    window, rng = d.window, d.rng
    end_day = window.workday(d.end_date)
    if end_day < window.end:
        d.end(window.office_hours(rng, end_day, first=14), TerminationReason.COMPLETED)
    span = max(1, (min(end_day, window.end) - d.opened_at.date()).days)
    if d.chance(d.profile.died_rate):
        day = window.workday(d.opened_at.date() + timedelta(days=rng.randint(1, span)))
        d.end(window.office_hours(rng, day), TerminationReason.DIED)
    if d.is_order and d.chance(d.profile.early_revocation_rate):
        day = window.workday(d.opened_at.date() + timedelta(days=span // 2 + rng.randint(0, span)))
        d.end(window.office_hours(rng, day), TerminationReason.REVOKED)


def _transfer(d: Draft) -> None:
    """A few cases move to another team of the PDU, and a practitioner there."""
    roster, rng = d.ctx.roster, d.rng
    if len(roster.teams) < 2 or not d.chance(d.profile.transfer_rate):
        return
    first = d.opened_at.date() + timedelta(days=30)
    last = d.stop_at.date() - timedelta(days=10)
    if last <= first:
        return
    day = d.window.workday(first + timedelta(days=rng.randint(0, (last - first).days)))
    team = rng.choice([t for t in roster.teams if t != d.team])
    complex_case = d.rosh.is_high or d.mappa is not None
    practitioner = roster.allocate(rng, team, complex_case=complex_case)
    if d.stop_at >= d.window.horizon:
        roster.planned[d.practitioner.staff_id] -= 1
        roster.planned[practitioner.staff_id] += 1
    d.transfer = Transfer(d.window.office_hours(rng, day), team, practitioner)
