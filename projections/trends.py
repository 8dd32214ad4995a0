"""Trends: a compliance rate or quality question, one value per month, as at each month's end.

Each month's figure is the same definition as ``/compliance`` or ``/quality`` asked at the
month's last moment (London), over every case as it stood then: its records that had occurred
by then, with the corrections known now, folded through the oversight read model's own facts
and columns (``month_end_columns``). The oversight projection keeps those rows in
``oversight_months`` (projections/oversight_months.py); the rates' own SQL, rewritten onto
that table, counts them, so a trend and the current figure cannot drift apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.visitors import replacement_traverse

from domain.records import Record, apply_corrections
from projections import rollups
from projections.base import Generation
from projections.business_days import end_of_day, local_date
from projections.compliance import Expression, IndicatorScope, percent, rate_specs
from projections.oversight_columns import case_columns
from projections.oversight_facts import apply, new_facts
from projections.oversight_rules import Thresholds
from projections.quality_questions import standards
from projections.schema import (
    oversight_cases,
    oversight_months,
    team_month_stamps,
    trend_rollups,
)

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
    """Several measures' trends (as ``query_trend``). A scope of whole teams reads the teams'
    trend rollups, summing afresh only the team-months they lack; otherwise one pass over each
    month's rows."""
    if rollups.applies(scope):
        found = _from_rollups(conn, generation, thresholds, scope, names, span, now=now)
        if found is not None:
            return found
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
    rows = conn.execute(sa.union_all(*selects))
    return _points(names, span, {row[0]: [int(v or 0) for v in row[1:]] for row in rows})


def _points(
    names: list[str], span: list[Month], found: dict[int, list[int]]
) -> dict[str, list[dict[str, Any]]]:
    """Each measure's points from each month's sums (n0, d0, n1, d1, ... by month index)."""
    result: dict[str, list[dict[str, Any]]] = {}
    for k, name in enumerate(names):
        points = []
        for index, month in enumerate(span):
            n, d = found[index][2 * k : 2 * k + 2]
            points.append(
                {"month": month.label, "numerator": n, "denominator": d, "rate": percent(n, d)}
            )
        result[name] = points
    return result


# -- trend rollups -------------------------------------------------------------------------
# A team's point of a measure for a month is kept in ``trend_rollups`` with the team's stamp at
# that month (the newest of its ``team_month_stamps`` up to it: the projection stamps a team
# from the first month whose rows a batch changed) and the London day it was asked at (a month
# over is always asked at its last moment; the month under way at each day's now). A point is
# current while both still hold. See projections/rollups.py for the compliance rollups.

_TREND_KEYS: dict[tuple[str, str], str] = {}
_REFERENCE = datetime(2000, 1, 31, 23, tzinfo=UTC)  # any moment: the key names the SQL's shape


def trend_key(thresholds: Thresholds, measure: str) -> str:
    """The key of a measure's trend rollups: its SQL and the thresholds."""
    memo = (measure, repr(thresholds))
    found = _TREND_KEYS.get(memo)
    if found is None:
        numerator, denominator = month_measure(thresholds, measure, _REFERENCE, keep=False)
        text = f"trend|{measure}|{memo[1]}|{sa.select(numerator, denominator).compile()}"
        found = hashlib.sha256(text.encode()).hexdigest()[:32]
        _TREND_KEYS[memo] = found
    return found


def _from_rollups(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    scope: IndicatorScope,
    names: list[str],
    span: list[Month],
    *,
    now: datetime,
) -> dict[str, list[dict[str, Any]]] | None:
    """The trends over the scope: its own kept trend (``scope_rollups``) while none of its
    teams' month rows changed since, else from its teams' rollups (and kept). None when
    there is nothing to read them by, or the live generation changed while reading (the
    caller then reads the rows)."""
    moments = [m.last_moment if m.last_moment <= now else now for m in span]
    days = [local_date(moment).isoformat() for moment in moments]
    keys = [trend_key(thresholds, name) for name in names]
    text = repr((keys, [m.first.isoformat() for m in span], days))
    width = 2 * len(names)

    def summing() -> list[int] | None:
        found = _from_team_rollups(
            conn, generation, thresholds, scope, names, span, keys, moments, days
        )
        return None if found is None else [v for i in range(len(span)) for v in found[i]]

    key = hashlib.sha256(text.encode()).hexdigest()[:32]
    sums = rollups.for_scope(
        conn, team_month_stamps, generation, scope, key, width * len(span), summing
    )
    if sums is None:
        return None
    return _points(names, span, {i: sums[i * width : (i + 1) * width] for i in range(len(span))})


