"""Prompt recovery: PostgreSQL stopped and started under load, several times over.

A server of its own (stopping the shared one would disturb other tests) serves casetrail
over real HTTP, its projection runner embedded or in a worker process, while clients send
commands and reads without pause. Each round stops PostgreSQL for a few seconds (a fast
shutdown, as an operator's restart), starts it again, and measures how long after it is
started a command is acknowledged and the read models apply an event written after the
outage. Every answer is a 201 (200 for a read) or a clean 503, never another error; nothing
acknowledged is lost.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.api.builders import T1, open_body
from tests.integration.projection_helpers import Worker, wait_until
from tests.pgserver import PostgresServer
from tests.support import LiveServer, live_server

ROUNDS = 3
OUTAGE_S = 4.0
BOUND_S = 2.0
CLIENTS = 4


@dataclass
class Answer:
    done: float  # monotonic
    status: int
    position: int | None


@dataclass
class Load:
    """Clients opening cases back to back, every answer kept."""

    live: LiveServer
    answers: list[Answer] = field(default_factory=list)
    reads: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    crns: Iterator[int] = field(default_factory=lambda: itertools.count(100000))

    def run(self) -> None:
        """Open a case, read it back (an access-log write) and read the case list."""
        case_id: str | None = None
        with self.live.client("po1", "practitioner", teams=(T1,)) as client:
            while not self.stop.is_set():
                body = open_body(crn=f"R{next(self.crns)}")
                # Keyed, as a client that retries should: a command whose COMMIT was sent as
                # the server went down is retried by the store, and without a key its retry
                # can meet its own case (409); with one it gets its first answer.
                key = {"Idempotency-Key": f"open-{body['crn']}"}
                try:
                    response = client.post("/cases", json=body, headers=key)
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))
                    status, position = 0, None
                else:
                    status = response.status_code
                    position = response.json().get("position") if status == 201 else None
                    case_id = response.json()["case_id"] if status == 201 else case_id
                self.answers.append(Answer(time.monotonic(), status, position))
                for path in ([f"/cases/{case_id}"] if case_id else []) + ["/cases?team=T1"]:
                    try:
                        status = client.get(path).status_code
                    except httpx.HTTPError:
                        status = 0
                    self.reads.append(status)

    def acknowledged_after(self, moment: float) -> list[Answer]:
        return [a for a in list(self.answers) if a.status == 201 and a.done > moment]


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def projected_position(live: LiveServer) -> int | None:
    try:
        return min(status.position for status in live.container.projections.status())
    except Exception:  # the database is still away
        return None


def wait_for_recovery(load: Load, live: LiveServer, back: float) -> tuple[float, float]:
    """Seconds from ``back`` to the first acknowledged command, and to the read models having
    applied it."""
    deadline = back + 30
    first: Answer | None = None
    while first is None and time.monotonic() < deadline:
        acknowledged = load.acknowledged_after(back)
        first = min(acknowledged, key=lambda a: a.done) if acknowledged else None
        time.sleep(0.02)
    assert first is not None, "no command succeeded in 30 s"
    assert first.position is not None
    while time.monotonic() < deadline:
        position = projected_position(live)
        if position is not None and position >= first.position:
            return first.done - back, time.monotonic() - back
        time.sleep(0.02)
    raise AssertionError("the read models did not catch up in 30 s")


@contextmanager
def projections_beside(layout: str, url: str, var_dir: Path) -> Iterator[Worker | None]:
    """Nothing for ``embedded`` (the API's own thread); a worker process for ``worker``."""
    if layout == "embedded":
        yield None
        return
    worker = Worker(url, var_dir, label="recovery", batch_size=1000).start()
    try:
        worker.wait_started()
        yield worker
    finally:
        worker.stop()


@pytest.mark.parametrize("layout", ["embedded", "worker"])
def test_commands_and_read_models_recover_within_two_seconds_of_each_restart(
    own_server: PostgresServer, tmp_path: Path, layout: str
) -> None:
    url = own_server.create_database()
    with (
        live_server(url, tmp_path, embedded_projections=layout == "embedded") as live,
        projections_beside(layout, url, tmp_path) as worker,
    ):
        load = Load(live)
        clients = [threading.Thread(target=load.run, daemon=True) for _ in range(CLIENTS)]
        for client in clients:
            client.start()
        recoveries: list[tuple[float, float]] = []
        try:
            for _ in range(ROUNDS):
                time.sleep(1.0)
                assert load.acknowledged_after(time.monotonic() - 1.0), "not under load"
                own_server.pause()
                time.sleep(OUTAGE_S)
                back = time.monotonic()  # counted from the start: the server's own start-up
                own_server.resume()  # is in the figures (a few hundred milliseconds)
                try:
                    recoveries.append(wait_for_recovery(load, live, back))
                except AssertionError as failed:  # say what the worker was doing
                    detail = worker.output() if worker is not None else ""
                    raise AssertionError(f"{failed}\n{detail}") from None
        finally:
            load.stop.set()
            for client in clients:
                client.join(timeout=60)
        print(f"\nrecovery (command, read models) after each restart, s: {recoveries}")
        statuses = {a.status for a in load.answers}
        assert statuses <= {201, 503}, f"answers other than 201 and 503: {load.errors}"
        assert set(load.reads) <= {200, 503}, f"reads other than 200 and 503: {set(load.reads)}"
        assert 503 in load.reads  # the reads did meet the outages
        for command_s, projected_s in recoveries:
            assert command_s < BOUND_S
            assert projected_s < BOUND_S
        # Nothing acknowledged was lost, and the read models hold every case opened.
        last = max(a.position for a in load.answers if a.position is not None)
        if worker is not None:
            assert worker.alive(), worker.output()
            wait_until(
                lambda: (
                    projected_position(live) == live.container.app.recorder.max_notification_id()
                ),
                timeout=10,
                interval=0.05,
                what="the worker to catch up",
            )
        else:
            live.container.projections.catch_up()
        projected = projected_position(live)
        assert projected == live.container.app.recorder.max_notification_id()
        assert projected is not None
        assert projected >= last
