"""Tamper evidence for the access log: each row is linked to the one before it in its lane.

link(lane, n) = HMAC-SHA256(key, link(lane, n-1) | lane | n | at | actor | roles | case |
endpoint | request id), with link(lane, 0) = 64 zeros, as the events are chained. Each lane's
last number and link are kept in ``access_log_heads`` and move in the row's own transaction.
There are ``LANES`` chains rather than one so that concurrent reads, each of which writes a
row, wait for each other only when they draw the same lane.

So a row altered no longer matches its link; a row deleted leaves a gap in its lane's
numbers; the last rows deleted leave the head ahead of the rows; a row inserted behind
casetrail's back has no place in any lane. The key is derived from the integrity key: nobody
with write access to the database alone can forge a consistent chain.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from application.integrity import GENESIS
from application.schema import access_log, access_log_heads

LANES = 32
MAX_BREAKS = 100
Progress = Callable[[int, int], None]


def access_log_key(chain_key: bytes) -> bytes:
    """The access log's own HMAC key, derived from the event chain's."""
    return hmac.new(chain_key, b"casetrail access log chain", hashlib.sha256).digest()


@dataclass(frozen=True)
class Entry:
    """What a row of the access log says, as its link covers it."""

    at: datetime
    actor_id: str
    roles: str
    case_id: UUID | None
    endpoint: str
    request_id: str

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> Entry:
        return cls(
            row["at"],
            row["actor_id"],
            row["roles"],
            row["case_id"],
            row["endpoint"],
            row["request_id"],
        )

    def values(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "actor_id": self.actor_id,
            "roles": self.roles,
            "case_id": self.case_id,
            "endpoint": self.endpoint,
            "request_id": self.request_id,
        }

    def canonical(self) -> str:
        # Stored instants come back aware (PostgreSQL) or naive UTC (SQLite): one form.
        at = self.at.replace(tzinfo=UTC) if self.at.tzinfo is None else self.at.astimezone(UTC)
        case = self.case_id.hex if self.case_id is not None else ""
        fields = (at.isoformat(), self.actor_id, self.roles, case, self.endpoint, self.request_id)
        return "|".join(f"{len(f)}:{f}" for f in fields)


def entry_link(key: bytes, previous: str, lane: int, seq: int, entry: Entry) -> str:
    message = f"{previous}|{lane}|{seq}|{entry.canonical()}"
    return hmac.new(key, message.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


Head = tuple[int, str]  # a lane's last number and link


def append(
    conn: sa.Connection, key: bytes, entry: Entry, lane: int, known: Head | None = None
) -> Head | None:
    """Write ``entry`` as the next row of ``lane`` in ``conn``'s transaction; the lane's new
    head, or None if another writer moved it first (SQLite, which locks no row): try again.

    ``known`` is the head this process last wrote. While it is current the head is not read:
    the row takes one statement on PostgreSQL (the head's move and the insert together), two
    on SQLite. When it is not, the head is read (and locked, on PostgreSQL) and written after.
    """
    if known is not None:
        written = _write(conn, key, entry, lane, known)
        if written is not None:
            return written
    heads = access_log_heads
    head = conn.execute(
        sa.select(heads.c.seq, heads.c.link).where(heads.c.lane == lane).with_for_update()
    ).one()
    return _write(conn, key, entry, lane, (head.seq, head.link))


def _write(conn: sa.Connection, key: bytes, entry: Entry, lane: int, head: Head) -> Head | None:
    """Move ``lane``'s head on from ``head`` and insert the row, if ``head`` is current."""
    heads = access_log_heads
    seq = head[0] + 1
    link = entry_link(key, head[1], lane, seq, entry)
    move = (
        sa.update(heads)
        .where(heads.c.lane == lane, heads.c.seq == head[0])
        .values(seq=seq, link=link)
    )
    values = {**entry.values(), "lane": lane, "seq": seq, "link": link}
    if conn.dialect.name == "postgresql":
        moved = move.returning(heads.c.lane).cte("moved")
        t = access_log
        row = sa.select(
            *(sa.cast(sa.literal(v), t.c[name].type).label(name) for name, v in values.items())
        ).select_from(moved)
        insert = sa.insert(t).from_select(list(values), row).returning(t.c.seq)
        inserted = conn.execute(insert).first()  # (no rowcount for INSERT ... SELECT here)
        return (seq, link) if inserted is not None else None
    if conn.execute(move).rowcount != 1:
        return None
    conn.execute(sa.insert(access_log).values(**values))
    return (seq, link)


class _RacedError(Exception):
    """Another process chained the old rows first."""


def chain_unlinked(engine: sa.Engine, key: bytes) -> int:
    """Chain the rows written before the chain existed, in lane 0, once: only while no lane
    has begun. Afterwards an unchained row is one added behind casetrail's back, and
    ``verify_access_log`` names it. Returns how many rows were chained."""
    t, heads = access_log, access_log_heads
    try:
        with engine.begin() as conn:
            if conn.execute(sa.select(sa.func.max(heads.c.seq))).scalar():
                return 0
            rows = conn.execute(sa.select(t).where(t.c.seq.is_(None)).order_by(t.c.id)).mappings()
            previous, seq = GENESIS, 0
            for row in rows.all():
                seq += 1
                previous = entry_link(key, previous, 0, seq, Entry.from_row(row))
                conn.execute(
                    sa.update(t)
                    .where(t.c.id == row["id"], t.c.seq.is_(None))
                    .values(lane=0, seq=seq, link=previous)
                )
            if seq == 0:
                return 0
            moved = conn.execute(
                sa.update(heads)
                .where(heads.c.lane == 0, heads.c.seq == 0)
                .values(seq=seq, link=previous)
            )
            if moved.rowcount != 1:
                raise _RacedError
            return seq
    except _RacedError:
        return 0


@dataclass(frozen=True)
class Break:
    """One place where the access log does not match its chain."""

    row_id: int | None  # None: the row is gone
    lane: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row_id}" if self.row_id is not None else "rows"
        place = f" (lane {self.lane}, number {self.seq})" if self.lane is not None else ""
        return f"{where}{place}: {self.reason}"


