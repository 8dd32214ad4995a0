"""The import suite: `casetrail import` of the demo PDU against the bare library's loop.

The file is the demo PDU (`casetrail demo --export`). Each import runs as the CLI runs it, in
a process of its own (with its worker processes), into an empty database, so its peak memory
(ru_maxrss, the largest process) is the import's alone; it is
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
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the import failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def import_suite(new_database: Any, cases: int, repeat: int) -> dict[str, Any]:
    """Import the demo PDU ``repeat`` times (each into a fresh database) and a quarter of it
    once (peak memory only); the bare loop beside each run."""
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
    rates = sorted(events / r["seconds"] for r in runs)
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
        "jobs": runs[0]["jobs"],
        "targets": {
            "ten_times_bare_loop": rate >= 10 * bare_rate,
            "events_per_s_4000": rate >= 4000,
            "demo_pdu_under_30_s": seconds[len(seconds) // 2] < 30,
            "peak_memory_flat": peak <= small["peak_mib"] * 1.25,
        },
    }


def _child(url: str, path: str, workdir: str) -> None:
    """``casetrail import FILE`` as the CLI runs it (worker processes, progress bar), timed
    from after the migrations to the summary line."""
    import os

    from api.bootstrap import build
    from api.import_command import run_import
    from application.settings import Settings

    os.environ.update(
        {
            "CASETRAIL_ENV": "test",
            "CASETRAIL_DATABASE_URL": url,
            "CASETRAIL_VAR_DIR": workdir,
            "CASETRAIL_PROJECTIONS": "off",
            "CASETRAIL_JWT_SECRET": "bench-secret-bench-secret-bench-secret-0",
        }
    )
    build(Settings()).close()
    jobs = min(os.cpu_count() or 1, 4)
    started = time.perf_counter()
    rejected = run_import(path, actor="bench", batch_events=2000, jobs=jobs)
    seconds = time.perf_counter() - started
    if rejected:
        raise SystemExit(f"{rejected} cases rejected")
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"seconds": seconds, "jobs": jobs, "peak_mib": round(peak_kib / 1024, 1)}))


if __name__ == "__main__":
    _child(*sys.argv[1:4])
