"""What a projection is: the events it handles, its tables, and how a batch changes them."""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic
from sqlalchemy.dialects import sqlite

Event = DomainEventProtocol[Any]
# (notification id, decoded event), in id order
Batch = Sequence[tuple[int, Event]]
# A generation number, or the live one resolved inside the reading statement (tracking.live).
Generation = int | sa.ScalarSelect[Any]


class Projection(ABC):
    """A read model kept by a runner. ``process`` must be deterministic in its batch."""

    name: ClassVar[str]
    tables: ClassVar[tuple[sa.Table, ...]]
    # Tables derived from ``tables`` to answer reads faster (rollups and their stamps): kept
    # per generation and cleared with it, but not the read model itself: their rows depend on
    # how events were batched and on what was read, where a read model's never do.
    caches: ClassVar[tuple[sa.Table, ...]] = ()
    handles: ClassVar[tuple[type, ...]] = ()  # event classes; empty = every event

    @classmethod
    def topics(cls) -> list[str]:
        return [get_topic(event_class) for event_class in cls.handles]

    @abstractmethod
    def process(self, conn: sa.Connection, generation: int, batch: Batch) -> None:
        """Apply a batch of events to this projection's rows of ``generation``."""

    def committed(self) -> None:  # noqa: B027 - a hook; most projections keep no cache
        """The last ``process`` committed (caches may keep what it wrote)."""

    def forget(self) -> None:  # noqa: B027
        """Drop anything cached: the last batch rolled back, or another runner may have run."""

    def clear(self, conn: sa.Connection, generation: int) -> None:
        """Delete this projection's rows of ``generation``."""
        for table in (*self.tables, *self.caches):
            conn.execute(sa.delete(table).where(table.c.generation == generation))


class RowProjection(Projection):
    """One row per key (e.g. per case): a batch loads its rows once, folds, upserts once.

    Rows this runner committed are cached, so a long catch-up does not read back what it
    wrote. The cache is trusted only while one runner holds the projection's lock: it is
    dropped whenever a batch rolls back and whenever the lock is (re)acquired.
    """

    table: ClassVar[sa.Table]
    key_column: ClassVar[str]
    cache_limit: ClassVar[int] = 200_000

    def __init__(self) -> None:
        self._cache: dict[tuple[int, Any], dict[str, Any]] = {}
        self._pending: dict[tuple[int, Any], dict[str, Any]] = {}

    @abstractmethod
    def key(self, event: Event) -> Any:
        """The row key an event updates, or None if it updates no row."""

    @abstractmethod
    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        """The row after ``event`` (None: no row yet and none to create)."""

    def process(self, conn: sa.Connection, generation: int, batch: Batch) -> None:
        keyed = [(self.key(event), event) for _, event in batch]
        keys = {key for key, _ in keyed if key is not None}
        if not keys:
            return
        rows: dict[Any, dict[str, Any] | None] = {}
        missing = []
        for key in keys:
            cached = self._cache.get((generation, key))
            if cached is not None:
                rows[key] = cached
            else:
                missing.append(key)
        for chunk in _chunks(sorted(missing, key=str), 500):
            for found in self.load(conn, generation, chunk):
                rows[found[self.key_column]] = found
        dirty: set[Any] = set()
        for key, event in keyed:
            if key is None:
                continue
            updated = self.apply(rows.get(key), event)
            if updated is not None:
                updated["generation"] = generation
                updated[self.key_column] = key
                rows[key] = updated
                dirty.add(key)
        changed = [self.complete(row) for k in dirty if (row := rows[k]) is not None]
        self.store(conn, changed)
        self._pending = {(generation, row[self.key_column]): row for row in changed}

    def complete(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row as stored, once per changed row per batch: derive here what ``apply``
        need not recompute for every event (so an event's cost does not grow with the
        case's history)."""
        return row

    def load(self, conn: sa.Connection, generation: int, keys: list[Any]) -> list[dict[str, Any]]:
        """The stored rows of these keys (a row may span tables: override with store)."""
        query = sa.select(self.table).where(
            self.table.c.generation == generation, self.table.c[self.key_column].in_(keys)
        )
        return [dict(found) for found in conn.execute(query).mappings()]

    def store(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        upsert(conn, self.table, rows)

    def committed(self) -> None:
        if len(self._cache) + len(self._pending) > self.cache_limit:
            self._cache.clear()
        self._cache.update(self._pending)
        self._pending = {}

    def forget(self) -> None:
        self._cache.clear()
        self._pending = {}


def upsert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert or replace rows by primary key, in one statement per batch."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_json_write(table, upsert=True), {"rows": _as_json(table, rows)})
        return
    names = [c.name for c in table.columns]
    full = [{name: row.get(name) for name in names} for row in rows]
    conn.execute(_sqlite_upsert(table), full)


def insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, in one statement per batch."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_json_write(table, upsert=False), {"rows": _as_json(table, rows)})
        return
    conn.execute(sa.insert(table), rows)


@functools.cache
def _sqlite_upsert(table: sa.Table) -> Any:
    """Built once per table: building it (its ``excluded`` columns) cost more than running it
    for a batch of a few events."""
    insert: Any = sqlite.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    columns = [c.name for c in table.columns if c.name not in keys]
    return insert.on_conflict_do_update(
        index_elements=keys, set_={name: insert.excluded[name] for name in columns}
    )


@functools.cache
def _json_write(table: sa.Table, *, upsert: bool) -> sa.TextClause:
    """PostgreSQL: a batch's rows as one JSON parameter, unpacked by the server into the
    table's row type. Sent as one statement with one parameter rather than a pipelined
    statement per row, whose per-row, per-column work in the driver was most of upkeep's CPU.
    """
    name = _quoted(table.name)
    columns = ", ".join(_quoted(c.name) for c in table.columns)
    sql = (
        f"INSERT INTO {name} ({columns}) SELECT {columns} "
        f"FROM jsonb_populate_recordset(NULL::{name}, CAST(:rows AS jsonb))"
    )
    if upsert:
        keys = [c.name for c in table.primary_key.columns]
        updates = ", ".join(
            f"{_quoted(c.name)} = EXCLUDED.{_quoted(c.name)}"
            for c in table.columns
            if c.name not in keys
        )
        sql += f" ON CONFLICT ({', '.join(map(_quoted, keys))}) DO UPDATE SET {updates}"
    return sa.text(sql)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _as_json(table: sa.Table, rows: list[dict[str, Any]]) -> str:
    names = [c.name for c in table.columns]
    return json.dumps(
        [{name: row.get(name) for name in names} for row in rows],
        default=_json_value,
        separators=(",", ":"),
    )


def _json_value(value: Any) -> Any:
    """A column value as the server's input syntax for its type reads it."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime")  # as UTCDateTime refuses it
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not a column value")


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def in_reach(
    table: sa.Table, teams: frozenset[str] | None, pdus: frozenset[str] | None
) -> sa.ColumnElement[bool] | None:
    """Rows of a case in one of ``teams`` or one of ``pdus``; None when both are None (every
    row is in reach). ``table`` has ``team`` and ``pdu`` columns."""
    if teams is None and pdus is None:
        return None
    return sa.or_(table.c.team.in_(sorted(teams or ())), table.c.pdu.in_(sorted(pdus or ())))
