"""Helpers for the projection tests: writing histories, reading read models, worker processes.

Everything reads the database the way an operator would (tables, tracking rows, pg_locks);
nothing here reaches into a runner's private state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from eventsourcing.persistence import EventStore

from application import commands as c
from application.access import ADMIN, PRACTITIONER, SPO, Actor
from application.service import Written
from domain.case import Case, Meta
from domain.staff import Staff
from domain.vocabulary import Grade, RoSH, SentenceType, TerminationReason
from projections import tracking
from projections.history import CaseHistory
from projections.runner import Runner
from projections.schema import projection_tracking
from projections.system import all_projections
from tests.support import TEST_SECRET, LiveServer, ensure_staff

TEAMS = ("T1", "T2", "T3")
PDUS = ("SHF", "LDS", "BRD")
ACTOR = Actor("boss-1", frozenset({PRACTITIONER, SPO, ADMIN}), frozenset(TEAMS))
CASETRAIL = Path(sys.executable).parent / "casetrail"

Rows = dict[str, list[dict[str, Any]]]


# -- writing histories through the application ------------------------------------------------


def crn(number: int) -> str:
    return f"X{number % 1_000_000:06d}"


def open_case(
    app: Any,
    number: int,
    *,
    team: str = "T1",
    sentence_type: SentenceType = SentenceType.COMMUNITY_ORDER,
) -> Written:
    written: Written = app.open_case(
        c.OpenCase(
            crn=crn(number),
            person={"name": f"Person {number}", "date_of_birth": "1990-01-02"},
            sentence_type=sentence_type,
            start_date=date(2026, 1, 5),
            expected_end_date=date(2027, 1, 4),
            pdu=PDUS[TEAMS.index(team)],
            team=team,
            requirements={},
            licence_conditions=[],
            offence_flags=[],
        ),
        ACTOR,
    )
    return written


def register_staff(app: Any, staff_id: str, *, team: str = "T1", capacity: int = 30) -> Written:
    written: Written = app.register_staff(
        c.RegisterStaff(
            staff_id=staff_id,
            name=f"Staff {staff_id}",
            grade=Grade.PO,
            team=team,
            pdu=PDUS[TEAMS.index(team)],
            capacity=capacity,
            training=["domestic_abuse"],
        ),
        ACTOR,
    )
    return written


def allocate(app: Any, case_id: UUID, practitioner_id: str) -> Written:
    ensure_staff(app, practitioner_id)
    written: Written = app.execute(
        c.AllocateCase(
            case_id=case_id,
            practitioner_id=practitioner_id,
            training_considered=True,
            suitability_considered=True,
        ),
        ACTOR,
    )
    return written


def assess_risk(app: Any, case_id: UUID, rosh: RoSH) -> Written:
    written: Written = app.execute(
        c.AssessRisk(
            case_id=case_id,
            rosh=rosh,
            rosh_by_group={"public": rosh},
            needs=None,
            sources=[],
            person_involved=True,
        ),
        ACTOR,
    )
    return written


def transfer(app: Any, case_id: UUID, team: str) -> Written:
    written: Written = app.execute(
        c.TransferCase(case_id=case_id, team=team, pdu=PDUS[TEAMS.index(team)]), ACTOR
    )
    return written


def terminate(app: Any, case_id: UUID) -> Written:
    written: Written = app.execute(
        c.TerminateCase(case_id=case_id, reason=TerminationReason.COMPLETED), ACTOR
    )
    return written


def correct(app: Any, case_id: UUID, version: int, replacement: dict[str, Any]) -> Written:
    written: Written = app.execute(
        c.CorrectEvent(
            case_id=case_id,
            corrects_version=version,
            reason="recorded wrongly",
            replacement=dict(replacement),
        ),
        ACTOR,
    )
    return written


def some_history(app: Any, first: int, count: int) -> list[UUID]:
    """``count`` cases, each opened, allocated and risk-assessed; a staff member each."""
    ids = []
    for number in range(first, first + count):
        case_id = open_case(app, number, team=TEAMS[number % 3]).aggregate_id
        register_staff(app, f"po-{number}", team=TEAMS[number % 3])  # before the allocation
        allocate(app, case_id, f"po-{number}")
        assess_risk(app, case_id, list(RoSH)[number % 4])
        ids.append(case_id)
    return ids


def bulk_history(app: Any, cases: int, *, first: int = 0, chunk: int = 50) -> None:
    """Many events fast: decide on the aggregates directly and save ``chunk`` per transaction.

    Each case gets 5 events (open, allocate, assess, transfer, a correction of its allocation);
    every fifth case a staff registration too.
    """

    def meta() -> Meta:
        now = datetime.now(UTC)
        return Meta(actor_id=ACTOR.sub, command_id=uuid4(), occurred_at=now, now=now)

    pending: list[Case | Staff] = []
    for number in range(first, first + cases):
        team = TEAMS[number % 3]
        case = Case.open(
            meta=meta(),
            crn=crn(number),
            person={"name": f"Person {number}"},
            sentence_type=SentenceType.LICENCE,
            start_date=date(2026, 1, 5),
            expected_end_date=date(2027, 1, 4),
            pdu=PDUS[TEAMS.index(team)],
            team=team,
            requirements={},
            licence_conditions=[],
            offence_flags=[],
        )
        case.allocate(
            meta(),
            practitioner_id=f"po-{number}",
            training_considered=True,
            suitability_considered=True,
        )
        rosh = list(RoSH)[number % 4]
        case.assess_risk(
            meta(), rosh=rosh, rosh_by_group={}, needs=None, sources=[], person_involved=True
        )
        other = TEAMS[(number + 1) % 3]
        case.transfer(meta(), team=other, pdu=PDUS[TEAMS.index(other)])
        case.correct(
            meta(),
            corrects_version=2,
            reason="typo",
            replacement={"practitioner_id": f"pq-{number}"},
        )
        pending.append(case)
        if number % 5 == 0:
            pending.append(
                Staff.register(
                    meta=meta(),
                    staff_id=f"bulk-{number}",
                    name=f"Bulk {number}",
                    grade=Grade.PSO,
                    team=team,
                    pdu=PDUS[TEAMS.index(team)],
                    capacity=20,
                    training=[],
                )
            )
        if len(pending) >= chunk:
            app.save(*pending)
            pending = []
    if pending:
        app.save(*pending)


# -- reading the store and the read models -----------------------------------------------------


def head(container: Any) -> int:
    return int(container.app.recorder.max_notification_id() or 0)


def notification_count(container: Any, topics: Iterable[str] = ()) -> int:
    """How many notifications the store holds (ids can have gaps: count, do not subtract)."""
    recorder = container.app.recorder
    count, start, topics = 0, 1, list(topics)
    while True:
        page = recorder.select_notifications(start=start, limit=5000, topics=topics)
        count += len(page)
        if len(page) < 5000:
            return count
        start = page[-1].id + 1


def expected_processed(container: Any, name: str) -> int:
    """Events a projection applies: all of them, or those of the classes it handles."""
    return notification_count(container, container.projections.runner(name).topics)


def live_generation(engine: sa.Engine, name: str) -> int:
    with engine.connect() as conn:
        generation = tracking.active_generation(conn, name)
    assert generation is not None, f"{name} has no live generation"
    return generation


def live_tracking(engine: sa.Engine, name: str) -> tracking.Tracking:
    with engine.connect() as conn:
        generation = tracking.active_generation(conn, name)
        assert generation is not None, f"{name} has no live generation"
        return tracking.read(conn, name, generation)


def tracking_generations(engine: sa.Engine, name: str) -> set[int]:
    t = projection_tracking
    with engine.connect() as conn:
        query = sa.select(t.c.generation).where(t.c.projection == name)
        return {int(g) for g in conn.execute(query).scalars()}


def row_generations(engine: sa.Engine, table: sa.Table) -> set[int]:
    with engine.connect() as conn:
        return {int(g) for g in conn.execute(sa.select(table.c.generation).distinct()).scalars()}


def projections_of(container: Any) -> list[str]:
    """Every projection the system runs (new read models are covered as they are added)."""
    return list(container.projections.runners)


def rows_of(engine: sa.Engine, table: sa.Table, generation: int) -> list[dict[str, Any]]:
    """A table's rows of one generation, without the generation, in primary-key order."""
    keys = [c.name for c in table.primary_key.columns if c.name != "generation"]
    with engine.connect() as conn:
        found = conn.execute(sa.select(table).where(table.c.generation == generation)).mappings()
        rows = [{k: v for k, v in row.items() if k != "generation"} for row in found]
    return sorted(rows, key=lambda row: [str(row[k]) for k in keys])


