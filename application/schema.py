"""Tables the application owns beside the event store (created by Alembic migrations)."""

import sqlalchemy as sa

metadata = sa.MetaData()

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("actor_id", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("aggregate_id", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.text("CURRENT_TIMESTAMP"),
    ),
)

event_chain = sa.Table(
    "event_chain",
    metadata,
    sa.Column("originator_id", sa.Uuid, primary_key=True),
    sa.Column("originator_version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
)
