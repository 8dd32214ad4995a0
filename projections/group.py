"""Every read model brought up to date together: one read of the store and one transaction
per batch for all of them, so that under load an event costs a fraction of one commit.

The per-projection runner (projections/runner.py) commits once per read model per wake-up:
four commits, each a WAL flush on PostgreSQL or the one write lock on SQLite, for every
command that arrives while the runners are idle. The group reads the next batch once, hands
each read model the events it handles after its own position, and commits every position
with its rows. While events stream in it lingers a moment before reading, so that one commit
carries several commands' events; the first event after a pause is applied at once.

Failure isolation stays: a batch that fails is retried read model by read model, and a read
model that still fails leaves the group, is marked failed, and is retried alone with backoff
while the others carry on.

A lost database (PostgreSQL stopped or restarted) is not a read model's failure: nothing is
marked failed and nothing backs off for long. The loop lets go of its locks (their sessions
are gone with the server, and a standby may take them) and tries again every
``RECONNECT_DELAY`` seconds, so that it is at work again within a second of the return.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections import tracking
from projections.base import Batch
from projections.coordination import RunnerLock, Waker, is_disconnect, runner_lock
from projections.runner import BatchResult, Fetched, Prefetcher, Runner, fetch

logger = logging.getLogger(__name__)
RECONNECT_DELAY = 0.25


@dataclass
class Member:
    """A read model's runner in the group, with its lock and its failure backoff."""

    runner: Runner
    lock: RunnerLock
    held: bool = False
    retry_at: float = 0.0  # monotonic; 0 while healthy
    backoff: float = 0.5

    @property
    def healthy(self) -> bool:
        return self.retry_at == 0.0


@dataclass(frozen=True)
class GroupResult:
    position: int  # the lowest position of the read models in the batch
    head: int
    events: int  # events in the batch read from the store

    @property
    def caught_up(self) -> bool:
        return self.position >= self.head


