"""Projection workers as real processes (`casetrail projections run`), killed with SIGKILL.

A worker killed in the middle of a batch loses that batch's transaction and nothing else: a
new worker resumes from the tracked position, and the read model ends equal to a rebuild from
zero with every event applied exactly once. On PostgreSQL a second worker waits as a hot
standby on the advisory locks and takes over within seconds when the active one dies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from api.bootstrap import Container, build
from tests.integration import projection_helpers as h
from tests.support import make_settings

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

CASES = 620  # 5 events each, and a staff registration every fifth: about 3,200 events
BATCH = 50


@contextmanager
def container_on(url: str, var_dir: Path) -> Iterator[Container]:
    container = build(make_settings(url, var_dir))
    try:
        yield container
    finally:
        container.close()


def case_list_position(ct: Container) -> int:
    return h.live_tracking(ct.engine, "case_list").position


def test_worker_killed_mid_batch_resumes_without_skipping_or_repeating(
    database_url: str, tmp_path: Path
) -> None:
    with container_on(database_url, tmp_path) as ct:
        h.bulk_history(ct.app, CASES)
        head = h.head(ct)
        assert head > 3000
        first = h.Worker(database_url, tmp_path, label="first", batch_size=BATCH)
        second = h.Worker(database_url, tmp_path, label="second", batch_size=BATCH)
        try:
            first.start()
            h.wait_until(
                lambda: case_list_position(ct) > 0 or not first.alive(),
                timeout=60,
                interval=0.002,
                what="the first worker's first batch",
            )
            first.kill()
            killed_at = case_list_position(ct)
            assert 0 < killed_at < head, f"killed at {killed_at} of {head}:\n{first.output()}"
            assert killed_at % BATCH == 0  # whole batches only: the one in flight rolled back

            second.start()
            h.wait_until(
                lambda: h.is_caught_up(ct) or not second.alive(),
                timeout=90,
                interval=0.1,
                what="the second worker to catch up",
            )
            assert second.alive(), second.output()
            second.stop()
        finally:
            first.kill()
            second.stop()

        assert "Traceback" not in second.output(), second.output()
        h.assert_exactly_once(ct)
        served = h.live_rows(ct)
        assert len(served["case_list"]) == CASES
        assert len(served["staff_directory"]) == CASES // 5
        rebuilt = h.rebuilt_rows(ct)
        h.assert_same_rows(served["case_list"], rebuilt["case_list"])
        assert rebuilt == served


def test_standby_worker_takes_over_within_seconds_when_the_active_one_is_killed(
    pg_url: str, tmp_path: Path
) -> None:
    with container_on(pg_url, tmp_path) as ct:
        keys = {h.advisory_key(name) for name in h.projections_of(ct)}
        h.some_history(ct.app, 0, 10)
        active = h.Worker(f"{pg_url}?application_name=worker_a", tmp_path, label="a", batch_size=20)
        standby = h.Worker(
            f"{pg_url}?application_name=worker_b", tmp_path, label="b", batch_size=20
        )
        try:
            active.start().wait_started()
            h.wait_until(lambda: h.is_caught_up(ct), timeout=30, what="worker a to catch up")
            standby.start().wait_started()
            time.sleep(2.5)  # the standby's runners have tried their locks (once a second)

            locks = h.advisory_locks(ct.engine)
            assert sorted(key for _, key in locks) == sorted(keys), locks  # one holder each
            assert {name for name, _ in locks} == {"worker_a"}, locks
            assert standby.alive(), standby.output()
            h.some_history(ct.app, 100, 3)
            h.wait_until(lambda: h.is_caught_up(ct), timeout=10, what="worker a to keep up")

            active.kill()
            h.some_history(ct.app, 200, 3)  # written after the active worker died
            killed = time.monotonic()
            h.wait_until(
                lambda: h.is_caught_up(ct), timeout=10, interval=0.1, what="worker b to take over"
            )
            took_over = time.monotonic() - killed
            locks = h.advisory_locks(ct.engine)
            assert sorted(key for _, key in locks) == sorted(keys), locks
            assert {name for name, _ in locks} == {"worker_b"}, locks
            standby.stop()
        finally:
            active.kill()
            standby.stop()

        assert took_over < 10
        h.assert_exactly_once(ct)
        served = h.live_rows(ct)
        assert len(served["case_list"]) == 16
        assert h.rebuilt_rows(ct) == served
