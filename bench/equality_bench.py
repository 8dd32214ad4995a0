"""`/equality` on the demo PDU: the figures it gives, and its query time against /compliance's.

``python -m bench.equality_bench [--cases N]`` loads the demo PDU (Sheffield's size by
default) into a fresh SQLite store, catches the read models up, then times the equality query
and, interleaved in the same run as the baseline, the compliance query of the same PDU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.bootstrap import Container, build
from application.settings import Settings
from demo.pdu import DemoOptions, generate
from projections.compliance import IndicatorScope, query_compliance
from projections.equality import EqualityScope, query_equality
from projections.staff_profiles import load_staff, mandatory_training_rate

ROUNDS = 60


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def measure(container: Container, pdu: str) -> dict[str, Any]:
    settings = container.settings
    now = datetime.now(UTC)

    def equality() -> dict[str, Any]:
        with container.engine.connect() as conn:
            return query_equality(
                conn,
                container.projections.live("equality"),
                EqualityScope(pdu=pdu),
                settings.equality_min_count,
            )

    def compliance() -> Any:
        with container.engine.connect() as conn:
            return query_compliance(
                conn,
                container.projections.live("oversight"),
                settings.oversight,
                IndicatorScope(pdu=pdu),
                now=now,
            )

    equality_ms, compliance_ms = [], []
    for _ in range(ROUNDS):  # interleaved: both see the same machine
        equality_ms.append(timed(equality))
        compliance_ms.append(timed(compliance))
    return {
        "equality_p95_ms": round(p95(equality_ms), 1),
        "compliance_p95_ms": round(p95(compliance_ms), 1),
        "ratio_p95": round(p95(equality_ms) / p95(compliance_ms), 2),
        "figures": equality(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1820)
    parser.add_argument("--practitioners", type=int, default=148)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            database_url=f"sqlite:///{tmp}/bench.db",
            var_dir=Path(tmp),
            embedded_projections=False,
        )
        container = build(settings)
        try:
            options = DemoOptions(
                pdu="SHF", cases=args.cases, practitioners=args.practitioners, teams=10
            )
            result = generate(container.app, options)
            container.projections.catch_up()
            found = measure(container, "SHF")
            found["overrides"] = overrides(container)
            with container.engine.connect() as conn:
                staff = load_staff(conn, container.projections.live("staff_profiles"), None, None)
            found["mandatory_training"] = mandatory_training_rate(
                staff, settings.mandatory_training, datetime.now(UTC).date()
            )
            found["refused"] = result.refused
        finally:
            container.close()
    text = json.dumps(found, indent=1, default=str)
    if args.out:
        args.out.write_text(text)
    print(text)


def overrides(container: Container) -> dict[str, int]:
    """Allocations in the store, and those an SPO's override let through."""
    recorder = container.app.recorder
    allocations = overridden = 0
    start = 1
    while True:
        page = recorder.select_notifications(start=start, limit=5000)
        if not page:
            return {"allocations": allocations, "overridden": overridden}
        for notification in page:
            if notification.topic.endswith("Case.Allocated"):
                allocations += 1
                event: Any = container.app.mapper.to_domain_event(notification)
                overridden += event.override_reason is not None
        start = page[-1].id + 1


if __name__ == "__main__":
    main()
