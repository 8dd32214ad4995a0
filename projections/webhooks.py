"""Webhook subscriptions and their deliveries: made, listed, replayed and retried here; the
relay (projections/relay.py) delivers. The secret is shown once and stored sealed."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from projections import tracking
from projections.envelope import EVENT_TYPES
from projections.schema import projection_tracking, webhook_deliveries, webhook_subscriptions

ACTIVE, DISABLED, DELETED = "active", "disabled", "deleted"
PENDING, DELIVERED, PARKED = "pending", "delivered", "parked"
SECRET_PREFIX = "whsec_"


class UnknownSubscriptionError(LookupError):
    """No such subscription (or it was deleted)."""


class UnknownEventTypeError(ValueError):
    """An event type that is not published."""


def tracking_name(subscription_id: UUID) -> str:
    """The subscription's relay position is tracked like a projection's, under this name."""
    return f"webhook:{subscription_id}"


class SecretBox:
    """Seals webhook secrets (AES-GCM, bound to the subscription id)."""

    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)

    def seal(self, subscription_id: UUID, secret: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self.aead.encrypt(nonce, secret.encode(), subscription_id.bytes)

    def open(self, subscription_id: UUID, sealed: bytes) -> str:
        return self.aead.decrypt(sealed[:12], sealed[12:], subscription_id.bytes).decode()


def new_secret() -> str:
    """``whsec_`` and base64 of 32 random bytes (Standard Webhooks)."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Subscription:
    id: UUID
    url: str
    event_types: list[str]
    description: str
    status: str
    status_reason: str | None
    created_by: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        event_types=list(row.event_types),
        description=row.description,
        status=row.status,
        status_reason=row.status_reason,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class Subscriptions:
    """The subscriptions table and its deliveries."""

    def __init__(self, engine: sa.Engine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box

    def create(
        self, *, url: str, event_types: list[str], description: str, created_by: str, head: int
    ) -> tuple[Subscription, str]:
        """A new subscription and its secret (shown this once). It starts at ``head``: the
        events stored before it are not sent (replay them with ``replay``)."""
        unknown = sorted(set(event_types) - set(EVENT_TYPES))
        if unknown:
            raise UnknownEventTypeError(f"not published: {', '.join(unknown)}")
        subscription_id = uuid4()
        secret = new_secret()
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(webhook_subscriptions).values(
                    id=subscription_id,
                    url=url,
                    event_types=sorted(set(event_types)),
                    description=description,
                    secret=self.box.seal(subscription_id, secret),
                    status=ACTIVE,
                    created_by=created_by,
                    created_at=datetime.now(UTC),
                )
            )
            name = tracking_name(subscription_id)
            tracking.ensure_active(conn, name)
            conn.execute(
                sa.update(projection_tracking)
                .where(projection_tracking.c.projection == name)
                .values(position=head)
            )
        return self.get(subscription_id), secret

    def get(self, subscription_id: UUID, *, deleted: bool = False) -> Subscription:
        t = webhook_subscriptions
        query = sa.select(t).where(t.c.id == subscription_id)
        if not deleted:
            query = query.where(t.c.status != DELETED)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise UnknownSubscriptionError(f"no subscription {subscription_id}")
        return _subscription(row)

    def all(self, *, status: str | None = None) -> list[Subscription]:
        t = webhook_subscriptions
        query = sa.select(t).where(t.c.status != DELETED).order_by(t.c.created_at, t.c.id)
        if status is not None:
            query = query.where(t.c.status == status)
        with self.engine.connect() as conn:
            return [_subscription(r) for r in conn.execute(query)]

    def secret(self, subscription_id: UUID) -> str:
        with self.engine.connect() as conn:
            sealed = conn.execute(
                sa.select(webhook_subscriptions.c.secret).where(
                    webhook_subscriptions.c.id == subscription_id
                )
            ).scalar_one()
        return self.box.open(subscription_id, bytes(sealed))

    def delete(self, subscription_id: UUID) -> None:
        self.set_status(subscription_id, DELETED, "deleted through the API")

    def set_status(
        self, subscription_id: UUID, status: str, reason: str, conn: sa.Connection | None = None
    ) -> None:
        t = webhook_subscriptions
        statement = (
            sa.update(t)
            .where(t.c.id == subscription_id, t.c.status != DELETED)
            .values(status=status, status_reason=reason[:500])
        )
        if conn is not None:
            conn.execute(statement)
            return
        with self.engine.begin() as own:
            if own.execute(statement).rowcount == 0:
                raise UnknownSubscriptionError(f"no subscription {subscription_id}")

    def replay(self, subscription_id: UUID, from_position: int) -> None:
        """Send again every event from ``from_position`` on (each keeps its webhook-id); a
        disabled subscription is active again."""
        self.get(subscription_id)
        name = tracking_name(subscription_id)
        with self.engine.begin() as conn:
            generation = tracking.ensure_active(conn, name)
            conn.execute(
                sa.update(projection_tracking)
                .where(
                    projection_tracking.c.projection == name,
                    projection_tracking.c.generation == generation,
                )
                .values(position=max(from_position - 1, 0), updated_at=tracking.now())
            )
            conn.execute(
                sa.update(webhook_subscriptions)
                .where(webhook_subscriptions.c.id == subscription_id)
                .values(status=ACTIVE, status_reason=None)
            )

    def retry_parked(self, subscription_id: UUID) -> int:
        """Parked deliveries go back to pending with a fresh count of attempts."""
        self.get(subscription_id)
        d = webhook_deliveries
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(d)
                .where(d.c.subscription_id == subscription_id, d.c.status == PARKED)
                .values(status=PENDING, attempts=0, next_attempt_at=datetime.now(UTC))
            )
        return int(result.rowcount)

    def deliveries(
        self, subscription_id: UUID, *, status: str | None, after: int | None, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        self.get(subscription_id)
        d = webhook_deliveries
        query = sa.select(d).where(d.c.subscription_id == subscription_id)
        if status is not None:
            query = query.where(d.c.status == status)
        if after is not None:
            query = query.where(d.c.position > after)
        with self.engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(query.order_by(d.c.position).limit(limit + 1)).mappings()
            ]
        more = len(rows) > limit
        rows = rows[:limit]
        for row in rows:
            row.pop("body", None)
        return rows, (rows[-1]["position"] if more and rows else None)

    def stats(self, head: int) -> list[dict[str, Any]]:
        """Per subscription: position, lag, pending, parked, attempts (metrics, CLI)."""
        d, t = webhook_deliveries, projection_tracking
        counts = (
            sa.select(
                d.c.subscription_id,
                sa.func.sum(sa.case((d.c.status == PENDING, 1), else_=0)).label("pending"),
                sa.func.sum(sa.case((d.c.status == PARKED, 1), else_=0)).label("parked"),
                sa.func.sum(sa.case((d.c.status == DELIVERED, 1), else_=0)).label("delivered"),
                sa.func.sum(d.c.attempts).label("attempts"),
                sa.func.min(sa.case((d.c.status == PENDING, d.c.created_at))).label("oldest"),
            )
            .group_by(d.c.subscription_id)
            .subquery()
        )
        subscriptions = self.all()
        with self.engine.connect() as conn:
            found = {r.subscription_id: r for r in conn.execute(sa.select(counts))}
            positions = {
                r.projection: r.position
                for r in conn.execute(
                    sa.select(t.c.projection, t.c.position).where(t.c.projection.like("webhook:%"))
                )
            }
        now = datetime.now(UTC)
        stats = []
        for s in subscriptions:
            row = found.get(s.id)
            position = positions.get(tracking_name(s.id), 0)
            oldest = row.oldest if row is not None else None
            if oldest is not None and oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            stats.append(
                {
                    "id": s.id,
                    "url": s.url,
                    "status": s.status,
                    "position": position,
                    "lag_events": max(head - position, 0) + int(row.pending if row else 0),
                    "lag_seconds": (now - oldest).total_seconds() if oldest else 0.0,
                    "pending": int(row.pending if row else 0),
                    "parked": int(row.parked if row else 0),
                    "delivered": int(row.delivered if row else 0),
                    "attempts": int(row.attempts if row and row.attempts else 0),
                }
            )
        return stats
