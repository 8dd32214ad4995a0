"""The ``casetrail`` command line: serve, migrate, issue local tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from application.access import ROLES
from application.settings import Settings

app = typer.Typer(help="casetrail: event-sourced case supervision.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default CASETRAIL_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default CASETRAIL_PORT")] = None,
) -> None:
    """Serve the HTTP API (migrates the database to head first)."""
    import uvicorn

    from api.main import create_app
    from api.observability import setup_logging

    settings = Settings()
    setup_logging(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create the event store and migrate casetrail's tables to REVISION."""
    from application.migrate import upgrade
    from application.service import CaseTrail

    settings = Settings()
    CaseTrail(settings).close()  # the library creates its event tables on first use
    upgrade(settings.database_url, revision)
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
    hours: Annotated[int, typer.Option(min=1, max=24 * 7)] = 8,
) -> None:
    """Print a signed token for local use (uses CASETRAIL_JWT_SECRET or the dev secret)."""
    from api.auth import issue_token

    unknown = sorted(set(role) - set(ROLES))
    if unknown:
        raise typer.BadParameter(f"unknown role {', '.join(unknown)}", param_hint="--role")
    typer.echo(
        issue_token(
            Settings(), sub=sub, roles=list(role), teams=list(team or []), ttl_seconds=hours * 3600
        )
    )


if __name__ == "__main__":
    app()
