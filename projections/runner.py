"""The catch-up runner: read a batch after the tracked position, apply it, commit rows and
the new position together, repeat. Never skips an event, never applies one twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections import tracking
from projections.base import Batch, Projection
from projections.coordination import runner_lock
from projections.schema import projection_active, projection_tracking

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (position, head)


@dataclass(frozen=True)
class Fetched:
    after: int  # the position it was read after
    head: int
    position: int  # the position once applied
    batch: Batch


@dataclass(frozen=True)
class BatchResult:
    position: int
    head: int
    applied: int

    @property
    def caught_up(self) -> bool:
        return self.position >= self.head


def fetch(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    after: int,
    limit: int,
    topics: Sequence[str] = (),
) -> Fetched:
    """The next batch after ``after`` (of ``topics``; none: every event), decoded. The head
    is read first: every id up to it is committed (the store's insert lock), so nothing below
    it can appear later."""
    head = recorder.max_notification_id() or 0
    if after >= head:
        return Fetched(after, head, after, [])
    notifications = recorder.select_notifications(
        start=after + 1, limit=limit, stop=head, topics=topics
    )
    full = len(notifications) == limit
    position = notifications[-1].id if full else head
    batch = [(n.id, mapper.to_domain_event(n)) for n in notifications]
    return Fetched(after, head, position, batch)


class Prefetcher:
    """Reads and decodes the next batch in a background thread while the current one is
    applied; the caller uses it only if it was read after the position the batch reached."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._next: Future[Fetched] | None = None

    def take(self) -> Fetched | None:
        pending, self._next = self._next, None
        return pending.result() if pending is not None else None

    def start(self, read: Callable[..., Fetched], *args: Any) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"prefetch-{self.name}")
        self._next = self._pool.submit(read, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._next = None


class Runner:
    """Keeps one projection's generation up to date with the event store."""

    def __init__(
        self,
        projection: Projection,
        *,
        engine: sa.Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        batch_size: int = 1000,
        on_batch: Callable[[str, BatchResult], None] | None = None,
    ) -> None:
        self.projection = projection
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.topics = projection.topics()
        self.prefetcher = Prefetcher(projection.name)
        self._committed: dict[int, int] = {}  # generation -> position this runner committed

    @property
    def name(self) -> str:
        return self.projection.name

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def fetch(self, after: int) -> Fetched:
        return fetch(self.recorder, self.mapper, after, self.batch_size, self.topics)

    def run_batch(self, generation: int | None = None) -> BatchResult:
        """Apply the next batch to ``generation`` (default: the live one) in one transaction.

        While it is applied and committed, the batch after it is read and decoded in a
        background thread; it is used only if this batch commits where it expected.
        """
        fetched = self.prefetcher.take()
        try:
            with self.engine.begin() as conn:
                generation, current = self.open(conn, generation)
                if fetched is None or fetched.after != current.position:
                    fetched = self.fetch(current.position)
                if fetched.position <= current.position:
                    self.idle(conn, current)
                    return BatchResult(current.position, fetched.head, 0)
                if fetched.position < fetched.head:
                    self.prefetcher.start(self.fetch, fetched.position)
                self.apply(conn, current, fetched.batch, fetched.position, fetched.head)
        except BaseException:
            self.rolled_back(generation)
            raise
        result = BatchResult(fetched.position, fetched.head, len(fetched.batch))
        self.committed(generation, result)
        return result

    # The steps of a batch, shared with the group runner (projections/group.py), which
    # takes them for every read model inside one transaction.

    def open(self, conn: sa.Connection, generation: int | None) -> tuple[int, tracking.Tracking]:
        """Lock and read the tracking row of ``generation`` (default: the live one)."""
        if generation is None:
            # Locking the live-generation row serialises the batch with a rebuild's swap.
            live = tracking.active_generation(conn, self.name, lock=True)
            generation = live if live is not None else tracking.ensure_active(conn, self.name)
        current = tracking.read(conn, self.name, generation, lock=True)
        self.check(current)
        return generation, current

    def check(self, current: tracking.Tracking) -> None:
        """Drop cached rows if someone else moved this projection since our last commit (a
        standby, a catch-up beside a worker, a rebuild's swap): they may be stale."""
        if current.position != self._committed.get(current.generation):
            self.projection.forget()

    def idle(self, conn: sa.Connection, current: tracking.Tracking) -> None:
        """Nothing new: say so once (and clear a failure a retry has overcome)."""
        if current.caught_up_at is None or current.status == tracking.FAILED:
            tracking.mark_caught_up(conn, current)

    def apply(
        self,
        conn: sa.Connection,
        current: tracking.Tracking,
        batch: Batch,
        position: int,
        head: int,
    ) -> None:
        """Apply ``batch`` and move the position to ``position``, fenced on the old one."""
        self.projection.process(conn, current.generation, batch)
        tracking.advance(conn, current, position, len(batch), caught_up=position >= head)

    def committed(self, generation: int, result: BatchResult) -> None:
        self.projection.committed()
        self._committed[generation] = result.position
        if self.on_batch is not None:
            self.on_batch(self.name, result)

    def rolled_back(self, generation: int | None) -> None:
        self.projection.forget()
        if generation is not None:
            self._committed.pop(generation, None)

    def close(self) -> None:
        self.prefetcher.close()

    def catch_up(self, generation: int | None = None, progress: Progress | None = None) -> int:
        """Run batches until the projection has applied the head as of this call."""
        target = self.head()
        while True:
            result = self.run_batch(generation)
            if progress is not None:
                progress(result.position, max(result.head, target))
            if result.position >= target:
                return result.position

    def fail(self, exc: Exception) -> None:
        logger.error(
            "projection %s failed: %s: %s", self.name, type(exc).__name__, exc, exc_info=exc
        )
        try:
            with self.engine.begin() as conn:
                generation = tracking.ensure_active(conn, self.name)
                tracking.mark_failed(conn, self.name, generation, f"{type(exc).__name__}: {exc}")
        except Exception:
            logger.exception("projection %s: could not record the failure", self.name)


def rebuild(runner: Runner, progress: Progress | None = None) -> int:
    """Replay from zero into a new generation beside the live one, then swap it in.

    Queries keep reading the live generation until the swap, which is one transaction.
    Returns the new generation.
    """
    lock = runner_lock(runner.engine, runner.name + ".rebuild")
    if not lock.acquire():
        raise RuntimeError(f"a rebuild of {runner.name} is already running")
    try:
        with runner.engine.begin() as conn:
            live = tracking.ensure_active(conn, runner.name)
            t = projection_tracking
            # A rebuild that failed or was killed left its generation behind: clear it.
            abandoned = (
                conn.execute(
                    sa.select(t.c.generation).where(
                        t.c.projection == runner.name, t.c.generation != live
                    )
                )
                .scalars()
                .all()
            )
            for generation in abandoned:
                runner.projection.clear(conn, generation)
                conn.execute(
                    sa.delete(t).where(t.c.projection == runner.name, t.c.generation == generation)
                )
            latest = conn.execute(
                sa.select(sa.func.max(t.c.generation)).where(t.c.projection == runner.name)
            ).scalar_one()
            generation = int(latest) + 1
            runner.projection.clear(conn, generation)
            tracking.start(conn, runner.name, generation, tracking.BUILDING)
        runner.catch_up(generation, progress)
        with runner.engine.begin() as conn:
            old = tracking.active_generation(conn, runner.name, lock=True)
            conn.execute(
                sa.update(projection_active)
                .where(projection_active.c.projection == runner.name)
                .values(generation=generation)
            )
            conn.execute(
                sa.update(t)
                .where(t.c.projection == runner.name, t.c.generation == generation)
                .values(status=tracking.RUNNING)
            )
        with runner.engine.begin() as conn:
            if old is not None:
                runner.projection.clear(conn, old)
                conn.execute(
                    sa.delete(t).where(t.c.projection == runner.name, t.c.generation == old)
                )
        return generation
    finally:
        lock.release()


def wait_for(engine: sa.Engine, projection: str, position: int, timeout: float) -> bool:
    """Read-your-writes: wait until ``projection`` has applied ``position`` (or time out)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        with engine.connect() as conn:
            generation = tracking.active_generation(conn, projection)
            if (
                generation is not None
                and tracking.read(conn, projection, generation).position >= position
            ):
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
