"""Per-team rollups of the compliance rates and quality questions.

A rate over the whole store summed from its case rows is a pass over every row (250,000 rows:
over 100 ms). But every figure is a sum, and sums add up: a scope's figure is the sum of its
teams'. So each team's sums are kept (``indicator_rollups``), one row per team and definition
set. A definition set's key names the measures' SQL and the values it compares with: the
thresholds and the deadlines over on the London day asked about. Every deadline in the
definitions is a day's, so a team's rollup serves every request of that day.

The oversight projection stamps a team (``team_stamps``) with the position of the batch that
changed any of its case rows, in the transaction that changed them (``TeamStamps``). A rollup
kept with its team's stamp is current; with another, stale. A read takes the current rollups
of the teams in scope, sums afresh from the case rows only the stale or missing teams (one
grouped statement) and keeps their new rollups. The stamps are read before the rows, so a
rollup is never kept under a stamp newer than the rows it was summed from.

Scopes narrower than a team (a practitioner, an opening date range) read the case rows, as
before: they are small.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from projections.base import Batch, Generation, in_reach, upsert
from projections.business_days import local_date
from projections.oversight_rules import Thresholds
from projections.schema import (
    indicator_rollups,
    oversight_cases,
    scope_rollups,
    team_month_stamps,
    team_stamps,
)

if TYPE_CHECKING:
    from projections.compliance import Expression, IndicatorScope

logger = logging.getLogger(__name__)
Team = tuple[str, str]  # (pdu, team)
CHUNK = 400  # teams per grouped statement


class TeamStamps:
    """The teams one batch of the oversight projection changed, stamped when it is written:
    each team's stamp (its case rows changed) and, for trends, the first month from which its
    month rows changed (``team_month_stamps``)."""

    def __init__(self) -> None:
        self.cases: dict[UUID, set[Team]] = {}  # the teams each changed case was or is in

    def touched(self, case_id: UUID, row: dict[str, Any] | None) -> None:
        """A case row (as loaded, or as it will be stored) of a team whose sums change."""
        if row is not None and row.get("team") is not None:
            self.cases.setdefault(case_id, set()).add((row["pdu"], row["team"]))

    def write(
        self,
        conn: sa.Connection,
        generation: int,
        batch: Batch,
        months: dict[UUID, tuple[date, set[Team]]],
    ) -> None:
        if not batch:
            return self.clear()
        stamp = max(position for position, _ in batch)
        teams = sorted(set().union(*self.cases.values()))
        upsert(conn, team_stamps, [_stamp(generation, team, stamp) for team in teams])
        firsts: dict[Team, date] = {}
        for case_id, (first, written) in months.items():
            for team in written | self.cases.get(case_id, set()):
                firsts[team] = min(first, firsts.get(team, first))
        # A team's stamp at a month is the newest of its stamps from months up to it: a row per
        # team and month some batch changed it from (at most one per month of its history).
        months_stamped = [
            _stamp(generation, team, stamp, month=first) for team, first in sorted(firsts.items())
        ]
        upsert(conn, team_month_stamps, months_stamped)
        return self.clear()

    def clear(self) -> None:
        self.cases = {}


def _stamp(generation: int, team: Team, stamp: int, **more: Any) -> dict[str, Any]:
    return {"generation": generation, "pdu": team[0], "team": team[1], "stamp": stamp, **more}


def applies(scope: IndicatorScope) -> bool:
    """Whether the scope is made of whole teams (every case of each team in it)."""
    return scope.practitioner_id is None and scope.opened_from is None and scope.opened_to is None


_KEYS: dict[tuple[str, str, str], str] = {}


def rollup_key(kind: str, thresholds: Thresholds, now: datetime, columns: list[Expression]) -> str:
    """The key of a definition set: a digest of its SQL and the values bound into it, worked
    out once per kind, thresholds and London day."""
    memo = (kind, repr(thresholds), local_date(now).isoformat())
    found = _KEYS.get(memo)
    if found is None:
        compiled = sa.select(*(c.label(f"c{i}") for i, c in enumerate(columns))).compile()
        text = f"{kind}|{compiled}|{sorted(compiled.params.items())!r}"
        found = hashlib.sha256(text.encode()).hexdigest()[:32]
        if len(_KEYS) > 256:
            _KEYS.clear()
        _KEYS[memo] = found
    return found


def summed(
    conn: sa.Connection,
    generation: Generation,
    scope: IndicatorScope,
    columns: list[Expression],
    key: str,
) -> list[int] | None:
    """Each column's sum over the scope: the scope's own rollup while none of its teams has
    changed since it was kept, else the sum of its teams' (``team_sums``), kept for the scope.
    None when the live generation changed while reading (the caller then reads the rows)."""
    return for_scope(
        conn,
        team_stamps,
        generation,
        scope,
        key,
        len(columns),
        lambda: team_sums(conn, generation, scope, columns, key),
    )


def for_scope(
    conn: sa.Connection,
    stamps: sa.Table,
    generation: Generation,
    scope: IndicatorScope,
    key: str,
    width: int,
    summing: Callable[[], list[int] | None],
) -> list[int] | None:
    """The scope's ``width`` sums kept under ``key`` in ``scope_rollups``, while the newest of
    its teams' ``stamps`` is the one they were kept at (stamps only grow); else ``summing()``,
    kept at that stamp. None when the scope has no team or ``summing`` gives None."""
    sr = scope_rollups
    newest, read_generation = conn.execute(
        sa.select(sa.func.max(stamps.c.stamp), sa.func.max(stamps.c.generation)).where(
            *team_conditions(stamps, generation, scope)
        )
    ).one()
    if newest is None:
        return None  # no team: the rows say so as cheaply
    named = scope_name(scope)
    kept = conn.execute(
        sa.select(sr.c.stamp, sr.c.sums).where(
            sr.c.generation == read_generation, sr.c.key == key, sr.c.scope == named
        )
    ).one_or_none()
    if kept is not None and kept[0] == newest and len(kept[1]) == width:
        return [int(v) for v in kept[1]]
    totals = summing()
    if totals is not None:
        row = {"generation": read_generation, "key": key, "scope": named, "stamp": newest}
        keep(conn, sr, [{**row, "sums": totals}])
    return totals


def scope_name(scope: IndicatorScope) -> str:
    """A scope's name in ``scope_rollups``: a digest of its teams' conditions."""
    reach = (
        None if scope.teams is None else sorted(scope.teams),
        None if scope.pdus is None else sorted(scope.pdus),
        scope.pdu,
        scope.team,
    )
    return hashlib.sha256(repr(reach).encode()).hexdigest()[:32]


def team_sums(
    conn: sa.Connection,
    generation: Generation,
    scope: IndicatorScope,
    columns: list[Expression],
    key: str,
) -> list[int] | None:
    """Each column's sum over the scope, from its teams' rollups (stale ones summed afresh
    and kept). None when the live generation changed while reading (a rebuild's swap)."""
    s, r = team_stamps, indicator_rollups
    same_team = sa.and_(
        r.c.generation == s.c.generation, r.c.key == key, r.c.pdu == s.c.pdu, r.c.team == s.c.team
    )
    query = (
        sa.select(s.c.generation, s.c.pdu, s.c.team, s.c.stamp, r.c.stamp, r.c.sums)
        .select_from(s.outerjoin(r, same_team))
        .where(*team_conditions(s, generation, scope))
    )
    totals = [0] * len(columns)
    stale: dict[Team, int] = {}
    rows = conn.execute(query).all()
    for _, pdu, team, stamp, kept_stamp, sums in rows:
        if kept_stamp == stamp and sums is not None and len(sums) == len(columns):
            add(totals, sums)
        else:
            stale[(pdu, team)] = stamp
    if not stale:
        return totals
    read_generation = rows[0][0]
    fresh = _sum_teams(conn, generation, scope, columns, list(stale))
    if fresh is None or fresh[0] not in (None, read_generation):
        return None
    found = fresh[1]
    kept = []
    for (pdu, team), stamp in stale.items():
        sums = found.get((pdu, team), [0] * len(columns))
        add(totals, sums)
        kept.append(
            {
                "generation": read_generation,
                "key": key,
                "pdu": pdu,
                "team": team,
                "stamp": stamp,
                "sums": sums,
            }
        )
    keep(conn, indicator_rollups, kept)
    return totals


def team_conditions(
    table: sa.Table, generation: Generation, scope: IndicatorScope
) -> list[sa.ColumnElement[bool]]:
    """The scope's whole-team conditions on a table with generation, pdu and team columns."""
    found: list[sa.ColumnElement[bool]] = [table.c.generation == generation]
    if (within := in_reach(table, scope.teams, scope.pdus)) is not None:
        found.append(within)
    if scope.pdu is not None:
        found.append(table.c.pdu == scope.pdu)
    if scope.team is not None:
        found.append(table.c.team == scope.team)
    return found


def _sum_teams(
    conn: sa.Connection,
    generation: Generation,
    scope: IndicatorScope,
    columns: list[Expression],
    teams: list[Team],
) -> tuple[int | None, dict[Team, list[int]]] | None:
    """Each team's column sums from its case rows, and the generation they were read from."""
    t = oversight_cases
    labelled = [c.label(f"c{i}") for i, c in enumerate(columns)]
    found: dict[Team, list[int]] = {}
    read: int | None = None
    for start in range(0, len(teams), CHUNK):
        chunk = teams[start : start + CHUNK]
        query = (
            sa.select(t.c.generation, t.c.pdu, t.c.team, *labelled)
            .where(*team_conditions(t, generation, scope))
            .where(sa.tuple_(t.c.pdu, t.c.team).in_(chunk))
            .group_by(t.c.generation, t.c.pdu, t.c.team)
        )
        for row in conn.execute(query):
            if read is not None and row[0] != read:
                return None
            read = row[0]
            found[(row[1], row[2])] = [int(v or 0) for v in row[3:]]
    return read, found


def add(totals: list[int], sums: Iterable[int]) -> None:
    for i, value in enumerate(sums):
        totals[i] += int(value)


def keep(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Keep the new rollups, in a transaction of their own: a reader's rollup is a saving,
    never a condition of its answer, so a write that fails (a busy SQLite file) is logged."""
    keys = [column.name for column in table.primary_key.columns]
    rows = sorted(rows, key=lambda row: [str(row[name]) for name in keys])  # one lock order
    try:
        with conn.engine.begin() as writer:
            upsert(writer, table, rows)
    except sa.exc.DBAPIError as exc:
        logger.warning("%s not kept (%s rows): %s", table.name, len(rows), exc)
