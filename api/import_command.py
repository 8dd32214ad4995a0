"""What `casetrail import FILE|-` does around the importer: the file, the progress bar, the
errors file, the summary line, and the worker processes.

With ``--jobs N`` (a file, not standard input) N processes each import the lines of one shard:
a line's shard is its CRN's hash, so the lines of one person meet in one process, where a
second case under the same CRN is noticed. Each worker reads the file itself (no line crosses
a process boundary) and sends back only its problems, its progress and its summary. The
store orders their writes as it orders any writers'.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import typer

from api.bootstrap import build
from api.cli import rate_bar
from api.import_format import Problem
from api.importing import Importer, Summary, count_lines
from application.importing import ImportLedger
from application.settings import Settings

CRN_FIELD = re.compile(rb'"crn"\s*:\s*"([^"]{0,20})"')


def run_import(file: str, *, actor: str, batch_events: int, jobs: int = 1) -> int:
    """Import FILE (or standard input for -), print the summary line; the rejected count."""
    stdin = file == "-"
    path = Path(file)
    if not stdin and not path.is_file():
        raise typer.BadParameter(f"no file {file}", param_hint="FILE")
    errors_path = None if stdin else path.with_name(path.name + ".errors.ndjson")
    if errors_path is not None:
        errors_path.unlink(missing_ok=True)  # a re-run's report is its own
    total = None
    if not stdin:
        with path.open("rb") as counted:
            total = count_lines(counted)
    with ExitStack() as stack:
        errors: list[IO[str]] = []

        def report(problem: Problem) -> None:
            if not errors:
                errors.append(
                    sys.stderr
                    if errors_path is None
                    else stack.enter_context(errors_path.open("w", encoding="utf-8"))
                )
            print(problem.as_json(), file=errors[0], flush=errors_path is None)

        if stdin or jobs == 1:
            summary = _in_process(path, stdin, total, report, actor, batch_events)
        else:
            summary = _in_workers(path, total, report, actor, batch_events, jobs)
    if summary.rejected and errors_path is not None:
        typer.echo(f"rejected cases are listed in {errors_path}", err=True)
    typer.echo(summary.line)
    return summary.rejected


def _in_process(
    path: Path,
    stdin: bool,
    total: int | None,
    report: Callable[[Problem], None],
    actor: str,
    batch_events: int,
) -> Summary:
    container = build(Settings())
    try:
        importer = Importer(
            container.app,
            ImportLedger(container.engine),
            report=report,
            actor=actor,
            batch_events=batch_events,
        )
        with ExitStack() as stack:
            lines: IO[bytes] = sys.stdin.buffer if stdin else stack.enter_context(path.open("rb"))
            with rate_bar("importing cases", "lines", total=total) as progress:
                return importer.run(lines, lambda done: progress(done, total or done))
    finally:
        container.close()


def _in_workers(
    path: Path,
    total: int | None,
    report: Callable[[Problem], None],
    actor: str,
    batch_events: int,
    jobs: int,
) -> Summary:
    build(Settings()).close()  # migrate once, before the workers start
    # Fork where there is one: a spawned worker spends seconds importing the service again.
    # Nothing here holds a thread or a connection by now (the container above is closed).
    methods = multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    messages: Any = context.Queue(maxsize=10_000)
    # One worker at a time sets up: the library creates its tables (IF NOT EXISTS) on start,
    # and PostgreSQL refuses two such catalog updates at once ("tuple concurrently updated").
    setting_up = context.Lock()
    workers = [
        context.Process(
            target=_worker,
            args=(str(path), shard, jobs, actor, batch_events, messages, setting_up),
        )
        for shard in range(jobs)
    ]
    for worker in workers:
        worker.start()
    summary, done, finished = Summary(), 0, 0
    try:
        with rate_bar("importing cases", "lines", total=total) as progress:
            while finished < jobs:
                try:
                    kind, value = messages.get(timeout=1.0)
                except queue.Empty:
                    if any(w.exitcode not in (None, 0) for w in workers):
                        typer.echo("an import worker failed; re-run to import the rest", err=True)
                        raise typer.Exit(1) from None
                    continue
                if kind == "problem":
                    report(value)
                elif kind == "lines":
                    done += value
                    progress(done, total or done)
                else:
                    finished += 1
                    for name in ("imported", "events", "skipped", "rejected"):
                        setattr(summary, name, getattr(summary, name) + getattr(value, name))
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
    return summary


def shard_of(number: int, line: bytes, jobs: int) -> int:
    """A line's shard: its CRN's hash (the line number's when no CRN can be seen)."""
    found = CRN_FIELD.search(line)
    return (zlib.crc32(found.group(1)) if found else number) % jobs


def _worker(
    path: str, shard: int, jobs: int, actor: str, batch_events: int, out: Any, setting_up: Any
) -> None:
    with setting_up:
        container = build(Settings(), migrate=False)
    gc.freeze()  # what start-up made stays: later collections need not scan it
    try:
        importer = Importer(
            container.app,
            ImportLedger(container.engine),
            report=lambda problem: out.put(("problem", problem)),
            actor=actor,
            batch_events=batch_events,
        )
        sent = 0

        def progress(done: int) -> None:
            nonlocal sent
            out.put(("lines", done - sent))
            sent = done

        def mine() -> Iterator[tuple[int, bytes]]:
            with open(path, "rb") as lines:
                for number, line in enumerate(lines, 1):
                    if shard_of(number, line, jobs) == shard:
                        yield number, line

        summary = importer.run_numbered(mine(), progress)
        out.put(("done", summary))
    finally:
        container.close()
