"""The catch-up runner: read a batch after the tracked position, apply it, commit rows and
the new position together, repeat. Never skips an event, never applies one twice."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections import tracking
from projections.base import Batch, Projection
from projections.coordination import RunnerLock, Waker, notify_channel, runner_lock
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
        waker: Waker | None = None,
        on_batch: Callable[[str, BatchResult], None] | None = None,
    ) -> None:
        self.projection = projection
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self.batch_size = batch_size
        self.waker = waker or Waker(engine, notify_channel(recorder))
        self.on_batch = on_batch
        self.topics = projection.topics()
        self._pool: ThreadPoolExecutor | None = None
        self._next: Future[Fetched] | None = None
        self._committed: dict[int, int] = {}  # generation -> position this runner committed

    @property
    def name(self) -> str:
        return self.projection.name

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def fetch(self, after: int) -> Fetched:
        """The next batch after ``after``, decoded. The head is read first: every id up to it
        is committed (the store's insert lock), so nothing below it can appear later."""
        head = self.head()
        if after >= head:
            return Fetched(after, head, after, [])
        limit = self.batch_size  # read once: a prefetch must not see it change mid-way
        notifications = self.recorder.select_notifications(
            start=after + 1, limit=limit, stop=head, topics=self.topics
        )
        full = len(notifications) == limit
        position = notifications[-1].id if full else head
        batch = [(n.id, self.mapper.to_domain_event(n)) for n in notifications]
        return Fetched(after, head, position, batch)

    def run_batch(self, generation: int | None = None) -> BatchResult:
        """Apply the next batch to ``generation`` (default: the live one) in one transaction.

        While it is applied and committed, the batch after it is read and decoded in a
        background thread; it is used only if this batch commits where it expected.
        """
        pending, self._next = self._next, None
        fetched = pending.result() if pending is not None else None
        try:
            with self.engine.begin() as conn:
                if generation is None:
                    # Locking the live-generation row serialises the batch with a rebuild's swap.
                    live = tracking.active_generation(conn, self.name, lock=True)
                    generation = (
                        live if live is not None else tracking.ensure_active(conn, self.name)
                    )
                current = tracking.read(conn, self.name, generation, lock=True)
                if current.position != self._committed.get(generation):
                    # Someone else moved this projection since our last commit (a standby,
                    # a catch-up beside a worker): rows we cached may be stale.
                    self.projection.forget()
                if fetched is None or fetched.after != current.position:
                    fetched = self.fetch(current.position)
                if fetched.position <= current.position:
                    if current.caught_up_at is None or current.status == tracking.FAILED:
                        tracking.mark_caught_up(conn, current)
                    return BatchResult(current.position, fetched.head, 0)
                if fetched.position < fetched.head:
                    self._next = self._prefetcher().submit(self.fetch, fetched.position)
                self.projection.process(conn, generation, fetched.batch)
                tracking.advance(
                    conn,
                    current,
                    fetched.position,
                    len(fetched.batch),
                    caught_up=fetched.position >= fetched.head,
                )
        except BaseException:
            self.projection.forget()
            self._committed.pop(generation, None)  # type: ignore[arg-type]
            raise
        self.projection.committed()
        self._committed[generation] = fetched.position
        result = BatchResult(fetched.position, fetched.head, len(fetched.batch))
        if self.on_batch is not None:
            self.on_batch(self.name, result)
        return result

    def _prefetcher(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"prefetch-{self.name}")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._next = None

    def catch_up(self, generation: int | None = None, progress: Progress | None = None) -> int:
        """Run batches until the projection has applied the head as of this call."""
        target = self.head()
        while True:
            result = self.run_batch(generation)
            if progress is not None:
                progress(result.position, max(result.head, target))
            if result.position >= target:
                return result.position

    def run_forever(self, stop: threading.Event, *, idle_wait: float = 1.0) -> None:
        """The active runner: hold the lock (or stand by for it), catch up, wait, repeat.

        A batch that fails is rolled back and the projection marked failed with the error;
        it is retried with backoff, so a fix (or a recovered database) resumes it from its
        tracked position with nothing lost. Other projections are unaffected.
        """
        lock: RunnerLock = runner_lock(self.engine, self.name)
        backoff = 0.5
        try:
            while not stop.is_set():
                if not lock.acquire():
                    stop.wait(1.0)  # hot standby
                    continue
                self.projection.forget()  # another runner may have moved rows meanwhile
                try:
                    while not stop.is_set():
                        result = self.run_batch()
                        backoff = 0.5
                        if result.caught_up:
                            self.waker.wait(idle_wait)
                except tracking.FencedError:
                    logger.warning("projection %s: fenced by another runner", self.name)
                except Exception as exc:
                    self._fail(exc)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                finally:
                    lock.release()
        finally:
            self.close()
            self.waker.close()

    def _fail(self, exc: Exception) -> None:
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
