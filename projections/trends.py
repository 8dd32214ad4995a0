"""Trends: a compliance rate or quality question, one value per month, as at each month's end.

Each month's figure is the same definition as ``/compliance`` or ``/quality`` asked at the
month's last moment (London), over every case as it stood then: its records that had occurred
by then, with the corrections known now, folded through the oversight read model's own facts
and columns (``month_end_columns``). The oversight projection keeps those rows in
``oversight_months`` (projections/oversight_months.py); the rates' own SQL, rewritten onto
that table, counts them, so a trend and the current figure cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.visitors import replacement_traverse

from domain.records import Record, apply_corrections
from projections.base import Generation
from projections.business_days import end_of_day
from projections.compliance import Expression, IndicatorScope, percent, rate_specs
from projections.oversight_columns import case_columns
from projections.oversight_facts import apply, new_facts
from projections.oversight_rules import Thresholds
from projections.quality_questions import standards
from projections.schema import oversight_cases, oversight_months

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

    def back(self, count: int) -> Month:
        """The month ``count`` months before this one."""
        index = self.first.year * 12 + self.first.month - 1 - count
        return Month(date(index // 12, index % 12 + 1, 1))

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


def _on_months(expression: Expression) -> Expression:
    """An expression over ``oversight_cases`` rewritten over ``oversight_months``."""

    def swap(element: Any, **_: Any) -> Any:
        if isinstance(element, sa.Column) and element.table is oversight_cases:
            return oversight_months.c[element.name]
        return None

    return replacement_traverse(expression, {}, swap)


_MONTH_MEASURES: dict[tuple[str, str, datetime], tuple[Expression, Expression]] = {}
CACHED_MEASURES = 2048  # 28 measures over six years of months, with room for several thresholds


def month_measure(
    thresholds: Thresholds, measure: str, moment: datetime, *, keep: bool
) -> tuple[Expression, Expression]:
    """The measure's numerator and denominator at ``moment``, rewritten onto the month rows.

    Building them (every rate and question, then the rewrite) costs milliseconds; a month
    that is over is always asked at the same moment, so its are built once per thresholds and
    kept (``keep``); the month under way is asked at each request's own now.
    """
    key = (repr(thresholds), measure, moment)
    found = _MONTH_MEASURES.get(key)
    if found is None:
        numerator, denominator, _ = measures(thresholds, moment)[measure]
        found = (_on_months(numerator), _on_months(denominator))
        if keep:
            if len(_MONTH_MEASURES) >= CACHED_MEASURES:
                _MONTH_MEASURES.clear()
            _MONTH_MEASURES[key] = found
    return found


def query_trend(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    scope: IndicatorScope,
    measure: str,
    span: list[Month],
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """``measure`` over ``scope`` at each month's end: month, numerator, denominator, rate.

    Each month counts the case rows that held at its end (``oversight_months``) with the
    measure's own definition asked at that moment; the month not yet over is taken at
    ``now``, so its figure is the current one. One statement for every month.
    """
    found = query_trends(conn, generation, thresholds, scope, [measure], span, now=now)
    return found[measure]


def query_trends(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    scope: IndicatorScope,
    names: list[str],
    span: list[Month],
    *,
    now: datetime,
) -> dict[str, list[dict[str, Any]]]:
    """Several measures' trends (as ``query_trend``) from one pass over each month's rows."""
    m = oversight_months
    scoped = [_on_months(condition) for condition in scope.conditions(generation)]
    selects = []
    for index, month in enumerate(span):
        over = month.last_moment <= now
        moment = month.last_moment if over else now
        columns: list[Any] = [sa.literal(index).label("i")]
        for k, name in enumerate(names):
            numerator, denominator = month_measure(thresholds, name, moment, keep=over)
            columns += [numerator.label(f"n{k}"), denominator.label(f"d{k}")]
        held = sa.and_(
            m.c.month <= month.first, sa.or_(m.c.until.is_(None), m.c.until > month.first)
        )
        selects.append(sa.select(*columns).where(*scoped, held))
    found = {row[0]: row[1:] for row in conn.execute(sa.union_all(*selects))}
    result: dict[str, list[dict[str, Any]]] = {}
    for k, name in enumerate(names):
        points = []
        for index, month in enumerate(span):
            n, d = (int(v or 0) for v in found[index][2 * k : 2 * k + 2])
            points.append(
                {"month": month.label, "numerator": n, "denominator": d, "rate": percent(n, d)}
            )
        result[name] = points
    return result
