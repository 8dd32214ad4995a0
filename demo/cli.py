"""`casetrail demo`: load the synthetic PDU, then print its quality figures.

The command's options live with the rest of the CLI (api/cli.py); this is what it does. It is
here, not in api/, because nothing in the service may depend on the demo generator.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.bootstrap import build
from api.cli import rate_bar
from application.settings import Settings
from demo.export import export
from demo.pdu import DemoOptions, DemoStoreNotEmptyError, generate
from projections.compliance import IndicatorScope
from projections.quality import query_quality


def export_file(
    path: str, *, pdu: str, cases: int, practitioners: int, teams: int, months: int, seed: int
) -> None:
    """Write the demo PDU to ``path`` in the format of `casetrail import`; no store involved."""
    _check(pdu, practitioners, teams)
    options = DemoOptions(
        pdu=pdu, cases=cases, practitioners=practitioners, teams=teams, months=months, seed=seed
    )
    with (
        Path(path).open("w", encoding="utf-8") as out,
        rate_bar(f"demo PDU {pdu}: cases", "cases", total=cases) as progress,
    ):
        written, events = export(out, options, datetime.now(UTC), progress=progress)
    typer.echo(f"demo PDU {pdu} (seed {seed}): {written} cases, {events:,} events in {path}")


def _check(pdu: str, practitioners: int, teams: int) -> None:
    if not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", pdu):
        raise typer.BadParameter("2-10 capital letters or digits, e.g. SHF", param_hint="--pdu")
    if practitioners < teams:
        raise typer.BadParameter("at least one practitioner per team", param_hint="--teams")


def load(
    *, pdu: str, cases: int, practitioners: int, teams: int, months: int, seed: int, mode: str
) -> None:
    """Generate the demo PDU into the configured store, catch the read models up, report."""
    _check(pdu, practitioners, teams)
    if mode not in ("aggregate", "execute"):
        raise typer.BadParameter("aggregate or execute", param_hint="--mode")
    options = DemoOptions(
        pdu=pdu,
        cases=cases,
        practitioners=practitioners,
        teams=teams,
        months=months,
        seed=seed,
        mode="execute" if mode == "execute" else "aggregate",
    )
    container = build(Settings())
    try:
        with rate_bar(f"demo PDU {pdu}: cases", "cases", total=cases) as progress:
            result = generate(container.app, options, progress=progress)
        started = time.perf_counter()
        container.projections.catch_up()
        caught_up = time.perf_counter() - started
        with container.engine.connect() as conn:
            standards = query_quality(
                conn,
                container.projections.live("oversight"),
                container.settings.oversight,
                IndicatorScope(pdu=pdu),
                now=datetime.now(UTC),
            )
    except DemoStoreNotEmptyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    first, end = result.window
    typer.echo(
        f"demo PDU {pdu} (seed {seed}, {mode} mode, {first} to {end}): {result.cases} cases "
        f"({result.active} active), {result.staff} staff, {result.events:,} events "
        f"in {result.seconds:.1f} s; read models caught up in {caught_up:.1f} s"
    )
    table = Table("standard", "key questions (% yes)", "rating", title=f"Quality of {pdu}")
    for standard in standards:
        scores = ", ".join(
            f"{q['id']} {q['percent']}%" for q in standard["key_questions"] if q["total"]
        )
        table.add_row(f"{standard['id']} {standard['name']}", scores, standard["rating"] or "-")
    Console().print(table)
    if result.refused:
        typer.echo(f"{result.refused} commands were refused:", err=True)
        for refusal in result.refusals:
            typer.echo(f"  {refusal}", err=True)
        raise typer.Exit(1)
