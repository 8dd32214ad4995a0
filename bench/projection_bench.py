"""Projection catch-up: our batched runner against the library's ProjectionRunner, a bare
batched upsert loop, and raw batched INSERTs (the ceiling), on the same events."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier

from api.bootstrap import Container
from application.transcodings import register_all
from domain.case import Case
from projections.base import upsert
from projections.case_list import CaseListProjection

BARE = sa.Table(
    "bench_bare",
    sa.MetaData(),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer),
    sa.Column("topic", sa.String(200)),
)


def time_ours(container: Container) -> float:
    """Seconds for a rebuild of the case list from zero (batched, one transaction per batch)."""
    started = time.perf_counter()
    container.projections.rebuild("case_list")
    return time.perf_counter() - started


def time_bare_loop(container: Container, batch: int = 1000) -> float:
    """Read, decode, upsert one row per event, commit per batch: no projection logic."""
    BARE.drop(container.engine, checkfirst=True)
    BARE.create(container.engine)
    recorder, mapper = container.app.recorder, container.app.mapper
    head = recorder.max_notification_id() or 0
    started = time.perf_counter()
    position = 0
    while position < head:
        notes = recorder.select_notifications(start=position + 1, limit=batch, stop=head)
        rows: dict[Any, dict[str, Any]] = {}
        for n in notes:
            event = mapper.to_domain_event(n)
            rows[event.originator_id] = {
                "case_id": event.originator_id,
                "version": event.originator_version,
                "topic": n.topic,
            }
        with container.engine.begin() as conn:
            upsert(conn, BARE, list(rows.values()))
        position = notes[-1].id
    return time.perf_counter() - started


def time_raw_inserts(container: Container, rows: int, batch: int = 1000) -> float:
    """The machine's ceiling: plain batched INSERTs of prepared rows, nothing decoded."""
    BARE.drop(container.engine, checkfirst=True)
    BARE.create(container.engine)
    data = [{"case_id": UUID(int=i + 1), "version": 1, "topic": "t"} for i in range(rows)]
    started = time.perf_counter()
    for start in range(0, rows, batch):
        with container.engine.begin() as conn:
            conn.execute(sa.insert(BARE), data[start : start + batch])
    return time.perf_counter() - started


# -- the library's ProjectionRunner (PostgreSQL only: it cannot subscribe on SQLite) --------


class ReaderApp(Application[UUID]):
    """Reads casetrail's store with its transcodings (the runner constructs it from env)."""

    name = "casetrail"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)


class CaseListView(PostgresTrackingRecorder):
    """The same case-list rows, one transaction per event as the library's runner works."""

    table = "bench_lib_case_list"

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {t} (case_id uuid PRIMARY KEY, team text, "
                    "practitioner_id text, rosh text, status text, version int)"
                ).format(t=Identifier(self.table))
            )

    def apply(self, event: Case.Event, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("SELECT * FROM {t} WHERE case_id = %s FOR UPDATE").format(
                    t=Identifier(self.table)
                ),
                (event.originator_id,),
            )
            row = curs.fetchone() or {
                "team": None,
                "practitioner_id": None,
                "rosh": None,
                "status": "active",
            }
            changes = _changes(event)
            row = {
                **row,
                **changes,
                "case_id": event.originator_id,
                "version": event.originator_version,
            }
            curs.execute(
                SQL(
                    "INSERT INTO {t} VALUES (%(case_id)s, %(team)s, %(practitioner_id)s, %(rosh)s, "
                    "%(status)s, %(version)s) ON CONFLICT (case_id) DO UPDATE SET team = "
                    "excluded.team, practitioner_id = excluded.practitioner_id, "
                    "rosh = excluded.rosh, status = excluded.status, version = excluded.version"
                ).format(t=Identifier(self.table)),
                row,
            )
            self._insert_tracking(curs, tracking)


def _changes(event: Case.Event) -> dict[str, Any]:
    if isinstance(event, Case.Opened):
        return {"team": event.team}
    if isinstance(event, Case.Allocated):
        return {"practitioner_id": event.practitioner_id}
    if isinstance(event, Case.RiskAssessed):
        return {"rosh": event.rosh.value}
    if isinstance(event, Case.Transferred):
        return {"team": event.team}
    if isinstance(event, Case.Terminated):
        return {"status": "terminated"}
    return {}


class LibraryCaseList(Projection[CaseListView]):
    name = "benchlib"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)


def time_library_runner(
    container: Container, env: dict[str, str], head: int, timeout: float = 1800
) -> float:
    """Seconds for the library's ProjectionRunner to reach ``head`` from zero."""
    with container.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_lib_case_list"))
        conn.execute(sa.text("DROP TABLE IF EXISTS benchlib_tracking"))
        conn.execute(sa.text("DROP TABLE IF EXISTS notification_tracking_benchlib"))
    runner_env = {**env, "CREATE_TABLE": "y", "POSTGRES_POOL_SIZE": "2"}
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=ReaderApp,
        projection_class=LibraryCaseList,
        view_class=CaseListView,
        env=runner_env,
    ) as runner:
        runner.wait(head, timeout=timeout)
    return time.perf_counter() - started


Timer = Callable[[], float]
__all__ = [
    "CaseListProjection",
    "time_bare_loop",
    "time_library_runner",
    "time_ours",
    "time_raw_inserts",
]
