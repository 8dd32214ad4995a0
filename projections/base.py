"""What a projection is: the events it handles, its tables, and how a batch changes them."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic
from sqlalchemy.dialects import postgresql, sqlite

Event = DomainEventProtocol[Any]
# (notification id, decoded event), in id order
Batch = Sequence[tuple[int, Event]]
# A generation number, or the live one resolved inside the reading statement (tracking.live).
Generation = int | sa.ScalarSelect[Any]


class Projection(ABC):
    """A read model kept by a runner. ``process`` must be deterministic in its batch."""

    name: ClassVar[str]
    tables: ClassVar[tuple[sa.Table, ...]]
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
        for table in self.tables:
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
    names = [c.name for c in table.columns]
    full = [{name: row.get(name) for name in names} for row in rows]
    conn.execute(_upsert_statement(conn.dialect.name, table), full)


@functools.cache
def _upsert_statement(dialect: str, table: sa.Table) -> Any:
    """Built once per table: building it (its ``excluded`` columns) cost more than running it
    for a batch of a few events."""
    insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    keys = [c.name for c in table.primary_key.columns]
    columns = [c.name for c in table.columns if c.name not in keys]
    return insert.on_conflict_do_update(
        index_elements=keys, set_={name: insert.excluded[name] for name in columns}
    )


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
