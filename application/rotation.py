"""Rotating the master key: every stored key is re-wrapped by the current master.

Only the wrapped keys change (``store_keys``, ``data_keys``); no event, no chain link. Each
key is re-wrapped on its own compare-and-set (``WHERE wrapped = <what was read>``), so it can
run while the API serves: a key destroyed meanwhile stays destroyed, and a key created
meanwhile is wrapped by the current master already. Every process must be given the new
master (and the old ones as previous) before it runs; see docs/operations.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.keys import DATA_KEYS_TABLE, PAYLOAD, STORE_KEYS_TABLE, KeyStore


@dataclass
class Rotation:
    """What one rotation did."""

    rewrapped: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)  # by the master that wrapped them

    @property
    def ok(self) -> bool:
        return not self.unreadable


def rotate(
    keys: KeyStore, *, batch: int = 500, progress: Callable[[int], None] | None = None
) -> Rotation:
    """Re-wrap the payload key and every live data key (a case's or a staff member's: either
    is wrapped in the context of its aggregate id) by the current master; ``progress`` is
    told how many are done after each batch's commit."""
    keys.payload_key()  # a store from before the envelope layout adopts it first
    result = Rotation()
    fingerprint = keys.masters.current.fingerprint
    _rotate_rows(
        keys, result, STORE_KEYS_TABLE, "name", lambda name: PAYLOAD.encode(), fingerprint, batch
    )
    _rotate_rows(
        keys, result, DATA_KEYS_TABLE, "aggregate_id", _case_context, fingerprint, batch, progress
    )
    return result


def _rotate_rows(
    keys: KeyStore,
    result: Rotation,
    table: str,
    id_column: str,
    context: Any,
    fingerprint: str,
    batch: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    after: Any = None
    while True:
        with keys.datastore.transaction(commit=False) as c:
            c.execute(
                keys.sql(
                    f"SELECT {id_column} AS id, wrapped, wrapped_by FROM {table} "
                    "WHERE wrapped IS NOT NULL AND (wrapped_by IS NULL OR wrapped_by <> %s) "
                    + ("" if after is None else f"AND {id_column} > %s ")
                    + f"ORDER BY {id_column} LIMIT %s"
                ),
                (fingerprint, batch) if after is None else (fingerprint, after, batch),
            )
            rows = c.fetchall()
        if not rows:
            return
        after = rows[-1]["id"]
        updates = []
        for row in rows:
            wrapped = bytes(row["wrapped"])
            key = keys.masters.unwrap(wrapped, context(row["id"]), row["wrapped_by"])
            if key is None:
                result.unreadable[row["wrapped_by"] or "(unnamed)"] += 1
                continue
            rewrapped = keys.masters.current.wrap(key, context(row["id"]))
            updates.append((rewrapped, fingerprint, row["id"], wrapped))
        with keys.datastore.transaction(commit=True) as c:
            for update in updates:
                c.execute(
                    keys.sql(
                        f"UPDATE {table} SET wrapped = %s, wrapped_by = %s "
                        f"WHERE {id_column} = %s AND wrapped = %s"
                    ),
                    update,
                )
                # the library's SQLite cursor wraps sqlite3's, which counts the rows
                result.rewrapped += getattr(c, "sqlite_cursor", c).rowcount
        if progress is not None:
            progress(result.rewrapped)


def _case_context(stored_id: Any) -> bytes:
    return (stored_id if isinstance(stored_id, UUID) else UUID(str(stored_id))).bytes


def status(keys: KeyStore) -> dict[str, int]:
    """How many live keys each master wraps, named ``current``, ``previous N`` or by its
    fingerprint when this process does not hold it; and how many keys are destroyed."""
    keys.payload_key()  # a store from before the envelope layout adopts it first
    names = {keys.masters.current.fingerprint: "current"}
    for n, master in enumerate(keys.masters.previous, 1):
        names.setdefault(master.fingerprint, f"previous {n}")
    counts: Counter[str] = Counter()
    with keys.datastore.transaction(commit=False) as c:
        for table in (STORE_KEYS_TABLE, DATA_KEYS_TABLE):
            c.execute(
                f"SELECT wrapped_by, wrapped IS NULL AS destroyed, COUNT(*) AS n FROM {table} "
                "GROUP BY wrapped_by, wrapped IS NULL"
            )
            for row in c.fetchall():
                if row["destroyed"]:
                    counts["destroyed"] += int(row["n"])
                else:
                    fingerprint = row["wrapped_by"]
                    label = names.get(fingerprint, f"unknown master {fingerprint}")
                    if fingerprint is None:
                        label = "unnamed (from before the envelope layout)"
                    counts[label] += int(row["n"])
    return dict(counts)
