"""The ``casetrail`` command line: serve, migrate, issue local tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli_keys import keys_app
from api.cli_subscriptions import app as subscriptions_app
from application.access import ROLES
from application.settings import Settings

if TYPE_CHECKING:
    from api.bootstrap import Container

app = typer.Typer(help="casetrail: event-sourced case supervision.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
projections_app = typer.Typer(help="Read-model projections.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
app.add_typer(keys_app, name="keys")
app.add_typer(subscriptions_app, name="subscriptions")


@contextmanager
def rate_bar(
    description: str, unit: str, total: int | None = None
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with done of total, rate, elapsed and ETA; yields its update callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task(description, total=total, rate="")

        def update(done: int, of: int) -> None:
            speed = bar.tasks[task].speed
            bar.update(
                task, completed=done, total=of, rate=f"{speed:,.0f} {unit}/s" if speed else ""
            )

        yield update


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default CASETRAIL_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default CASETRAIL_PORT")] = None,
    workers: Annotated[int | None, typer.Option(help="default CASETRAIL_WORKERS")] = None,
) -> None:
    """Serve the HTTP API (migrates the database to head first).

    With CASETRAIL_PROJECTIONS=worker (the default) a projection worker process runs beside
    the API, started and stopped with it. With several API workers, each is a process with
    its own aggregate cache and rate-limit counts; they share the store, whose optimistic
    concurrency orders their writes.
    """
    import uvicorn

    from api.bootstrap import build
    from api.main import create_app
    from api.observability import setup_logging
    from api.worker import ProjectionWorker

    settings = Settings()
    setup_logging(settings)
    count = workers or settings.workers
    bind_host, bind_port = host or settings.host, port or settings.port
    # Migrate, set the projections up and create any dev secrets once, before any other
    # process starts, so that they find everything in place rather than race to make it.
    container = build(settings)
    worker = ProjectionWorker() if settings.projections == "worker" else None
    if worker is not None:
        worker.start()
    try:
        if count == 1:
            uvicorn.run(
                create_app(container=container),
                host=bind_host,
                port=bind_port,
                log_config=None,
                access_log=False,
            )
            return
        container.close()
        uvicorn.run(
            "api.main:from_environment",
            factory=True,
            workers=count,
            host=bind_host,
            port=bind_port,
            log_config=None,
            access_log=False,
        )
    finally:
        if worker is not None:
            worker.stop()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create the event store and migrate casetrail's tables to REVISION."""
    from application.migrate import upgrade
    from application.service import CaseTrail

    settings = Settings()
    CaseTrail(settings).close()  # the library creates its event tables on first use
    upgrade(settings.database_url, revision)
    if revision == "head":  # a store from before envelope encryption adopts its payload key
        service = CaseTrail(settings)
        try:
            service.keys.payload_key()
        finally:
            service.close()
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate casetrail's tables down to REVISION (the event store is never dropped)."""
    from application.migrate import downgrade

    downgrade(Settings().database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="staff id (the token's subject)")],
    role: Annotated[list[str], typer.Option(help=f"one of {', '.join(ROLES)}; repeatable")],
    team: Annotated[list[str] | None, typer.Option(help="team code; repeatable")] = None,
    pdu: Annotated[
        list[str] | None, typer.Option(help="PDU code, for a pdu_head; repeatable")
    ] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 7)] = 8,
) -> None:
    """Print a signed token for local use (uses CASETRAIL_JWT_SECRET or the dev secret)."""
    from api.auth import issue_token

    unknown = sorted(set(role) - set(ROLES))
    if unknown:
        raise typer.BadParameter(f"unknown role {', '.join(unknown)}", param_hint="--role")
    typer.echo(
        issue_token(
            Settings(),
            sub=sub,
            roles=list(role),
            teams=list(team or []),
            pdus=list(pdu or []),
            ttl_seconds=hours * 3600,
        )
    )


