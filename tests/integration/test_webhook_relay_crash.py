"""The webhook relay as a real process (`casetrail projections run`), killed with SIGKILL while
a delivery is in flight: nothing is lost, and the event in flight is sent again with the same
webhook-id by the worker that takes over."""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from api.bootstrap import build
from domain.vocabulary import RoSH
from projections.envelope import topics
from tests.integration import projection_helpers as h
from tests.support import make_settings
from tests.webhook_receiver import Received, receiver

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]
CASES = 6  # 3 events each


def test_relay_killed_during_a_delivery_loses_nothing_and_keeps_ids(
    pg_url: str, tmp_path: Path
) -> None:
    in_flight = threading.Event()
    release = threading.Event()

    def hold_the_fourth(seen: list[Received], _: dict[str, Any]) -> tuple[int, dict[str, str]]:
        if len(seen) == 3 and not in_flight.is_set():
            in_flight.set()
            release.wait(20)  # the worker is killed while this request is open
        return 200, {}

    container = build(make_settings(pg_url, tmp_path))
    workers: list[h.Worker] = []
    try:
        with receiver() as rx:
            rx.script = hold_the_fourth
            _, rx.secret = container.subscriptions.create(  # type: ignore[union-attr]
                url=rx.url,
                event_types=[],
                description="crash test",
                created_by="test",
                head=container.app.ping(),
            )
            for number in range(CASES):
                case_id = h.open_case(container.app, 900 + number).aggregate_id
                h.allocate(container.app, case_id, "po-1")
                h.assess_risk(container.app, case_id, RoSH.HIGH)
            head = container.app.ping()
            # What is published (the staff member registered on the way is not), by position.
            stored = container.app.recorder.select_notifications(
                start=1, limit=1000, topics=topics()
            )
            positions = [n.id for n in stored]
            for label in ("first", "second"):
                worker = h.Worker(pg_url, tmp_path, label=label, batch_size=100)
                worker.env["CASETRAIL_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
                workers.append(worker)
            workers[0].start()
            assert in_flight.wait(60), workers[0].output()
            workers[0].kill()
            release.set()
            workers[1].start()
            rx.wait_for(lambda got: len({r.position for r in got}) >= CASES * 3, timeout=60)
            rx.wait_for(lambda got: len(got) > CASES * 3)  # the one in flight, again
            received = list(rx.received)
    finally:
        for worker in workers:
            worker.stop()
        container.close()

    assert all(r.verified for r in received)
    by_position: dict[int, set[str]] = defaultdict(set)
    for r in received:
        by_position[r.position].add(r.webhook_id)
    assert sorted(by_position) == positions
    assert positions[-1] == head
    assert len(positions) == CASES * 3
    assert all(len(ids) == 1 for ids in by_position.values()), by_position
    # Sent again: the event in flight, and any sent before it in the round whose outcome had
    # not been written yet; never one after it.
    repeated = [p for p in by_position if sum(r.position == p for r in received) > 1]
    assert received[3].position in repeated
    assert max(repeated) == received[3].position
