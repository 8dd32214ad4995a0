"""``casetrail subscriptions``: list webhook subscriptions, replay, retry parked deliveries."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from application.settings import Settings

app = typer.Typer(help="Webhook subscriptions (domain events out).", no_args_is_help=True)


def _id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise typer.BadParameter("not a subscription id (UUID)") from None


@app.command("list")
def list_subscriptions() -> None:
    """Each subscription: URL, state, position, lag, pending, parked, attempts."""
    from rich.console import Console
    from rich.table import Table

    from api.bootstrap import build

    container = build(Settings())
    try:
        assert container.subscriptions is not None
        table = Table(
            "id", "url", "state", "position", "lag", "pending", "parked", "delivered", "attempts"
        )
        for s in container.subscriptions.stats(container.app.ping()):
            table.add_row(
                str(s["id"]),
                s["url"],
                s["status"],
                str(s["position"]),
                f"{s['lag_events']} ({s['lag_seconds']:.1f} s)",
                str(s["pending"]),
                str(s["parked"]),
                str(s["delivered"]),
                str(s["attempts"]),
            )
        Console().print(table)
    finally:
        container.close()


@app.command("replay")
def replay(
    subscription: Annotated[str, typer.Argument(help="the subscription's id")],
    from_position: Annotated[int, typer.Option("--from", min=1, help="store position")],
) -> None:
    """Send every event from a store position on again (each keeps its webhook-id)."""
    from api.bootstrap import build
    from projections.webhooks import UnknownSubscriptionError

    container = build(Settings())
    try:
        assert container.subscriptions is not None
        container.subscriptions.replay(_id(subscription), from_position)
    except UnknownSubscriptionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    typer.echo(f"{subscription}: replaying from position {from_position}")


@app.command("retry")
def retry(subscription: Annotated[str, typer.Argument(help="the subscription's id")]) -> None:
    """Try the parked deliveries of a subscription again."""
    from api.bootstrap import build
    from projections.webhooks import UnknownSubscriptionError

    container = build(Settings())
    try:
        assert container.subscriptions is not None
        count = container.subscriptions.retry_parked(_id(subscription))
    except UnknownSubscriptionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    typer.echo(f"{subscription}: {count} parked deliveries pending again")