@app.command()
def verify(
    case: Annotated[str | None, typer.Option(help="one case id; default the whole store")] = None,
) -> None:
    """Check stored events against their tamper-evident chain; exit 1 on any break."""
    from uuid import UUID

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from api.bootstrap import build
    from application.verification import verify_aggregate, verify_store

    container = build(Settings())
    try:
        if case is not None:
            try:
                case_id = UUID(case)
            except ValueError:
                raise typer.BadParameter("not a case id (UUID)", param_hint="--case") from None
            result = verify_aggregate(container.app.recorder, case_id)
            if result.ok and result.checked == 0:
                typer.echo(f"no case {case_id}", err=True)
                raise typer.Exit(2)
            broken = {} if result.ok else {case_id: result}
            checked = 1
        else:
            with Progress(
                *Progress.get_default_columns()[:1],
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            ) as bar:
                task = bar.add_task("verifying events", total=None)
                broken = verify_store(
                    container.app.recorder,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            checked = -1
        for aggregate_id, result in sorted(broken.items(), key=lambda kv: str(kv[0])):
            typer.echo(
                f"BROKEN {aggregate_id} at version {result.first_bad_version}: {result.reason}"
            )
        log_ok = case is not None or _verify_access_log(container)
        if broken or not log_ok:
            raise typer.Exit(1)
        typer.echo(
            "ok: every stored event matches its chain" + ("" if checked < 0 else f" ({case})")
        )
    finally:
        container.close()


def _verify_access_log(container: Container) -> bool:
    """Check the access log's chain, print each break; whether it is whole."""
    assert container.app.access_log is not None  # the composition root sets it
    with rate_bar("verifying access log", "rows") as progress:
        result = container.app.access_log.verify(progress)
    for found in result.breaks:
        typer.echo(f"BROKEN access log {found}")
    if result.more_breaks:
        typer.echo(f"BROKEN access log: {result.more_breaks} more breaks")
    if result.ok:
        typer.echo(f"ok: every access-log row matches its chain ({result.checked} rows)")
    return result.ok


@app.command()
def erase(
    reason: Annotated[str, typer.Option(help="why (recorded on each case, or the staff member)")],
    crn: Annotated[str | None, typer.Option(help="a person's CRN, e.g. X123456")] = None,
    staff: Annotated[str | None, typer.Option(help="a member of staff's staff id")] = None,
    by: Annotated[str, typer.Option(help="who is erasing (recorded as the actor)")] = "cli-admin",
) -> None:
    """Erase a person's (--crn) or a member of staff's (--staff) personal data by destroying
    their data keys (crypto-shredding)."""
    import re

    from api.bootstrap import build
    from application.access import ADMIN, Actor
    from application.commands import EraseStaff
    from application.errors import NotFoundError
    from domain.errors import DomainError

    if (crn is None) == (staff is None):
        raise typer.BadParameter("give one of --crn and --staff", param_hint="--crn/--staff")
    if crn is not None and not re.fullmatch(r"[A-Z][0-9]{6}", crn):
        raise typer.BadParameter("a CRN is one capital letter and six digits", param_hint="--crn")
    admin = Actor(by, frozenset({ADMIN}))
    container = build(Settings())
    try:
        if staff is not None:
            done = container.app.erase_staff(EraseStaff(staff_id=staff, reason=reason), admin)
            typer.echo(f"erased: staff {staff} (erasure recorded as version {done.version})")
            return
        assert crn is not None
        written = container.app.erase_person(crn, reason, admin)
    except (NotFoundError, DomainError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    for w in written:
        typer.echo(f"erased: case {w.aggregate_id} (erasure recorded as version {w.version})")


@app.command()
def backup(
    directory: Annotated[Path, typer.Argument(help="a new or empty directory")],
) -> None:
    """Back up the whole database (events, access log, read models) while the API serves.

    SQLite: the online backup API. PostgreSQL: pg_dump. The keys are not in the backup: keep
    CASETRAIL_ENCRYPTION_KEY and CASETRAIL_INTEGRITY_KEY safe apart from it.
    """
    from api.bootstrap import build
    from application.backup import BackupError, take_backup

    container = build(Settings(), migrate=False)
    try:
        head = container.app.recorder.max_notification_id() or 0
        manifest = take_backup(
            container.settings.database_url,
            directory,
            events_at_least=head,
            integrity_key=container.app.chain_key,
        )
    except BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    typer.echo(
        f"backed up to {directory / manifest.file}: every event up to position "
        f"{manifest.events_at_least} and everything else as of {manifest.taken_at}"
    )


@app.command()
def restore(
    directory: Annotated[Path, typer.Argument(help="a directory made by casetrail backup")],
) -> None:
    """Replace the database with a backup, then bring it up to date and verify it.

    Stop the API and projection workers first. Afterwards the schema is migrated to head, the
    read models carry on from the positions they were backed up at, and the event chain and
    the access log are verified (exit 1 on a break).
    """
    from api.bootstrap import build
    from application.backup import BackupError, restore_backup
    from application.secrets import resolve_secret

    settings = Settings()
    key = resolve_secret(
        settings, settings.integrity_key, "integrity-key", "CASETRAIL_INTEGRITY_KEY"
    ).encode()
    try:
        manifest = restore_backup(settings.database_url, directory, integrity_key=key)
    except BackupError as exc:
        typer.echo(f"restore failed: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"restored {directory / manifest.file} (taken {manifest.taken_at})")
    container = build(settings)  # migrates a backup of an older schema to head
    try:
        container.projections.catch_up()
        head = container.app.recorder.max_notification_id() or 0
        typer.echo(f"read models brought up to position {head}")
    finally:
        container.close()
    verify(case=None)


@projections_app.command("run")
def projections_run(
    with_parent: Annotated[
        bool, typer.Option(help="stop when the process that started this one exits")
    ] = False,
    parent_pid: Annotated[
        int | None,
        typer.Option(
            help="with --with-parent: the parent's pid, so a parent that died before this "
            "process looked is noticed too"
        ),
    ] = None,
) -> None:
    """Keep every read model up to date in this process (worker mode) until SIGTERM or Ctrl-C.

    On PostgreSQL each projection takes an advisory lock: start several workers and the
    extra ones wait as hot standbys, taking over when the active one dies.
    """
    import os
    import signal
    import threading

    from api.bootstrap import build
    from api.observability import setup_logging

    settings = Settings()
    setup_logging(settings)
    parent = parent_pid or os.getppid()
    if with_parent and os.getppid() != parent:
        raise typer.Exit(0)  # the API that started this worker is already gone
    container = build(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    container.projections.start()
    typer.echo(f"projection worker running: {', '.join(container.projections.runners)}")
    try:
        while not stop.wait(0.5):
            if with_parent and os.getppid() != parent:
                break  # the API that started this worker is gone
    except KeyboardInterrupt:
        pass
    finally:
        container.close()


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[str | None, typer.Argument(help="one projection; default every one")] = None,
) -> None:
    """Replay from zero into fresh rows and swap them in when caught up (no downtime)."""
    from api.bootstrap import build

    container = build(Settings())
    names = [name] if name else list(container.projections.runners)
    try:
        for projection in names:
            if projection not in container.projections.runners:
                raise typer.BadParameter(f"no projection {projection!r}", param_hint="NAME")
            with rate_bar(projection, "events") as progress:
                generation = container.projections.rebuild(projection, progress)
            typer.echo(f"{projection}: generation {generation} is live")
    finally:
        container.close()


@projections_app.command("status")
def projections_status() -> None:
    """Each projection's position, lag (events and seconds) and state."""
    from rich.console import Console
    from rich.table import Table

    from api.bootstrap import build

    container = build(Settings())
    try:
        table = Table(
            "projection",
            "generation",
            "position",
            "head",
            "lag (events)",
            "lag (s)",
            "state",
            "error",
        )
        for status in container.projections.status():
            table.add_row(
                status.projection,
                str(status.generation),
                str(status.position),
                str(status.head),
                str(status.lag_events),
                f"{status.lag_seconds:.1f}",
                status.status,
                (status.error or "")[:60],
            )
        Console().print(table)
    finally:
        container.close()


@app.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="NDJSON, one case a line; - for standard input")],
    actor: Annotated[
        str, typer.Option(help="who recorded what a line does not attribute (actor_id)")
    ] = "casetrail-import",
    batch_events: Annotated[int, typer.Option(min=1, help="events per transaction")] = 2000,
    jobs: Annotated[
        int,
        typer.Option(min=0, max=32, help="worker processes for a file (0: one per CPU, up to 4)"),
    ] = 0,
) -> None:
    """Import case histories: each case decided by the aggregate, saved whole or not at all.

    Cases imported before (by source_id) are skipped. Refused lines go to FILE.errors.ndjson
    (standard error for -). The last line is the summary; exit status 3 if any was rejected.
    """
    import os

    from api.import_command import run_import

    workers = jobs or min(os.cpu_count() or 1, 4)
    rejected = run_import(file, actor=actor, batch_events=batch_events, jobs=workers)
    if rejected:
        raise typer.Exit(3)


