"""Webhooks: the time from a command's commit to its webhook's arrival at a local receiver,
and whether the relay keeps up with 8 clients sending commands.

The relay runs as in `make run`: in a projection worker process (`casetrail projections run`)
beside the process that commits. The baseline, measured in the same run, is a bare signed
POST of the same body to the same receiver from this process: the floor of any delivery.

`python -m bench.webhook_bench [--backend postgres] [--commands 200] [--sustain-seconds 10]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from api.bootstrap import Container, build
from application import commands as c
from application.access import PRACTITIONER, Actor
from application.settings import Settings
from domain.vocabulary import AppointmentType, SentenceType

SECRET = "bench-secret-bench-secret-bench-secret-0"
ACTOR = Actor("po-bench", frozenset({PRACTITIONER}), frozenset({"T1"}))


class Arrivals:
    """What the receiver got: arrival time per store position."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.lock = threading.Lock()

    def add(self, body: bytes) -> None:
        arrived = time.perf_counter()
        info = json.loads(body).get("additionalInformation", {})
        with self.lock:
            self.at.setdefault(int(info.get("position", -1)), arrived)

    def count(self) -> int:
        with self.lock:
            return len(self.at)


@contextmanager
def receiver() -> Iterator[tuple[str, Arrivals]]:
    arrivals = Arrivals()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

        def do_POST(self) -> None:
            arrivals.add(self.rfile.read(int(self.headers.get("content-length", "0"))))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", arrivals
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir}/webhooks.db"
        return
    from tests.pgserver import PostgresServer

    with PostgresServer(durable=True) as server:  # fsync on
        yield server.create_database()


@contextmanager
def worker(url: str, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`casetrail projections run`: the read models and the relay, as `make run` runs them."""
    cli = Path(sys.executable).with_name("casetrail")
    env = {
        **os.environ,
        "CASETRAIL_DATABASE_URL": url,
        "CASETRAIL_VAR_DIR": str(workdir),
        "CASETRAIL_JWT_SECRET": SECRET,
        "CASETRAIL_ENV": "test",
        "CASETRAIL_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "CASETRAIL_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([str(cli), "projections", "run"], env=env)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)


def open_case(app: Any, number: int) -> UUID:
    written = app.open_case(
        c.OpenCase(
            crn=f"B{number:06d}",
            person={"name": "Bench Person", "date_of_birth": "1990-01-02"},
            sentence_type=SentenceType.COMMUNITY_ORDER,
            start_date=date(2026, 1, 5),
            expected_end_date=date(2027, 1, 4),
            pdu="SHF",
            team="T1",
            requirements={},
            licence_conditions=[],
            offence_flags=[],
        ),
        ACTOR,
    )
    case_id: UUID = written.aggregate_id
    return case_id


def schedule(app: Any, case_id: UUID) -> tuple[int, float]:
    """One command; its position and the moment its commit returned."""
    written = app.execute(
        c.ScheduleAppointment(
            case_id=case_id,
            appointment_id=uuid4().hex[:12],
            type=AppointmentType.COAP,
            starts_at=datetime(2026, 12, 20, 10, tzinfo=UTC),
            national_standard=True,
        ),
        ACTOR,
    )
    return written.position, time.perf_counter()


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "n": len(ordered),
    }


def wait_for(arrivals: Arrivals, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while arrivals.count() < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def latency(container: Container, arrivals: Arrivals, url: str, commands: int) -> dict[str, Any]:
    """Commands one at a time, 50 ms apart: commit -> arrival, and the bare POST baseline."""
    app = container.app
    case_ids = [open_case(app, n) for n in range(20)]
    wait_for(arrivals, 20, 30)
    committed: dict[int, float] = {}
    for n in range(commands):
        position, at = schedule(app, case_ids[n % len(case_ids)])
        committed[position] = at
        time.sleep(0.05)
    wait_for(arrivals, 20 + commands, 60)
    delays = [arrivals.at[p] - t for p, t in committed.items() if p in arrivals.at]
    body = json.dumps({"additionalInformation": {"position": -2}}).encode()
    bare = []
    with httpx.Client() as client:
        for _ in range(commands):
            started = time.perf_counter()
            client.post(url, content=body, headers={"webhook-id": "msg_x"})
            bare.append(time.perf_counter() - started)
    result = {"commit_to_arrival": percentiles(delays), "bare_post": percentiles(bare)}
    result["ratio_p50"] = round(
        result["commit_to_arrival"]["p50_ms"] / max(result["bare_post"]["p50_ms"], 0.01), 1
    )
    result["lost"] = len(committed) - len(delays)
    return result


def sustained(container: Container, arrivals: Arrivals, seconds: float) -> dict[str, Any]:
    """8 clients send commands for ``seconds``: commit rate against delivery rate, and how
    long the relay takes to deliver the rest once they stop."""
    app = container.app
    before = arrivals.count() + 64
    case_ids = [open_case(app, 1000 + n) for n in range(64)]
    wait_for(arrivals, before, 60)
    stop = time.monotonic() + seconds
    counts = [0] * 8

    def client(index: int) -> None:
        n = 0
        while time.monotonic() < stop:
            schedule(app, case_ids[index * 8 + n % 8])
            counts[index] += 1
            n += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    sent = sum(counts)
    delivered_in_window = arrivals.count() - before
    drained_at = time.monotonic()
    drained = wait_for(arrivals, before + sent, 120)
    drain = time.monotonic() - drained_at
    return {
        "commands_per_s": round(sent / elapsed, 1),
        "delivered_per_s_during": round(delivered_in_window / elapsed, 1),
        "drain_seconds_after": round(drain, 2) if drained else None,
        "commands": sent,
    }


def run(backend: str, commands: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        workdir = Path(tmp)
        settings = Settings(
            env="test",
            database_url=url,
            var_dir=workdir,
            projections="off",
            jwt_secret=SECRET,
            webhook_allowed_hosts="127.0.0.1",
        )
        container = build(settings)
        try:
            with receiver() as (hook_url, arrivals):
                assert container.subscriptions is not None
                container.subscriptions.create(
                    url=hook_url,
                    event_types=[],
                    description="bench",
                    created_by="bench",
                    head=container.app.ping(),
                )
                with worker(url, workdir):
                    result = {
                        "latency": latency(container, arrivals, hook_url, commands),
                        "sustained_8_clients": sustained(container, arrivals, seconds),
                    }
                    stats = container.subscriptions.stats(container.app.ping())[0]
                    result["relay"] = {k: v for k, v in stats.items() if k not in ("id", "url")}
                    errors = container.subscriptions.deliveries(
                        stats["id"], status="pending", after=None, limit=3
                    )[0]
                    result["pending_sample"] = [
                        {k: str(d[k]) for k in ("attempts", "last_status", "last_error")}
                        for d in errors
                    ]
                    return result
        finally:
            container.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_bench", description=__doc__)
    parser.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--sustain-seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(run(args.backend, args.commands, args.sustain_seconds), indent=2))


if __name__ == "__main__":
    main()
