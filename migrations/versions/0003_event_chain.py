"""event_chain: the tamper-evident HMAC chain over every stored event

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_chain",
        sa.Column("originator_id", sa.Uuid, primary_key=True),
        sa.Column("originator_version", sa.Integer, primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("event_chain")
