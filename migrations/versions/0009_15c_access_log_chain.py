"""access log chain: each row linked to the one before it in its lane, and each lane's head

Rows written before this revision stay unchained until the service first starts with the
integrity key (application/access_chain.py ``chain_unlinked``), which needs the key that a
migration does not have.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LANES = 32
GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("lane", sa.SmallInteger, nullable=True))
        batch.add_column(sa.Column("seq", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("link", sa.String(64), nullable=True))
        batch.create_index("ix_access_log_chain", ["lane", "seq"], unique=True)
    heads = op.create_table(
        "access_log_heads",
        sa.Column("lane", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
    )
    op.bulk_insert(heads, [{"lane": lane, "seq": 0, "link": GENESIS} for lane in range(LANES)])


def downgrade() -> None:
    op.drop_table("access_log_heads")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_index("ix_access_log_chain")
        batch.drop_column("link")
        batch.drop_column("seq")
        batch.drop_column("lane")
