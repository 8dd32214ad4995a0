"""All projections of a casetrail process: their runners, threads, status and rebuilds."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, EventStore, Mapper
from prometheus_client import Counter, Gauge

from projections import tracking
from projections.audit_events import AuditEventsProjection
from projections.base import Projection
from projections.case_list import CaseListProjection
from projections.coordination import Waker, notify_channel
from projections.equality import EqualityProjection
from projections.group import GroupRunner
from projections.history import CaseHistory
from projections.oversight import OversightProjection
from projections.relay import WebhookRelay
from projections.runner import BatchResult, Progress, Runner, rebuild, wait_for
from projections.staff_directory import StaffDirectoryProjection
from projections.staff_profiles import StaffProfileProjection

logger = logging.getLogger(__name__)
EVENTS_PROCESSED = Counter(
    "casetrail_projection_events_processed_total", "Events applied by a projection", ["projection"]
)
POSITION = Gauge("casetrail_projection_position", "Last applied notification id", ["projection"])
HEAD = Gauge("casetrail_event_store_head", "Last notification id seen in the event store")


@dataclass(frozen=True)
class Status:
    projection: str
    generation: int
    position: int
    head: int
    status: str
    error: str | None
    lag_events: int
    lag_seconds: float
    events_processed: int

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def all_projections(history: CaseHistory) -> list[Projection]:
    return [
        CaseListProjection(history),
        StaffDirectoryProjection(),
        AuditEventsProjection(),
        OversightProjection(history),
        EqualityProjection(history),
        StaffProfileProjection(),
    ]


class ProjectionSystem:
    """Builds a runner per projection; runs them in threads (embedded or worker mode)."""

    def __init__(
        self,
        engine: sa.Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        *,
        batch_size: int = 1000,
        linger: float = 0.01,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self.channel = notify_channel(recorder)
        self.batch_size = batch_size
        self.history = CaseHistory(EventStore(mapper=mapper, recorder=recorder))
        self.runners = {p.name: self._runner(p) for p in all_projections(self.history)}
        self.group = GroupRunner(
            list(self.runners.values()),
            engine=engine,
            recorder=recorder,
            mapper=mapper,
            batch_size=batch_size,
            linger=linger,
            waker=Waker(engine, self.channel),
        )
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        # The webhook relay (projections/relay.py), set by the composition root: it runs
        # wherever the read models run, with the same locks and standbys.
        self.relay: WebhookRelay | None = None

    def setup(self) -> None:
        """Create each projection's live generation if it has none (idempotent)."""
        for name in self.runners:
            try:
                with self.engine.begin() as conn:
                    tracking.ensure_active(conn, name)
            except sa.exc.IntegrityError:
                pass  # another process created it first

    def _runner(self, projection: Projection) -> Runner:
        return Runner(
            projection,
            engine=self.engine,
            recorder=self.recorder,
            mapper=self.mapper,
            batch_size=self.batch_size,
            on_batch=_record_metrics,
        )

    def runner(self, name: str) -> Runner:
        try:
            return self.runners[name]
        except KeyError:
            raise KeyError(f"no projection {name!r}; known: {', '.join(self.runners)}") from None

    def wake(self) -> None:
        self.group.waker.wake()
        if self.relay is not None:
            self.relay.wake()

    def start(self) -> None:
        """Keep every projection up to date in one daemon thread (embedded mode, and the
        worker): one transaction per batch for all of them (projections/group.py)."""
        self.stop_event.clear()
        thread = threading.Thread(
            target=self.group.run_forever,
            args=(self.stop_event,),
            name="projections",
            daemon=True,
        )
        thread.start()
        self.threads.append(thread)
        if self.relay is not None:
            relay = threading.Thread(
                target=self.relay.run_forever, args=(self.stop_event,), name="webhooks", daemon=True
            )
            relay.start()
            self.threads.append(relay)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.wake()
        for thread in self.threads:
            thread.join(timeout)
        self.threads.clear()
        self.group.close()

    def catch_up(self) -> None:
        """Bring every projection up to the current head, in this thread (tests, CLI)."""
        self.group.catch_up()

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild with its own runner and projection instance: nothing shared with the live
        runner thread (its caches, its prefetch) while both run."""
        self.runner(name)  # unknown names fail here
        fresh = next(p for p in all_projections(self.history) if p.name == name)
        runner = self._runner(fresh)
        try:
            return rebuild(runner, progress)
        finally:
            runner.close()

    def wait_for(self, name: str, position: int, timeout: float) -> bool:
        if position <= 0:
            return True
        self.wake()
        return wait_for(self.engine, name, position, timeout)

    def live(self, name: str) -> Any:
        """The live generation of ``name`` for a read, resolved inside the read's statement."""
        self.runner(name)  # unknown names fail here
        return tracking.live(name)

    def status(self) -> list[Status]:
        head = self.recorder.max_notification_id() or 0
        HEAD.set(head)
        with self.engine.connect() as conn:
            live = {t.projection: t for t in tracking.all_live(conn)}
        now = datetime.now(UTC)
        statuses = []
        for name in self.runners:
            t = live.get(name)
            if t is None:
                statuses.append(Status(name, 0, 0, head, "new", None, head, 0.0, 0))
                continue
            lag = max(head - t.position, 0)
            since = t.caught_up_at or t.updated_at
            seconds = 0.0 if lag == 0 else max((now - _aware(since)).total_seconds(), 0.0)
            statuses.append(
                Status(
                    name,
                    t.generation,
                    t.position,
                    head,
                    t.status,
                    t.error,
                    lag,
                    round(seconds, 3),
                    t.events_processed,
                )
            )
        return statuses


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _record_metrics(name: str, result: BatchResult) -> None:
    EVENTS_PROCESSED.labels(name).inc(result.applied)
    POSITION.labels(name).set(result.position)
    HEAD.set(result.head)
