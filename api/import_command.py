"""What `casetrail import FILE|-` does around the importer: the file, the progress bar, the
errors file, the summary line."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import typer

from api.bootstrap import build
from api.cli import rate_bar
from api.importing import Importer, Problem, count_lines
from application.importing import ImportLedger
from application.settings import Settings


def run_import(file: str, *, actor: str, batch_events: int) -> int:
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

        container = build(Settings())
        stack.callback(container.close)
        importer = Importer(
            container.app,
            ImportLedger(container.engine),
            report=report,
            actor=actor,
            batch_events=batch_events,
        )
        lines: IO[bytes] = sys.stdin.buffer if stdin else stack.enter_context(path.open("rb"))
        with rate_bar("importing cases", "lines", total=total) as progress:
            summary = importer.run(lines, lambda done: progress(done, total or done))
    if summary.rejected and errors_path is not None:
        typer.echo(f"rejected cases are listed in {errors_path}", err=True)
    typer.echo(summary.line)
    return summary.rejected
