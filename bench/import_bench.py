"""The import suite: `casetrail import` of the demo PDU against the bare library's loop.

The file is the demo PDU (`casetrail demo --export`). Each import runs in a process of its
own, into an empty database, so its peak memory (ru_maxrss) is the import's alone; it is
measured on a quarter of the file and on the whole file (flat means about the same). The
baseline, in the same run on the same server: the library's one-save-per-command loop
(``http_bench.bare_loop``, one thread).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from bench.http_bench import bare_loop
from demo.export import export
from demo.pdu import DemoOptions

BARE_EVENTS = 300


def export_demo(path: Path, cases: int) -> int:
    """The demo PDU as an import file; its event count."""
    with path.open("w", encoding="utf-8") as out:
        _, events = export(out, DemoOptions(cases=cases), datetime.now(UTC))
    return events


def head(source: Path, target: Path, lines: int) -> None:
    with source.open("rb") as src, target.open("wb") as out:
        out.writelines(islice(src, lines))


def import_once(url: str, path: Path, workdir: Path) -> dict[str, Any]:
    """Import ``path`` into ``url`` in a child process; its seconds, events and peak memory."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_bench", url, str(path), str(workdir)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def import_suite(new_database: Any, cases: int, repeat: int) -> dict[str, Any]:
    """Import the demo PDU ``repeat`` times (each into a fresh database) and a quarter of it
    once; the bare loop beside each run."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        full = workdir / "demo.ndjson"
        events = export_demo(full, cases)
        quarter = workdir / "quarter.ndjson"
        head(full, quarter, max(cases // 4, 1))
        runs, bare = [], []
        for n in range(repeat):
            bare.append(bare_loop(new_database(f"bare{n}"), BARE_EVENTS))
            runs.append(import_once(new_database(f"import{n}"), full, workdir))
        small = import_once(new_database("quarter"), quarter, workdir)
    rates = sorted(r["events"] / r["seconds"] for r in runs)
    seconds = sorted(r["seconds"] for r in runs)
    bare_rate = sorted(bare)[len(bare) // 2]
    rate = rates[len(rates) // 2]
    peak = max(r["peak_mib"] for r in runs)
    return {
        "cases": cases,
        "events": events,
        "seconds": {"median": seconds[len(seconds) // 2], "min": seconds[0], "max": seconds[-1]},
        "events_per_s": {"median": rate, "min": rates[0], "max": rates[-1]},
        "bare_loop_events_per_s": {"median": bare_rate, "min": min(bare), "max": max(bare)},
        "ratio_to_bare_loop": round(rate / bare_rate, 2),
        "peak_mib": {"full": peak, "quarter": small["peak_mib"]},
        "quarter_events": small["events"],
        "targets": {
            "ten_times_bare_loop": rate >= 10 * bare_rate,
            "events_per_s_4000": rate >= 4000,
            "demo_pdu_under_30_s": seconds[len(seconds) // 2] < 30,
            "peak_memory_flat": peak <= small["peak_mib"] * 1.25,
        },
    }


def _child(url: str, path: str, workdir: str) -> None:
    from api.bootstrap import build
    from api.importing import Importer
    from application.importing import ImportLedger
    from application.settings import Settings

    settings = Settings(
        env="test",
        database_url=url,
        var_dir=Path(workdir),
        projections="off",
        jwt_secret="bench-secret-bench-secret-bench-secret-0",
    )
    container = build(settings)
    problems: list[str] = []
    importer = Importer(
        container.app, ImportLedger(container.engine), report=lambda p: problems.append(p.detail)
    )
    with open(path, "rb") as lines:
        started = time.perf_counter()
        summary = importer.run(lines)
        seconds = time.perf_counter() - started
    container.close()
    if summary.rejected:
        raise SystemExit(f"{summary.rejected} rejected: {problems[:3]}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"seconds": seconds, "events": summary.events, "peak_mib": round(peak_kib / 1024, 1)}
        )
    )


if __name__ == "__main__":
    _child(*sys.argv[1:4])
