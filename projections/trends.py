"""Trends: a compliance rate or quality question, one value per month, as at each month's end.

Each month's figure is the same definition as ``/compliance`` or ``/quality`` asked at the
month's last moment (London), over every case as it stood then: its records that had occurred
by then, with the corrections known now, folded through the oversight read model's own facts
and columns. The month-end rows are written to an in-memory SQLite table shaped like
``oversight_cases`` (one generation per month), so the rates' own SQL counts them: a trend and
the current figure cannot drift apart.

Cost grows with the cases in scope (their records are read and folded per request); the
rollups of issue 12 are to replace it (docs/compliance.md, "Trends").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.records import Record, apply_corrections
from projections.base import Generation
from projections.business_days import end_of_day
from projections.compliance import Expression, IndicatorScope, percent, rate_specs, sums
from projections.oversight_columns import case_columns
from projections.oversight_facts import apply, new_facts
from projections.oversight_rules import Thresholds
from projections.quality_questions import standards
from projections.schema import audit_events, oversight_cases

MAX_MONTHS = 60


@dataclass(frozen=True)
class Month:
    first: date  # the month's first day

    @property
    def label(self) -> str:
        return self.first.strftime("%Y-%m")

    @property
    def last_moment(self) -> datetime:
        """The month's last instant in London (a deadline ending at midnight is not over)."""
        return end_of_day(self.next().first - timedelta(days=1)) - timedelta(microseconds=1)

    def next(self) -> Month:
        year, month = divmod(self.first.month, 12)
        return Month(date(self.first.year + year, month + 1, 1))

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM``; ValueError otherwise."""
        year, month = text.split("-")
        return cls(date(int(year), int(month), 1))


def months(first: Month, last: Month) -> list[Month]:
    found, current = [], first
    while current.first <= last.first:
        found.append(current)
        current = current.next()
    return found


def measures(
    thresholds: Thresholds, now: datetime
) -> dict[str, tuple[Expression, Expression, str]]:
    """Every measure a trend can follow: rates by name, questions by id."""
    found = {
        spec.name: (spec.numerator, spec.denominator, spec.definition)
        for spec in rate_specs(thresholds, now)
    }
    for standard in standards(thresholds, now):
        for question in standard.questions:
            found[question.id] = (question.yes, question.total, question.definition)
    return found


def candidates(
    conn: sa.Connection, oversight: Generation, audit: Generation, scope: IndicatorScope
) -> list[UUID]:
    """Cases that may have been in ``scope`` at some month's end: those in it now, and every
    case ever transferred (the fold decides where each stood then)."""
    in_scope = sa.select(oversight_cases.c.case_id).where(*scope.conditions(oversight))
    transferred = sa.select(audit_events.c.aggregate_id).where(
        audit_events.c.generation == audit, audit_events.c.type == "Transferred"
    )
    return sorted(set(conn.execute(sa.union(in_scope, transferred)).scalars()), key=str)


def month_end_columns(records: list[Record], ends: list[datetime]) -> list[dict[str, Any] | None]:
    """The case's read-model columns as at each of ``ends`` (ascending); None before it opened.

    Records are merged with every correction known now, and those that had occurred by each
    end are folded in version order, as the projection folds them. The fold carries on from
    one end to the next unless a record that occurred later has a lower version.
    """
    merged = apply_corrections(sorted(records, key=lambda r: r["version"]))[0]
    found: list[dict[str, Any] | None] = []
    facts, included = new_facts(), set[int]()
    columns: dict[str, Any] | None = None
    for end in ends:
        known = [r for r in merged if r["occurred_at"] <= end]
        if not known or known[0]["type"] != "Opened":
            found.append(None)
            continue
        new = [r for r in known if r["version"] not in included]
        if new and included and new[0]["version"] < max(included):
            facts, included, new = new_facts(), set(), known  # out of order: fold afresh
        for record in new:
            apply(facts, record)
            included.add(record["version"])
        if new or columns is None:
            columns = case_columns(facts)
        found.append(columns)
    return found


def trend(
    cases: dict[UUID, list[Record]],
    thresholds: Thresholds,
    scope: IndicatorScope,
    measure: str,
    span: list[Month],
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """``measure`` over ``scope`` at each month's end: month, numerator, denominator, rate.
    The month not yet over is taken at ``now``: its figure is the current one."""
    ends = [min(month.last_moment, now) for month in span]
    engine = sa.create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            oversight_cases.create(conn)
            rows = _rows(cases, ends)
            for start in range(0, len(rows), 5000):
                conn.execute(oversight_cases.insert(), rows[start : start + 5000])
            items = []
            for index, (month, end) in enumerate(zip(span, ends, strict=True)):
                numerator, denominator, _ = measures(thresholds, end)[measure]
                [(yes, total)] = sums(conn, index, scope, [(numerator, denominator)])
                items.append(
                    {
                        "month": month.label,
                        "numerator": yes,
                        "denominator": total,
                        "rate": percent(yes, total),
                    }
                )
            return items
    finally:
        engine.dispose()


def _rows(cases: dict[UUID, list[Record]], ends: list[datetime]) -> list[dict[str, Any]]:
    rows = []
    for case_id, records in cases.items():
        for index, columns in enumerate(month_end_columns(records, ends)):
            if columns is not None:
                rows.append(
                    {
                        **columns,
                        "generation": index,
                        "case_id": case_id,
                        "version": 0,
                        "items_digest": "",
                    }
                )
    return rows
