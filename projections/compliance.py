"""Compliance rates over a scope (PDU, team, practitioner; cases opened in a date range).

Every rate is one SUM over the oversight read model's case rows, all in one query; each comes
with its numerator, denominator and the definition it was computed by, so a number can be
checked. Thresholds and "now" are applied here, at query time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from projections import rollups
from projections.base import Generation
from projections.business_days import passed_cutoff, passed_month_cutoff
from projections.oversight_rules import Thresholds
from projections.schema import oversight_cases

t = oversight_cases
Expression = sa.ColumnElement[Any]


@dataclass(frozen=True)
class IndicatorScope:
    """Which cases a rate or indicator counts: all conditions given must hold."""

    teams: frozenset[str] | None = None  # the reader's reach: teams or PDUs (None and None:
    pdus: frozenset[str] | None = None  # every case, for auditors)
    pdu: str | None = None
    team: str | None = None
    practitioner_id: str | None = None
    opened_from: date | None = None  # the case opened (London date) on or after
    opened_to: date | None = None  # ... and on or before

    def conditions(self, generation: Generation) -> list[Expression]:
        found: list[Expression] = list(rollups.team_conditions(t, generation, self))
        if self.practitioner_id is not None:
            found.append(t.c.practitioner_id == self.practitioner_id)
        if self.opened_from is not None:
            found.append(t.c.opened_on >= self.opened_from)
        if self.opened_to is not None:
            found.append(t.c.opened_on <= self.opened_to)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "pdu": self.pdu,
            "team": self.team,
            "practitioner_id": self.practitioner_id,
            "teams": None if self.teams is None else sorted(self.teams),
            "pdus": None if self.pdus is None else sorted(self.pdus),
            "from": self.opened_from,
            "to": self.opened_to,
        }


def count(condition: Expression) -> Expression:
    """How many rows meet ``condition`` (0 over no rows): an aggregate FILTER, which both
    databases evaluate without a CASE per row."""
    return sa.func.count().filter(condition)


def total(column: sa.Column[Any]) -> Expression:
    return sa.func.coalesce(sa.func.sum(column), 0)


def percent(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(100 * numerator / denominator, 1)


@dataclass(frozen=True)
class RateSpec:
    name: str
    numerator: Expression
    denominator: Expression
    definition: str


def rate_specs(thresholds: Thresholds, now: datetime) -> list[RateSpec]:
    """Every rate, with the thresholds and the deadlines over at ``now`` filled in."""
    th = thresholds
    enforcement = passed_cutoff(now, th.enforcement_decision_days)
    induction = passed_cutoff(now, th.induction_days)
    plan = passed_cutoff(now, th.sentence_plan_days)
    visit = passed_cutoff(now, th.home_visit_days)
    months = th.unpaid_work_completion_months
    unpaid = passed_month_cutoff(now, months)
    failed_long_ago = t.c.first_failure_on <= enforcement
    inducted = t.c.inducted_on.is_not(None)
    spec = RateSpec
    return [
        spec(
            "attendance",
            total(t.c.ns_attended),
            total(t.c.ns_countable),
            "National-standard appointments attended (ATTC, AFTC) ÷ national-standard "
            "appointments with an outcome other than an acceptable absence (AA*).",
        ),
        spec(
            "enforcement_where_required",
            count(
                sa.and_(
                    failed_long_ago,
                    sa.or_(t.c.first_uncited_on.is_(None), t.c.first_uncited_on > enforcement),
                )
            ),
            count(failed_long_ago),
            "Cases whose every unacceptable failure (UAAB, AFTA, AFTC) older than "
            f"{th.enforcement_decision_days} business days is cited by an enforcement action "
            "(NFA included) ÷ cases with at least one such failure.",
        ),
        spec(
            "oversight_of_high_risk",
            count(sa.and_(t.c.rosh_high, t.c.high_oversight)),
            count(t.c.rosh_high),
            "Cases now at high or very-high RoSH with SPO oversight recorded at or after their "
            "latest high or very-high assessment (or review) ÷ cases now at high or very-high "
            "RoSH.",
        ),
        spec(
            "induction_on_time",
            count(t.c.induction_bd <= th.induction_days),
            count(sa.or_(t.c.induction_bd.is_not(None), t.c.opened_on <= induction)),
            f"Cases inducted within {th.induction_days} business days of opening ÷ cases "
            "inducted or whose induction deadline has passed.",
        ),
        spec(
            "sentence_plan_on_time",
            count(t.c.plan_bd <= th.sentence_plan_days),
            count(sa.and_(inducted, sa.or_(t.c.plan_bd.is_not(None), t.c.inducted_on <= plan))),
            f"Inducted cases with a sentence plan agreed within {th.sentence_plan_days} "
            "business days of induction ÷ inducted cases with a plan or whose plan deadline "
            "has passed.",
        ),
        spec(
            "unpaid_work_attendance",
            total(t.c.uw_attended),
            total(t.c.uw_sessions),
            "Unpaid work sessions attended ÷ unpaid work sessions recorded.",
        ),
        spec(
            "unpaid_work_completed_within_12_months",
            count(sa.and_(t.c.uw_required, t.c.uw_months <= months)),
            count(
                sa.and_(
                    t.c.uw_required,
                    sa.or_(t.c.uw_months.is_not(None), t.c.start_date <= unpaid),
                )
            ),
            f"Cases with an unpaid work requirement whose hours were all worked within {months} "
            "months of the order's start date ÷ such cases that have completed their hours or "
            f"started more than {months} months ago.",
        ),
        spec(
            "crs_referral_rate",
            total(t.c.needs_referred),
            total(t.c.needs_count),
            "Needs identified in each case's latest risk assessment with a referral to the "
            "matching Commissioned Rehabilitative Service (ACC, ETE, FBD, PWB, DNR, WOS) ÷ needs "
            "identified.",
        ),
        spec(
            "accredited_programme_completion",
            total(t.c.ap_completed),
            total(t.c.ap_ended),
            "Accredited programme referrals completed ÷ accredited programme referrals ended "
            "(completed, terminated or withdrawn).",
        ),
        spec(
            "home_visits_where_required",
            count(sa.and_(t.c.hv_required, t.c.hv_bd <= th.home_visit_days)),
            count(
                sa.and_(
                    t.c.hv_required,
                    inducted,
                    sa.or_(t.c.hv_bd.is_not(None), t.c.inducted_on <= visit),
                )
            ),
            "Inducted cases needing a home visit (domestic-abuse offence flag, or an active "
            "RCCO or RCPR registration) with an attended home visit (CHVS, ATTC or AFTC) within "
            f"{th.home_visit_days} business days of induction ÷ such cases visited or whose "
            "deadline has passed.",
        ),
        spec(
            "safeguarding_enquiries_answered",
            total(t.c.enq_answered),
            total(t.c.enq_requested),
            "Safeguarding and intelligence enquiries (police domestic abuse, police "
            "intelligence, children's services) with a response recorded ÷ enquiries requested.",
        ),
    ]


def query_compliance(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    scope: IndicatorScope,
    *,
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """Every rate over ``scope`` at ``now``: numerator, denominator, percent, definition."""
    specs = rate_specs(thresholds, now)
    figures = sums(
        conn, generation, scope, _pairs(specs), definitions=("compliance", thresholds, now)
    )
    return {
        spec.name: {
            "numerator": numerator,
            "denominator": denominator,
            "percent": percent(numerator, denominator),
            "definition": spec.definition,
        }
        for spec, (numerator, denominator) in zip(specs, figures, strict=True)
    }


def _pairs(specs: list[RateSpec]) -> list[tuple[Expression, Expression]]:
    return [(spec.numerator, spec.denominator) for spec in specs]


def sums(
    conn: sa.Connection,
    generation: Generation,
    scope: IndicatorScope,
    pairs: list[tuple[Expression, Expression]],
    *,
    definitions: tuple[str, Thresholds, datetime] | None = None,
) -> list[tuple[int, int]]:
    """(numerator, denominator) of each pair over the scope. A scope of whole teams reads
    the teams' rollups (projections/rollups.py) of the ``definitions`` (kind, thresholds, now)
    the pairs were made from; otherwise, or without them, one query over its case rows."""
    columns = [c for pair in pairs for c in pair]
    values = None
    if definitions is not None and rollups.applies(scope):
        key = rollups.rollup_key(*definitions, columns)
        values = rollups.summed(conn, generation, scope, columns, key)
    if values is None:
        values = row_sums(conn, generation, scope, columns)
    return [(values[2 * i], values[2 * i + 1]) for i in range(len(pairs))]


def row_sums(
    conn: sa.Connection, generation: Generation, scope: IndicatorScope, columns: list[Expression]
) -> list[int]:
    """Each column's sum over the scope's case rows, in one query."""
    labelled = [column.label(f"c{i}") for i, column in enumerate(columns)]
    row = conn.execute(sa.select(*labelled).where(*scope.conditions(generation))).one()
    return [int(v or 0) for v in row]
