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
from projections.base import Batch, Event, Generation, RowProjection
from projections.business_days import add_business_days, end_of_day, local_date
from projections.history import CaseHistory
from projections.oversight_columns import case_columns
from projections.oversight_facts import apply as apply_record
from projections.oversight_facts import new_facts, refold
from projections.oversight_rules import RULES, Thresholds, digest, queue_items
from projections.schema import oversight_cases, oversight_items


class OversightProjection(RowProjection):
    name = "oversight"
    tables = (oversight_cases, oversight_items)
    table = oversight_cases
    key_column = "case_id"
    handles = ()  # every case event moves the case's version

    def __init__(self, history: CaseHistory) -> None:
        super().__init__()
        self.history = history
        self._items: dict[UUID, list[dict[str, Any]]] = {}  # this batch's queue rows to write

    def key(self, event: Event) -> Any:
        return event.originator_id if isinstance(event, Case.Event) else None

    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        assert isinstance(event, Case.Event)
        if isinstance(event, Case.Opened):
            facts = new_facts()
        elif row is None:
            return None
        elif isinstance(event, Case.Corrected):
            facts = refold(self.history, event.originator_id, event.originator_version)
        else:
            # In place: a batch that rolls back drops the runner's row cache (forget()).
            facts = row["facts"]
        if not isinstance(event, Case.Corrected):
            apply_record(facts, to_record(event))
        facts["version"] = event.originator_version
        items = queue_items(facts)
        items_digest = digest(items)
        if row is None or row["items_digest"] != items_digest:
            self._items[event.originator_id] = items
        return {
            **case_columns(facts),
            "version": event.originator_version,
            "facts": facts,
            "items_digest": items_digest,
        }

    def process(self, conn: sa.Connection, generation: int, batch: Batch) -> None:
        self._items = {}
        super().process(conn, generation, batch)
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
        if rows:
            conn.execute(sa.insert(t), rows)
        self._items = {}

    def forget(self) -> None:
        super().forget()
        self._items = {}


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
    now: datetime,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the team's queue at ``now``: items due within ``due_soon_days`` business days
    or overdue, most overdue first (one per case and reason: its earliest deadline)."""
    horizon = add_business_days(local_date(now), thresholds.due_soon_days)
    if where.due_to is not None:
        horizon = min(horizon, where.due_to)
    t = oversight_items
    due_by_horizon = sa.or_(
        *(
            sa.and_(
                t.c.rule == rule.name,
                (t.c.since if rule.unit == "hours" else t.c.since_on)
                <= rule.since_cutoff(horizon, thresholds),
            )
            for rule in RULES.values()
        )
    )
    query = sa.select(t).where(t.c.generation == generation, t.c.team == where.team, due_by_horizon)
    if where.practitioner_id is not None:
        query = query.where(t.c.practitioner_id == where.practitioner_id)
    earliest: dict[tuple[UUID, str], dict[str, Any]] = {}
    for row in conn.execute(query).mappings():
        rule = RULES[row["rule"]]
        due_at = rule.due_at(row["since"], thresholds)
        if due_at > end_of_day(horizon) or (
            where.due_from is not None and due_date(due_at) < where.due_from
        ):
            continue
        item = {
            "case_id": row["case_id"],
            "crn": row["crn"],
            "practitioner_id": row["practitioner_id"],
            "reason": rule.reason,
            "since": row["since"],
            "due_at": due_at,
            "overdue": now >= due_at,
        }
        key = (row["case_id"], rule.reason)
        if key not in earliest or due_at < earliest[key]["due_at"]:
            earliest[key] = item
    items = sorted(earliest.values(), key=_order)
    if cursor is not None:
        after = decode_cursor(cursor)
        items = [item for item in items if _order(item) > after]
    page = items[:limit]
    more = len(items) > limit
    return page, (encode_cursor(_order(page[-1])) if more and page else None)


def due_date(due_at: datetime) -> date:
    """The London date a deadline falls on (a day's deadline ends at its midnight)."""
    return local_date(due_at - timedelta(microseconds=1))


def _order(item: dict[str, Any]) -> tuple[datetime, str, str]:
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
