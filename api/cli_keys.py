"""``casetrail keys``: rotate the master key, and say which master wraps how many keys."""

from __future__ import annotations

import typer

from application.settings import Settings

keys_app = typer.Typer(help="Master key rotation (envelope encryption).", no_args_is_help=True)


@keys_app.command("status")
def keys_status() -> None:
    """How many keys each master wraps (current, previous N, or unknown) and how many are
    destroyed."""
    from api.bootstrap import build
    from application.rotation import status

    container = build(Settings())
    try:
        counts = status(container.app.keys)
    finally:
        container.close()
    typer.echo(f"current master: {container.app.keys.masters.current.fingerprint}")
    for label, count in sorted(counts.items()):
        typer.echo(f"{label}: {count}")


@keys_app.command("rotate")
def keys_rotate(
    batch: int = typer.Option(500, min=1, help="keys re-wrapped per transaction"),
) -> None:
    """Re-wrap every key by CASETRAIL_ENCRYPTION_KEY, unwrapping with it or one of
    CASETRAIL_PREVIOUS_ENCRYPTION_KEYS. No event changes; safe while the API serves."""
    from api.bootstrap import build
    from application.rotation import rotate, status

    container = build(Settings())
    try:
        result = rotate(container.app.keys, batch=batch)
        counts = status(container.app.keys)
    finally:
        container.close()
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
