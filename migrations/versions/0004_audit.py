"""access log, and the cross-case audit read model

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=True),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_access_log_case", "access_log", ["case_id", "id"])
    op.create_index("ix_access_log_actor", "access_log", ["actor_id", "id"])
    op.create_table(
        "audit_events",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("aggregate_id", sa.Uuid, nullable=False),
        sa.Column("aggregate_type", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
    )
    op.create_index("ix_audit_events_actor", "audit_events", ["generation", "actor_id", "position"])
    op.create_index("ix_audit_events_type", "audit_events", ["generation", "type", "position"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_type", "audit_events")
    op.drop_index("ix_audit_events_actor", "audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_access_log_actor", "access_log")
    op.drop_index("ix_access_log_case", "access_log")
    op.drop_table("access_log")
