"""The oversight read model (one row per case, and the queue's open clocks) and the SPO queue.

`OversightProjection` folds each case event into the case's facts (projections/oversight_facts)
and rewrites the case's row and, when they changed, its queue rows. A correction refolds the
case from the store. `query_queue` answers `GET /oversight`; `query_compliance` and
`query_quality` (projections/compliance.py, quality.py) read the same rows.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.case import Case, to_record
from projections.base import Batch, Event, Generation, RowProjection, insert, upsert
from projections.business_days import add_business_days, end_of_day, local_date
from projections.history import CaseHistory
from projections.oversight_columns import case_columns
from projections.oversight_facts import apply as apply_record
from projections.oversight_facts import new_facts, refold
from projections.oversight_months import MonthRows
from projections.oversight_rules import RULES, Thresholds, digest, queue_items
from projections.oversight_training import drop_closed_gaps
from projections.rollups import TeamStamps
from projections.schema import (
    indicator_rollups,
    oversight_cases,
    oversight_facts,
    oversight_items,
    oversight_months,
    scope_rollups,
    team_month_stamps,
    team_stamps,
    trend_rollups,
)


class OversightProjection(RowProjection):
    name = "oversight"
    tables = (oversight_cases, oversight_facts, oversight_items, oversight_months)
    caches = (team_stamps, team_month_stamps, indicator_rollups, scope_rollups, trend_rollups)
    table = oversight_cases
    key_column = "case_id"
    handles = ()  # every case event moves the case's version

    def __init__(self, history: CaseHistory) -> None:
        super().__init__()
        self.history = history
        self._items: dict[UUID, list[dict[str, Any]]] = {}  # this batch's queue rows to write
        self._months = MonthRows(history)  # and its month rows (projections/oversight_months)
        self._teams = TeamStamps()  # and the teams whose rollups it makes stale

    def key(self, event: Event) -> Any:
        return event.originator_id if isinstance(event, Case.Event) else None

    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        assert isinstance(event, Case.Event)
        self._teams.touched(event.originator_id, row)  # its team before (a transfer moves it)
        if isinstance(event, Case.Opened):
            facts = new_facts()
            self._months.opened(facts, event)
        elif row is None:
            return None
        elif isinstance(event, Case.Corrected):
            facts = refold(self.history, event.originator_id, event.originator_version)
            self._months.corrected(event.originator_id)
        else:
            # In place: a batch that rolls back drops the runner's row cache (forget()).
            facts = row["facts"]
            self._months.before(event.originator_id, facts, event)
        if not isinstance(event, Case.Corrected):
            apply_record(facts, to_record(event))
        facts["version"] = event.originator_version
        # The columns and queue rows are derived once per case per batch, in complete().
        stored = None if row is None else row["items_digest"]
        return {"version": event.originator_version, "facts": facts, "items_digest": stored}

    def complete(self, row: dict[str, Any]) -> dict[str, Any]:
        facts = row["facts"]
        items = queue_items(facts)
        items_digest = digest(items)
        if row["items_digest"] != items_digest:
            self._items[row["case_id"]] = items
        columns = case_columns(facts)
        self._teams.touched(row["case_id"], columns)
        self._months.complete(row["case_id"], facts, columns)
        return {**row, **columns, "items_digest": items_digest}

    def load(self, conn: sa.Connection, generation: int, keys: list[Any]) -> list[dict[str, Any]]:
        c, f = oversight_cases, oversight_facts
        query = (
            sa.select(c, f.c.facts)
            .join(f, sa.and_(f.c.generation == c.c.generation, f.c.case_id == c.c.case_id))
            .where(c.c.generation == generation, c.c.case_id.in_(keys))
        )
        return [dict(found) for found in conn.execute(query).mappings()]

    def store(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        upsert(conn, oversight_cases, rows)
        upsert(conn, oversight_facts, rows)

    def process(self, conn: sa.Connection, generation: int, batch: Batch) -> None:
        self._items = {}
        self._months.clear()
        self._teams.clear()
        super().process(conn, generation, batch)
        months = self._months.write(conn, generation)
        self._teams.write(conn, generation, batch, months)
        if not self._items:
            return
        t = oversight_items
        case_ids = sorted(self._items, key=str)
        for start in range(0, len(case_ids), 500):
            chunk = case_ids[start : start + 500]
            conn.execute(sa.delete(t).where(t.c.generation == generation, t.c.case_id.in_(chunk)))
        rows = [
            {**item, "generation": generation, "case_id": case_id}
            for case_id, items in self._items.items()
            for item in items
        ]
        insert(conn, t, rows)
        self._items = {}

    def forget(self) -> None:
        super().forget()
        self._items = {}
        self._months.clear()
        self._teams.clear()


@dataclass(frozen=True)
class QueueFilter:
    team: str
    practitioner_id: str | None = None
    due_from: date | None = None  # London due dates, inclusive
    due_to: date | None = None


def query_queue(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    where: QueueFilter,
    *,
    staff: Generation,
    now: datetime,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the team's queue at ``now``: items due within ``due_soon_days`` business days
    or overdue, most overdue first (one per case and reason: its earliest deadline).

    ``staff`` is the staff profiles' generation: a training gap the practitioner has since
    closed is not shown (projections/oversight_training).

    A team can hold thousands of open clocks, so a page does not read them all: it reads the
    clocks due by a bound, widening the bound until the page is full or the horizon reached.
    A rule's deadline never moves earlier as its clock starts later, so the clocks due by a
    bound are a per-rule range of its indexed start.
    """
    after = decode_cursor(cursor) if cursor is not None else None
    horizon = add_business_days(local_date(now), thresholds.due_soon_days)
    if where.due_to is not None:
        horizon = min(horizon, where.due_to)
    first = _first_due(conn, generation, thresholds, where)
    if first is None:
        return [], None
    # Nothing before the first deadline, the filter's first day or the cursor's day is needed.
    start = max(first, where.due_from or first, due_date(after[0]) if after else first)
    span = timedelta(days=7)
    while True:
        bound = min(horizon, start + span)
        items = _due_by(conn, generation, thresholds, where, now=now, bound=bound)
        items = drop_closed_gaps(conn, generation, staff, items, local_date(now))
        if after is not None:
            items = [item for item in items if queue_order(item) > after]
        if len(items) > limit or bound >= horizon:
            break
        span *= 4
    page = items[:limit]
    more = len(items) > limit
    return page, (encode_cursor(queue_order(page[-1])) if more and page else None)


