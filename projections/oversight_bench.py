"""Timing the oversight read model's queries, for bench/ (not run by the tests).

Target: p95 under 100 ms for a PDU of 2,000 cases on PostgreSQL, for the team queue and for
the PDU's compliance rates and quality indicators. Build the data (e.g. bench/dataset.py), catch
the projections up, then call ``time_queries``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from projections import tracking
from projections.compliance import IndicatorScope, query_compliance
from projections.oversight import QueueFilter, query_queue
from projections.oversight_rules import Thresholds
from projections.quality import query_quality


def time_queries(
    engine: sa.Engine,
    thresholds: Thresholds,
    *,
    pdu: str,
    team: str,
    now: datetime | None = None,
    repeat: int = 50,
) -> dict[str, dict[str, float]]:
    """p50 / p95 / max milliseconds of each query, each run ``repeat`` times on a fresh
    connection from the pool (as a request would)."""
    moment = now or datetime.now(UTC)
    generation = tracking.live("oversight")
    scope = IndicatorScope(pdu=pdu)

    def queue(conn: sa.Connection) -> object:
        return query_queue(
            conn, generation, thresholds, QueueFilter(team=team), now=moment, limit=100
        )

    def compliance(conn: sa.Connection) -> object:
        return query_compliance(conn, generation, thresholds, scope, now=moment)

    def quality(conn: sa.Connection) -> object:
        return query_quality(conn, generation, thresholds, scope, now=moment)

    return {
        name: _timed(engine, query, repeat)
        for name, query in (("queue", queue), ("compliance", compliance), ("quality", quality))
    }


def _timed(
    engine: sa.Engine, query: Callable[[sa.Connection], object], repeat: int
) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        with engine.connect() as conn:
            query(conn)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 2),
        "max_ms": round(samples[-1], 2),
    }