class GroupRunner:
    """Keeps several read models up to date in one transaction per batch."""

    def __init__(
        self,
        runners: Sequence[Runner],
        *,
        engine: sa.Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        batch_size: int = 1000,
        linger: float = 0.01,
        waker: Waker,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runners = list(runners)
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self.batch_size = batch_size
        self.linger = linger
        self.waker = waker
        self.clock = clock
        self.topics = _union_topics(self.runners)
        self.prefetcher = Prefetcher("projections")

    def run_batch(self, runners: Sequence[Runner] | None = None) -> GroupResult:
        """Apply the next batch to the live generation of each of ``runners`` (default: all)
        in one transaction. A read model already past part of the batch gets only the rest.

        The batch after it is read and decoded in a background thread while this one is
        applied, and used only if this batch commits where it expected.
        """
        members = list(self.runners if runners is None else runners)
        fetched = self.prefetcher.take()
        opened: list[tuple[Runner, tracking.Tracking]] = []
        applied: list[tuple[Runner, tracking.Tracking, int]] = []
        try:
            with self.engine.begin() as conn:
                live = tracking.open_live(conn, [runner.name for runner in members])
                for runner in members:
                    runner.check(live[runner.name])
                    opened.append((runner, live[runner.name]))
                after = min(current.position for _, current in opened)
                if fetched is None or fetched.after != after:
                    fetched = self.fetch(after)
                if fetched.position > after and fetched.position < fetched.head:
                    self.prefetcher.start(self.fetch, fetched.position)
                for runner, current in opened:
                    if fetched.position <= current.position:
                        runner.idle(conn, current)
                        continue
                    batch = _for(runner, fetched.batch, current.position)
                    runner.projection.process(conn, current.generation, batch)
                    applied.append((runner, current, len(batch)))
                tracking.advance_all(
                    conn,
                    [(current, count) for _, current, count in applied],
                    fetched.position,
                    caught_up=fetched.position >= fetched.head,
                )
        except BaseException:
            for runner, current in opened:
                runner.rolled_back(current.generation)
            for runner in members[len(opened) :]:
                runner.projection.forget()
            raise
        for runner, current, count in applied:
            runner.committed(current.generation, BatchResult(fetched.position, fetched.head, count))
        return GroupResult(
            min(max(fetched.position, current.position) for _, current in opened),
            fetched.head,
            len(fetched.batch),
        )

    def fetch(self, after: int) -> Fetched:
        return fetch(self.recorder, self.mapper, after, self.batch_size, self.topics)

    def catch_up(self) -> int:
        """Run batches until every read model has applied the head as of this call."""
        target = self.recorder.max_notification_id() or 0
        while True:
            result = self.run_batch()
            if result.position >= target:
                return result.position

    def run_forever(self, stop: threading.Event, *, idle_wait: float = 1.0) -> None:
        """Hold each read model's lock (or stand by for it), keep the held ones up to date
        together, wait for events, repeat. Standbys try the locks they lack once a second."""
        members = [Member(r, runner_lock(self.engine, r.name)) for r in self.runners]
        next_try = 0.0
        try:
            while not stop.is_set():
                try:
                    next_try = self._cycle(stop, members, next_try, idle_wait)
                except Exception as exc:
                    if not is_disconnect(exc):
                        raise
                    logger.warning("projections: database unavailable (%s); retrying", exc)
                    self._let_go(members)
                    next_try = 0.0
                    stop.wait(RECONNECT_DELAY)
        finally:
            self._let_go(members)
            self.close()
            self.waker.close()

    def _cycle(
        self, stop: threading.Event, members: list[Member], next_try: float, idle_wait: float
    ) -> float:
        """One turn of ``run_forever``; returns when to try the missing locks next."""
        now = self.clock()
        if now >= next_try:
            self._take_locks(members)
            next_try = now + 1.0
        held = [m for m in members if m.held]
        if not held:
            stop.wait(1.0)  # hot standby for every read model
            return next_try
        self._retry_failed(held)
        group = [m for m in held if m.healthy]
        if not group:
            stop.wait(max(min(m.retry_at for m in held) - self.clock(), 0.05))
            return next_try
        result = self._step(group)
        if result is not None and result.caught_up:
            self._wait(stop, idle_wait, lingering=result.events > 0)
        return next_try

    @staticmethod
    def _let_go(members: list[Member]) -> None:
        for member in members:
            if member.held:
                member.held = False
                member.lock.release()

    def _step(self, group: list[Member]) -> GroupResult | None:
        try:
            return self.run_batch([m.runner for m in group])
        except tracking.FencedError:
            logger.warning("projections: fenced by another runner; re-reading positions")
            return None
        except Exception as exc:
            if is_disconnect(exc):
                raise  # nobody's fault: see run_forever
            # Find which read model failed: each applies this batch alone; the healthy ones
            # commit and stay in the group, the failing one is marked failed and backs off.
            for member in group:
                self._alone(member)
            return None

    def _alone(self, member: Member) -> None:
        runner = member.runner
        try:
            runner.run_batch()
        except tracking.FencedError:
            logger.warning("projection %s: fenced by another runner", runner.name)
        except Exception as exc:
            if is_disconnect(exc):
                raise
            runner.fail(exc)
            member.retry_at = self.clock() + member.backoff
            member.backoff = min(member.backoff * 2, 30.0)
        else:
            member.retry_at, member.backoff = 0.0, 0.5

    def _retry_failed(self, held: list[Member]) -> None:
        """A failed read model whose backoff has passed tries a batch alone; it rejoins the
        group once that succeeds (it may lag the others: the group's batch covers it)."""
        now = self.clock()
        for member in held:
            if not member.healthy and now >= member.retry_at:
                self._alone(member)

    def _take_locks(self, members: list[Member]) -> None:
        for member in members:
            if not member.held and member.lock.acquire():
                member.held = True
                member.runner.projection.forget()  # another runner may have moved its rows

    def _wait(self, stop: threading.Event, idle_wait: float, *, lingering: bool) -> None:
        """Wait for events. If the last batch found some and the next arrive within the
        linger, commands are streaming in: linger, so that the next commit carries several
        commands' events. After a pause (a frontend that writes, then reads its write with
        ``min_position``, then writes again later) the next event is applied at once."""
        started = self.clock()
        self.waker.wait(idle_wait)
        if lingering and self.linger > 0 and self.clock() - started < self.linger:
            stop.wait(self.linger)

    def close(self) -> None:
        self.prefetcher.close()


def _union_topics(runners: Sequence[Runner]) -> list[str]:
    """The topics any of them handles; none (every event) if one of them handles all."""
    if any(not runner.topics for runner in runners):
        return []
    return sorted({topic for runner in runners for topic in runner.topics})


def _for(runner: Runner, batch: Batch, after: int) -> Batch:
    """The part of ``batch`` that ``runner``'s read model handles, after its position."""
    handles = runner.projection.handles
    return [
        (n, event)
        for n, event in batch
        if n > after and (not handles or isinstance(event, handles))
    ]
