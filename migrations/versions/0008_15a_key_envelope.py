"""key envelope: the payload key stored wrapped, which master wrapped each key, and the key
generation that tells every process at once that keys were destroyed

The payload key itself is written by the first start on this layout (``KeyStore._adopt``):
that takes the master key, which a migration is not given. Existing case keys keep their
wrapping; they are named with their master's fingerprint at that first start.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_keys") as batch:
        batch.add_column(sa.Column("wrapped_by", sa.String(16), nullable=True))
    op.create_table(
        "store_keys",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("wrapped_by", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    generation = op.create_table(
        "key_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table("key_generation")
    op.drop_table("store_keys")
    with op.batch_alter_table("data_keys") as batch:
        batch.drop_column("wrapped_by")
