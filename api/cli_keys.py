"""``casetrail keys``: rotate the master key, say which master wraps how many keys, and
re-chain under a new integrity key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from application.settings import Settings

if TYPE_CHECKING:
    from api.bootstrap import Container

keys_app = typer.Typer(help="Master key rotation (envelope encryption).", no_args_is_help=True)


@contextmanager
def _container() -> Iterator[Container]:
    """The service, built from settings; a master key missing is said plainly (exit 2)."""
    from api.bootstrap import build
    from application.keys import KeyUnavailableError

    try:
        container = build(Settings())
    except KeyUnavailableError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        yield container
    finally:
        container.close()


@keys_app.command("status")
def keys_status() -> None:
    """How many keys each master wraps (current, previous N, or unknown) and how many are
    destroyed."""
    from application.rotation import status

    with _container() as container:
        counts = status(container.app.keys)
    typer.echo(f"current master: {container.app.keys.masters.current.fingerprint}")
    for label, count in sorted(counts.items()):
        typer.echo(f"{label}: {count}")


@keys_app.command("rotate")
def keys_rotate(
    batch: int = typer.Option(500, min=1, help="keys re-wrapped per transaction"),
) -> None:
    """Re-wrap every key by CASETRAIL_ENCRYPTION_KEY, unwrapping with it or one of
    CASETRAIL_PREVIOUS_ENCRYPTION_KEYS. No event changes; safe while the API serves."""
    from application.rotation import rotate, status

    with _container() as container:
        result = rotate(container.app.keys, batch=batch)
        counts = status(container.app.keys)
    typer.echo(
        f"re-wrapped {result.rewrapped} keys by {container.app.keys.masters.current.fingerprint}"
    )
    for fingerprint, count in sorted(result.unreadable.items()):
        typer.echo(
            f"NOT re-wrapped: {count} keys wrapped by master {fingerprint}, which is not "
            "configured (add it to CASETRAIL_PREVIOUS_ENCRYPTION_KEYS and run again)",
            err=True,
        )
    for label, count in sorted(counts.items()):
        typer.echo(f"{label}: {count}")
    if not result.ok:
        raise typer.Exit(1)
    typer.echo("ok: every live key is wrapped by the current master; the previous ones can go")


@keys_app.command("rechain")
def keys_rechain(
    new_key_file: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="a file holding the new key")
    ],
) -> None:
    """Recompute every chain link under a new integrity key, after verifying each under
    CASETRAIL_INTEGRITY_KEY. Events are not touched. Stop the API and runners first."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress

    from application.rechain import BrokenChainError, rechain

    new_key = new_key_file.read_text().strip()
    if len(new_key) < 32:
        raise typer.BadParameter("use at least 32 characters", param_hint="--new-key-file")
    with _container() as container:
        try:
            with Progress(BarColumn(), MofNCompleteColumn()) as bar:
                task = bar.add_task("re-chaining", total=None)
                written = rechain(
                    container.app.recorder,
                    new_key.encode(),
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        except BrokenChainError as exc:
            for aggregate_id, result in sorted(exc.broken.items(), key=lambda kv: str(kv[0])):
                typer.echo(
                    f"BROKEN {aggregate_id} at version {result.first_bad_version}: {result.reason}",
                    err=True,
                )
            typer.echo("nothing re-chained: the chain does not verify under the old key", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"re-chained {written} links: set CASETRAIL_INTEGRITY_KEY to the new key, then start"
    )
