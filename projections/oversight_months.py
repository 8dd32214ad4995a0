"""The oversight read model by month: each case's columns as at the end of each month.

The oversight projection folds a case's events in the order they are recorded. While they
also occur in month order (the usual case), the facts before an event of a later month are
the case as at the end of the months before it: that is the row those months keep. An event
that occurred in an earlier month than one already folded (a backdated record), a
correction, or a row from before this table existed has the case's whole series worked out
again from its history (``month_end_columns``, the same fold trends are tested against).

A case has a row for each month an event of it occurred in; a row holds from its month until
the next row's. Nothing here depends on a threshold or on "now": the trend queries apply them
per month.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa

from domain.case import Case, to_record
from domain.records import Record, apply_corrections
from projections.base import insert
from projections.business_days import local_date
from projections.history import CaseHistory
from projections.oversight_columns import case_columns
from projections.oversight_facts import Facts
from projections.schema import oversight_months
from projections.trends import Month, month_end_columns

Columns = dict[str, Any]
Team = tuple[str, str]  # (pdu, team)


def month_of(moment: datetime) -> date:
    """The first day of the London month ``moment`` falls in."""
    return local_date(moment).replace(day=1)


def series(records: list[Record]) -> list[tuple[date, Columns]]:
    """The case's rows: (month, columns as at its end) for each month an event occurred in
    (as corrected), from its opening on; a month without one keeps the row before it."""
    merged = apply_corrections(sorted(records, key=lambda r: r["version"]))[0]
    held = sorted({month_of(r["occurred_at"]) for r in merged})
    ends = [Month(month).last_moment for month in held]
    return [
        (month, columns)
        for month, columns in zip(held, month_end_columns(records, ends), strict=True)
        if columns is not None
    ]


class MonthRows:
    """The month rows one batch of the oversight projection writes."""

    def __init__(self, history: CaseHistory) -> None:
        self.history = history
        self.rows: dict[UUID, dict[date, Columns]] = {}
        self.redo: set[UUID] = set()  # cases whose series is worked out from their history

    def opened(self, facts: Facts, event: Case.Event) -> None:
        facts["month"] = month_of(event.occurred_at).isoformat()

    def before(self, case_id: UUID, facts: Facts, event: Case.Event) -> None:
        """Before a (non-correction) event is folded into the case's facts."""
        latest = facts.get("month")
        month = month_of(event.occurred_at)
        if latest is None or month < date.fromisoformat(latest):
            self.redo.add(case_id)
            return
        if month > date.fromisoformat(latest) and case_id not in self.redo:
            self.rows.setdefault(case_id, {})[date.fromisoformat(latest)] = case_columns(facts)
        facts["month"] = month.isoformat()

    def corrected(self, case_id: UUID) -> None:
        self.redo.add(case_id)

    def complete(self, case_id: UUID, facts: Facts, columns: Columns) -> None:
        """Once per changed case per batch, with its current columns (before it is stored)."""
        if case_id not in self.redo:
            self.rows.setdefault(case_id, {})[date.fromisoformat(facts["month"])] = columns
            return
        events = self.history.event_store.get(case_id, lte=facts["version"])
        found = series([to_record(cast(Case.Event, e)) for e in events])
        self.rows[case_id] = dict(found)
        # The latest month an event occurred in: a later event's month is compared with it.
        facts["month"] = found[-1][0].isoformat() if found else None

    def write(self, conn: sa.Connection, generation: int) -> dict[UUID, tuple[date, set[Team]]]:
        """Replace each case's rows from its first new month on; close the row before. What
        changed: each case's first rewritten month, and the teams of its rows (those written,
        and for a case worked out afresh, those replaced) whose months from then on changed."""
        t = oversight_months
        by_first: dict[date, list[UUID]] = {}
        rows = []
        changed: dict[UUID, tuple[date, set[Team]]] = {}
        replaced = self._teams_of(conn, generation, sorted(self.redo & set(self.rows), key=str))
        for case_id, found in self.rows.items():
            ordered = sorted(found.items())
            first = date.min if case_id in self.redo else ordered[0][0]
            teams = {(columns["pdu"], columns["team"]) for _, columns in ordered}
            changed[case_id] = (first, teams | replaced.get(case_id, set()))
            by_first.setdefault(first, []).append(case_id)
            for index, (month, columns) in enumerate(ordered):
                until = ordered[index + 1][0] if index + 1 < len(ordered) else None
                rows.append(
                    {
                        **columns,
                        "generation": generation,
                        "case_id": case_id,
                        "month": month,
                        "until": until,
                    }
                )
        for first, case_ids in by_first.items():
            for start in range(0, len(case_ids), 500):
                chunk = case_ids[start : start + 500]
                mine = sa.and_(t.c.generation == generation, t.c.case_id.in_(chunk))
                conn.execute(sa.delete(t).where(mine, t.c.month >= first))
                conn.execute(
                    sa.update(t)
                    .where(mine, sa.or_(t.c.until.is_(None), t.c.until > first))
                    .values(until=first)
                )
        insert(conn, t, rows)
        self.clear()
        return changed

    @staticmethod
    def _teams_of(
        conn: sa.Connection, generation: int, case_ids: list[UUID]
    ) -> dict[UUID, set[Team]]:
        """The teams the cases' stored month rows are in (a case's team may have changed)."""
        t = oversight_months
        found: dict[UUID, set[Team]] = {}
        for start in range(0, len(case_ids), 500):
            query = (
                sa.select(t.c.case_id, t.c.pdu, t.c.team)
                .where(t.c.generation == generation, t.c.case_id.in_(case_ids[start : start + 500]))
                .distinct()
            )
            for case_id, pdu, team in conn.execute(query):
                found.setdefault(case_id, set()).add((pdu, team))
        return found

    def clear(self) -> None:
        self.rows = {}
        self.redo = set()
