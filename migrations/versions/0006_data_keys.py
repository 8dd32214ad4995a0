"""data_keys: per-case data keys for sealing personal fields (erasure by crypto-shredding)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("aggregate_id", sa.Uuid, primary_key=True),
        sa.Column("crn", sa.String(7), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
    )
    op.create_index("ix_data_keys_crn", "data_keys", ["crn"])


def downgrade() -> None:
    op.drop_index("ix_data_keys_crn", "data_keys")
    op.drop_table("data_keys")
