"""`make bench`: run the benchmarks, print a table, write bench/results.json.

Each figure is a median with min and max over repeated runs, beside its baseline measured in
the same run on the same data, and the ratio between them.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api.bootstrap import Container, build
from application.settings import Settings
from application.store import event_store_env
from bench import projection_bench as pb
from bench.dataset import populate

RESULTS = Path(__file__).with_name("results.json")
console = Console(width=160)


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir}/bench.db"
        return
    from tests.pgserver import PostgresServer

    with PostgresServer() as server:
        yield server.create_database()


def container_for(url: str, workdir: Path) -> Container:
    settings = Settings(
        env="test",
        database_url=url,
        var_dir=workdir,
        embedded_projections=False,
        jwt_secret="bench-secret-bench-secret-bench-secret-0",
    )
    return build(settings)


def measure(timer: Callable[[], float], events: int, repeat: int) -> dict[str, float]:
    rates = [events / timer() for _ in range(repeat)]
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def projections_suite(backend: str, events: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        container = container_for(url, Path(tmp))
        try:
            console.print(f"[bold]{backend}[/]: saving {events:,} events through the aggregate")
            head = populate(container.app, events)
            figures: dict[str, Any] = {"events": head}
            figures["ours"] = measure(lambda: pb.time_ours(container), head, repeat)
            figures["bare_loop"] = measure(lambda: pb.time_bare_loop(container), head, repeat)
            figures["raw_inserts"] = measure(
                lambda: pb.time_raw_inserts(container, head), head, repeat
            )
            if backend == "postgres":
                env = event_store_env(url, pool_size=4)
                figures["library_runner"] = measure(
                    lambda: pb.time_library_runner(container, env, head), head, max(1, repeat - 2)
                )
            else:
                figures["library_runner"] = None  # the library cannot subscribe on SQLite
            return figures
        finally:
            container.close()


def ratio(a: dict[str, float] | None, b: dict[str, float] | None) -> float | None:
    return round(a["median"] / b["median"], 2) if a and b else None


def report_projections(results: dict[str, Any]) -> None:
    table = Table(title="Projection catch-up (case list), events/s: median [min-max]")
    for column in (
        "backend",
        "events",
        "ours",
        "library runner",
        "bare loop",
        "raw inserts",
        "ours/library",
        "ours/bare",
        "ours/raw",
    ):
        table.add_column(column, justify="right")

    def cell(f: dict[str, float] | None) -> str:
        return f"{f['median']:,.0f} [{f['min']:,.0f}-{f['max']:,.0f}]" if f else "n/a"

    for backend, f in results.items():
        table.add_row(
            backend,
            f"{f['events']:,}",
            cell(f["ours"]),
            cell(f["library_runner"]),
            cell(f["bare_loop"]),
            cell(f["raw_inserts"]),
            str(ratio(f["ours"], f["library_runner"]) or "n/a"),
            str(ratio(f["ours"], f["bare_loop"])),
            str(ratio(f["ours"], f["raw_inserts"])),
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": _cpus(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        results[backend] = projections_suite(backend, args.events, args.repeat)
    report_projections(results)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous.update({"machine": machine, "projections": results})
    RESULTS.write_text(json.dumps(previous, indent=2))
    console.print(f"written {RESULTS}")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