def _from_team_rollups(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    scope: IndicatorScope,
    names: list[str],
    span: list[Month],
    keys: list[str],
    moments: list[datetime],
    days: list[str],
) -> dict[int, list[int]] | None:
    """Each month's sums over the scope from its teams' points (stale ones summed afresh
    from the month rows, and kept)."""
    ms, r = team_month_stamps, trend_rollups
    at_month = [
        sa.func.max(ms.c.stamp).filter(ms.c.month <= month.first).label(f"s{i}")
        for i, month in enumerate(span)
    ]
    stamps_query = (
        sa.select(ms.c.generation, ms.c.pdu, ms.c.team, *at_month)
        .where(*rollups.team_conditions(ms, generation, scope))
        .group_by(ms.c.generation, ms.c.pdu, ms.c.team)
    )
    stamped = conn.execute(stamps_query).all()
    if not stamped:
        return None
    read_generation = stamped[0][0]
    kept: dict[tuple[str, str, str], dict[str, Any]] = {}
    kept_query = sa.select(r.c.key, r.c.pdu, r.c.team, r.c.points).where(
        *rollups.team_conditions(r, generation, scope), r.c.key.in_(keys)
    )
    for key, pdu, team, points in conn.execute(kept_query):
        kept[(key, pdu, team)] = points
    totals = {i: [0] * (2 * len(names)) for i in range(len(span))}
    stale: dict[int, list[rollups.Team]] = {}
    stamp_of: dict[tuple[rollups.Team, int], int] = {}
    for _, pdu, team, *stamps in stamped:
        for i, month in enumerate(span):
            if stamps[i] is None:
                continue  # no row of the team's held by then
            stamp_of[((pdu, team), i)] = stamps[i]
            label, want = month.first.isoformat(), [stamps[i], days[i]]
            found = [kept.get((key, pdu, team), {}).get(label) or [] for key in keys]
            if all(point[:2] == want for point in found):
                rollups.add(totals[i], [v for point in found for v in point[2:]])
            else:
                stale.setdefault(i, []).append((pdu, team))
    if stale:
        fresh = _sum_team_months(
            conn, generation, thresholds, scope, names, span, stale, moments, every=len(stamped)
        )
        if fresh is None or fresh[0] not in (None, read_generation):
            return None
        changed: set[tuple[str, str, str]] = set()
        for i, teams in stale.items():
            label = span[i].first.isoformat()
            for pdu, team in teams:
                sums = fresh[1].get((i, pdu, team), [0] * (2 * len(names)))
                rollups.add(totals[i], sums)
                for k, key in enumerate(keys):
                    point = [stamp_of[((pdu, team), i)], days[i], *sums[2 * k : 2 * k + 2]]
                    kept.setdefault((key, pdu, team), {})[label] = point
                    changed.add((key, pdu, team))
        rows = [
            {"generation": read_generation, "key": key, "pdu": pdu, "team": team}
            | {"points": kept[(key, pdu, team)]}
            for key, pdu, team in sorted(changed)
        ]
        rollups.keep(conn, trend_rollups, rows)
    return totals


def _sum_team_months(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    scope: IndicatorScope,
    names: list[str],
    span: list[Month],
    stale: dict[int, list[rollups.Team]],
    moments: list[datetime],
    *,
    every: int,
) -> tuple[int | None, dict[tuple[int, str, str], list[int]]] | None:
    """The sums (n0, d0, n1, d1, ...) of each stale team-month, by (month index, pdu, team),
    from the rows held at the month's end, and the generation they were read from (None if
    a rebuild's swap came between two of them). ``every``: how many teams the scope has."""
    m = oversight_months
    selects = []
    for i, teams in sorted(stale.items()):
        month, moment = span[i], moments[i]
        columns: list[Any] = [m.c.generation, sa.literal(i).label("i"), m.c.pdu, m.c.team]
        for k, name in enumerate(names):
            numerator, denominator = month_measure(
                thresholds, name, moment, keep=moment == month.last_moment
            )
            columns += [numerator.label(f"n{k}"), denominator.label(f"d{k}")]
        held = sa.and_(
            m.c.month <= month.first, sa.or_(m.c.until.is_(None), m.c.until > month.first)
        )
        query = (
            sa.select(*columns)
            .where(*rollups.team_conditions(m, generation, scope), held)
            .group_by(m.c.generation, m.c.pdu, m.c.team)
        )
        if len(teams) == every:
            selects.append(query)
            continue
        for start in range(0, len(teams), rollups.CHUNK):
            chunk = teams[start : start + rollups.CHUNK]
            selects.append(query.where(sa.tuple_(m.c.pdu, m.c.team).in_(chunk)))
    found: dict[tuple[int, str, str], list[int]] = {}
    generations = set()
    for row in conn.execute(sa.union_all(*selects)):
        generations.add(row[0])
        found[(row[1], row[2], row[3])] = [int(v or 0) for v in row[4:]]
    if len(generations) > 1:
        return None
    return (generations.pop() if generations else None), found