@dataclass
class AccessLogIntegrity:
    ok: bool = True
    checked: int = 0
    breaks: list[Break] = field(default_factory=list)
    more_breaks: int = 0  # beyond the first MAX_BREAKS

    def add(self, found: Break) -> None:
        self.ok = False
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(found)
        else:
            self.more_breaks += 1


class _Lane:
    """Walks one lane's rows in order, checking each link."""

    def __init__(self, key: bytes, lane: int, result: AccessLogIntegrity) -> None:
        self.key, self.lane, self.result = key, lane, result
        self.seq = 0
        self.previous: tuple[str, ...] = (GENESIS,)  # links the next row may follow

    def feed(self, row: sa.RowMapping) -> None:
        seq, entry = row["seq"], Entry.from_row(row)
        if seq != self.seq + 1:
            span = f"{self.seq + 1}" if seq == self.seq + 2 else f"{self.seq + 1} to {seq - 1}"
            self.result.add(Break(None, self.lane, self.seq + 1, f"number {span} deleted"))
            self.previous = (row["link"],)  # the link before is gone: re-anchor, unchecked
        else:
            computed = [entry_link(self.key, p, self.lane, seq, entry) for p in self.previous]
            if row["link"] in computed:
                self.previous = (row["link"],)
            else:
                reason = "altered: its content does not match its link"
                self.result.add(Break(row["id"], self.lane, seq, reason))
                # Whichever was altered, the content or the link, the next row follows one.
                self.previous = (row["link"], computed[0])
        self.seq = seq
        self.result.checked += 1

    def finish(self, head: int) -> None:
        if head > self.seq:
            span = f"{self.seq + 1}" if head == self.seq + 1 else f"{self.seq + 1} to {head}"
            self.result.add(Break(None, self.lane, self.seq + 1, f"number {span} deleted"))
        elif head < self.seq:
            self.result.add(Break(None, self.lane, head, "the lane's head was moved back"))


def verify_access_log(
    conn: sa.Connection, key: bytes, *, progress: Progress | None = None, batch: int = 5000
) -> AccessLogIntegrity:
    """Check every row of the access log against its chain; name each break."""
    t, heads = access_log, access_log_heads
    result = AccessLogIntegrity()
    total = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
    unchained = sa.select(t.c.id).where(t.c.seq.is_(None)).order_by(t.c.id)
    for row_id in conn.execute(unchained).scalars():
        result.add(Break(row_id, None, None, "not in the chain: added behind casetrail's back"))
        result.checked += 1
    lanes = dict(conn.execute(sa.select(heads.c.lane, heads.c.seq)).all())
    for lane in sorted(set(lanes) | _lanes_in_rows(conn)):
        walker = _Lane(key, lane, result)
        for rows in _lane_rows(conn, lane, batch):
            for row in rows:
                walker.feed(row)
            if progress is not None:
                progress(result.checked, total)
        walker.finish(lanes.get(lane, 0))
    if progress is not None:
        progress(result.checked, total)
    return result


def _lanes_in_rows(conn: sa.Connection) -> set[int]:
    t = access_log
    return set(conn.execute(sa.select(t.c.lane).where(t.c.lane.is_not(None)).distinct()).scalars())


def _lane_rows(conn: sa.Connection, lane: int, batch: int) -> Iterable[list[sa.RowMapping]]:
    """A lane's rows in order, ``batch`` at a time (keyset pagination on the chain index)."""
    t = access_log
    after = 0
    while True:
        rows = (
            conn.execute(
                sa.select(t).where(t.c.lane == lane, t.c.seq > after).order_by(t.c.seq).limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        yield list(rows)
        after = rows[-1]["seq"]