def live_rows(container: Any) -> Rows:
    """Every read-model table's live rows, by table name."""
    engine, rows = container.engine, {}
    for name, runner in container.projections.runners.items():
        generation = live_generation(engine, name)
        for table in runner.projection.tables:
            rows[table.name] = rows_of(engine, table, generation)
    return rows


def rebuilt_rows(container: Any) -> Rows:
    """Rebuild every read model from zero, then read the (new) live generations."""
    for name in projections_of(container):
        container.projections.rebuild(name)
    return live_rows(container)


def is_caught_up(container: Any, names: Iterable[str] | None = None) -> bool:
    top = head(container)
    return all(
        live_tracking(container.engine, name).position >= top
        for name in (projections_of(container) if names is None else names)
    )


def assert_exactly_once(container: Any) -> None:
    """Every live projection at the head, having applied each of its events exactly once."""
    for name in projections_of(container):
        assert_exactly_once_for(container, name)


def assert_exactly_once_for(container: Any, name: str) -> None:
    top = head(container)
    t = live_tracking(container.engine, name)
    assert t.position == top, f"{name} at {t.position}, head {top}"
    assert t.events_processed == expected_processed(container, name), name
    assert t.status == tracking.RUNNING, (name, t.status, t.error)


class StaleRowsError(AssertionError):
    """A read model built incrementally differs from the same model rebuilt from zero."""


