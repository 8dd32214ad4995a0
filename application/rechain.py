"""Re-chaining: every chain link recomputed under a new integrity key, no event touched.

The integrity key cannot be rotated by re-wrapping (docs/security.md says why), so rotating
it means new links. Every link is first verified under the old key, in store order: a store
with any break is not re-chained (a forged history must not come out with a valid chain).
The whole run is one transaction that holds the event store's write lock (PostgreSQL: the
library's table lock; SQLite: the database's), so writers wait, and a reader sees the old
chain or the new one, never a mixture. Run it with the API and projection runners stopped:
a process still holding the old key would link new events under it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from application.integrity import CHAIN_TABLE, GENESIS, Integrity, link
from application.key_watch import GENERATION_TABLE
from application.store import is_postgres
from application.verification import ChainedRecorder, verify_store

Progress = Callable[[int, int], None]


class BrokenChainError(RuntimeError):
    """The chain does not verify under the old key: nothing was re-chained."""

    def __init__(self, broken: dict[UUID, Integrity]) -> None:
        super().__init__(f"{len(broken)} aggregates do not verify under the old key")
        self.broken = broken


def rechain(
    recorder: ApplicationRecorder,
    new_key: bytes,
    *,
    batch: int = 2000,
    progress: Progress | None = None,
) -> int:
    """Re-link every stored event under ``new_key`` (the recorder's ``chain_key`` is the
    old one); the number of links written."""
    datastore: Any = getattr(recorder, "datastore")  # noqa: B009 (not on the protocol)
    postgres = is_postgres(datastore)
    mark = "%s" if postgres else "?"
    with datastore.transaction(commit=True) as c:
        if postgres:
            c.execute(
                f'LOCK TABLE "{datastore.schema}"."{recorder.events_table_name}" '  # type: ignore[attr-defined]
                "IN EXCLUSIVE MODE"
            )
        else:  # a write takes SQLite's write lock now rather than at the first update
            c.execute(f"UPDATE {GENERATION_TABLE} SET generation = generation WHERE id = 1")
        broken = verify_store(recorder, batch=batch)  # other connections: the committed chain
        if broken:
            raise BrokenChainError(broken)
        written = 0
        previous: dict[UUID, str] = {}
        head = recorder.max_notification_id() or 0
        position = 0
        while position < head:
            notes = recorder.select_notifications(start=position + 1, limit=batch, stop=head)
            if not notes:
                break
            rows = []
            for note in notes:
                originator_id = cast(UUID, note.originator_id)
                new = link(
                    new_key,
                    previous.get(originator_id, GENESIS),
                    originator_id,
                    note.originator_version,
                    note.topic,
                    note.state,
                )
                previous[originator_id] = new
                stored_id: Any = originator_id if postgres else originator_id.hex
                rows.append((new, stored_id, note.originator_version))
            c.executemany(
                f"UPDATE {CHAIN_TABLE} SET hash = {mark} "
                f"WHERE originator_id = {mark} AND originator_version = {mark}",
                rows,
            )
            written += len(rows)
            position = notes[-1].id
            if progress is not None:
                progress(position, head)
    chained = cast(_Rechained, recorder)
    chained.chain_key = new_key
    chained.forget_tails()
    return written


class _Rechained(ChainedRecorder, Protocol):
    def forget_tails(self) -> None: ...
