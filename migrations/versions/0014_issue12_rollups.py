"""team_stamps and indicator_rollups: per-team rollups of the compliance and quality figures

Every team with case rows gets a stamp of 0, so that a store upgraded with its read models
in place has its rollups summed on first read (projections/rollups.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_stamps",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("pdu", sa.String(50), primary_key=True),
        sa.Column("team", sa.String(50), primary_key=True),
        sa.Column("stamp", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "indicator_rollups",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("pdu", sa.String(50), primary_key=True),
        sa.Column("team", sa.String(50), primary_key=True),
        sa.Column("stamp", sa.BigInteger, nullable=False),
        sa.Column("sums", sa.JSON, nullable=False),
    )
    op.execute(
        "INSERT INTO team_stamps (generation, pdu, team, stamp) "
        "SELECT DISTINCT generation, pdu, team, 0 FROM oversight_cases"
    )


def downgrade() -> None:
    op.drop_table("indicator_rollups")
    op.drop_table("team_stamps")