def _scoped(query: sa.Select[Any], generation: Generation, where: QueueFilter) -> sa.Select[Any]:
    t = oversight_items
    query = query.where(t.c.generation == generation, t.c.team == where.team)
    if where.practitioner_id is not None:
        query = query.where(t.c.practitioner_id == where.practitioner_id)
    return query


def _first_due(
    conn: sa.Connection, generation: Generation, thresholds: Thresholds, where: QueueFilter
) -> date | None:
    """The date the scope's earliest deadline falls on: each rule's earliest clock."""
    t = oversight_items
    query = _scoped(sa.select(t.c.rule, sa.func.min(t.c.since)), generation, where)
    query = query.where(t.c.rule.in_(sorted(RULES)))  # a rule since retired is not shown
    earliest = conn.execute(query.group_by(t.c.rule)).all()
    return min(
        (due_date(RULES[rule].due_at(since, thresholds)) for rule, since in earliest),
        default=None,
    )


def _due_by(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    where: QueueFilter,
    *,
    now: datetime,
    bound: date,
) -> list[dict[str, Any]]:
    """The scope's items due by the end of ``bound`` (and not before ``due_from``), in queue
    order, one per case and reason: its earliest deadline."""
    t = oversight_items
    due_by_bound = sa.or_(
        *(
            sa.and_(
                t.c.rule == rule.name,
                (t.c.since if rule.unit == "hours" else t.c.since_on)
                <= rule.since_cutoff(bound, thresholds),
            )
            for rule in RULES.values()
        )
    )
    query = _scoped(
        sa.select(t.c.case_id, t.c.crn, t.c.practitioner_id, t.c.rule, t.c.since, t.c.since_on),
        generation,
        where,
    ).where(due_by_bound)
    last = end_of_day(bound)
    days: dict[tuple[str, date], datetime] = {}  # a day rule's deadline is its start's date's
    earliest: dict[tuple[UUID, str], dict[str, Any]] = {}
    for case_id, crn, practitioner_id, rule_name, since, since_on in conn.execute(query):
        rule = RULES[rule_name]
        if rule.unit == "hours":
            due_at = rule.due_at(since, thresholds)
        else:
            due_at = days.get((rule_name, since_on)) or days.setdefault(
                (rule_name, since_on), rule.due_at(since, thresholds)
            )
        if due_at > last or (where.due_from is not None and due_date(due_at) < where.due_from):
            continue
        key = (case_id, rule.reason)
        if key not in earliest or due_at < earliest[key]["due_at"]:
            earliest[key] = {
                "case_id": case_id,
                "crn": crn,
                "practitioner_id": practitioner_id,
                "reason": rule.reason,
                "since": since,
                "due_at": due_at,
                "overdue": now >= due_at,
            }
    return sorted(earliest.values(), key=queue_order)


def due_date(due_at: datetime) -> date:
    """The London date a deadline falls on (a day's deadline ends at its midnight)."""
    return local_date(due_at - timedelta(microseconds=1))


def queue_order(item: dict[str, Any]) -> tuple[datetime, str, str]:
    return (item["due_at"], str(item["case_id"]), item["reason"])


def encode_cursor(order: tuple[datetime, str, str]) -> str:
    due_at, case_id, reason = order
    text = json.dumps([due_at.isoformat(), case_id, reason])
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str, str]:
    """Raises ValueError for a cursor this API did not issue."""
    try:
        due_at, case_id, reason = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = datetime.fromisoformat(str(due_at))
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, str(UUID(str(case_id))), str(reason)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor from this API") from exc