@app.command()
def demo(
    pdu: Annotated[str, typer.Option(help="PDU code; its teams are PDU-01, PDU-02, ...")] = "SHF",
    cases: Annotated[int, typer.Option(min=1)] = 1820,
    practitioners: Annotated[int, typer.Option(min=1)] = 148,
    teams: Annotated[int, typer.Option(min=1)] = 10,
    months: Annotated[int, typer.Option(min=1, max=60, help="the window the events span")] = 12,
    seed: int = 1,
    mode: Annotated[
        str,
        typer.Option(
            help="aggregate: each case decided by the aggregate, one save per case (fast); "
            "execute: every command through the application's execute, as the API"
        ),
    ] = "aggregate",
    export: Annotated[
        str | None,
        typer.Option(help="write the PDU to FILE as a `casetrail import` file instead of loading"),
    ] = None,
) -> None:
    """Load a synthetic PDU whose distributions follow HMIP's inspection of Sheffield PDU."""
    from demo.cli import export_file, load

    if export is not None:
        export_file(
            export,
            pdu=pdu,
            cases=cases,
            practitioners=practitioners,
            teams=teams,
            months=months,
            seed=seed,
        )
        return
    load(
        pdu=pdu,
        cases=cases,
        practitioners=practitioners,
        teams=teams,
        months=months,
        seed=seed,
        mode=mode,
    )


if __name__ == "__main__":
    app()