def assert_same_rows(incremental: list[dict[str, Any]], rebuilt: list[dict[str, Any]]) -> None:
    if incremental != rebuilt:
        by_key = {str(row.get("case_id", row.get("staff_id"))): row for row in rebuilt}
        diffs = []
        for row in incremental:
            other = by_key.get(str(row.get("case_id", row.get("staff_id"))), {})
            diff = {k: (v, other.get(k)) for k, v in row.items() if other.get(k) != v}
            if diff:
                diffs.append(diff)
        raise StaleRowsError(
            f"{len(diffs)} of {len(incremental)} rows differ (incremental, rebuilt): {diffs[:5]}"
            f"; row counts {len(incremental)} vs {len(rebuilt)}"
        )


def fresh_runner(container: Any, name: str, *, batch_size: int) -> Runner:
    """A second, independent runner of projection ``name`` (as another process would have)."""
    app = container.app
    history = CaseHistory(EventStore(mapper=app.mapper, recorder=app.recorder))
    projection = next(p for p in all_projections(history) if p.name == name)
    return Runner(
        projection,
        engine=container.engine,
        recorder=app.recorder,
        mapper=app.mapper,
        batch_size=batch_size,
    )


class TimedOutError(AssertionError):
    pass


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, interval: float = 0.05, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimedOutError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def ready(server: LiveServer) -> dict[str, Any]:
    with server.client() as client:
        response = client.get("/ready")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def advisory_locks(engine: sa.Engine) -> list[tuple[str, int]]:
    """(application_name, key) of every advisory lock granted in this database."""
    query = sa.text(
        "SELECT a.application_name, (l.classid::bigint << 32) + l.objid::bigint "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
    )
    with engine.connect() as conn:
        return sorted((str(name), int(key)) for name, key in conn.execute(query))


# -- worker processes --------------------------------------------------------------------------


def advisory_key(name: str) -> int:
    """The advisory lock key a runner of projection ``name`` takes (coordination.py)."""
    return zlib.crc32(f"casetrail:{name}".encode())


class Worker:
    """A ``casetrail projections run`` process; always stopped (or killed) by the test."""

    def __init__(self, database_url: str, var_dir: Path, *, label: str, batch_size: int) -> None:
        self.label = label
        self.log_path = var_dir / f"worker-{label}.log"
        self.env = {
            **os.environ,
            "CASETRAIL_DATABASE_URL": database_url,
            "CASETRAIL_VAR_DIR": str(var_dir),
            "CASETRAIL_JWT_SECRET": TEST_SECRET,
            "CASETRAIL_ENV": "test",
            "CASETRAIL_PROJECTION_BATCH_SIZE": str(batch_size),
            "CASETRAIL_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None

    def start(self) -> Worker:
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(CASETRAIL), "projections", "run"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_started(self, timeout: float = 30.0) -> None:
        def started() -> bool:
            assert self.alive(), f"worker {self.label} exited:\n{self.output()}"
            return "projection worker running" in self.output()

        wait_until(started, timeout=timeout, interval=0.05, what=f"worker {self.label} to start")

    def kill(self) -> None:
        """SIGKILL: no clean-up in the worker at all, as in a crash or an OOM kill."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time; idempotent."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck process
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.log is not None:
            self.log.close()
            self.log = None
