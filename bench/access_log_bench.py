"""What the access log's chain costs a read: chained rows per second against the plain
one-row insert every read made before the chain (the baseline), in the same run, on the same
database, taken in turn, from 1 and 8 threads."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import sqlalchemy as sa

from api.bootstrap import Container
from application.access import Actor
from application.access_log import Reading
from application.schema import access_log

READER = Actor("bench-reader", frozenset({"auditor"}))


def _plain(engine: sa.Engine) -> Callable[[], None]:
    def insert() -> None:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(access_log).values(
                    at=datetime.now(UTC),
                    actor_id=READER.sub,
                    roles="auditor",
                    case_id=uuid4(),
                    endpoint="/cases/{case_id}",
                    request_id="bench",
                )
            )

    return insert


def _rate(write: Callable[[], None], threads: int, rows: int) -> float:
    each = rows // threads

    def work() -> None:
        for _ in range(each):
            write()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return each * threads / (time.perf_counter() - started)


def access_log_suite(
    container: Container, repeat: int, levels: tuple[int, ...] = (1, 8), rows: int = 2000
) -> dict[str, Any]:
    log = container.app.access_log
    assert log is not None
    reading = Reading("/cases/{case_id}", "bench")

    def chained() -> None:
        log.record(READER, uuid4(), reading)

    plain = _plain(container.engine)
    figures: dict[str, Any] = {}
    for threads in levels:
        runs: dict[str, list[float]] = {"chained": [], "plain": []}
        for _ in range(repeat):  # in turn, so that drift touches both alike
            runs["chained"].append(_rate(chained, threads, rows))
            runs["plain"].append(_rate(plain, threads, rows))
        figures[str(threads)] = {
            name: {"median": statistics.median(r), "min": min(r), "max": max(r)}
            for name, r in runs.items()
        }
        figures[str(threads)]["ratio"] = (
            figures[str(threads)]["chained"]["median"] / figures[str(threads)]["plain"]["median"]
        )
    # The chain is whole after all that, plain rows aside (they are the baseline's).
    with container.engine.begin() as conn:
        conn.execute(sa.delete(access_log).where(access_log.c.seq.is_(None)))
    figures["verified"] = log.verify().ok
    return figures
