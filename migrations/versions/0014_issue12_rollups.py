"""Rollups: per-team sums of the compliance and quality figures, and of their trends

team_stamps, indicator_rollups and scope_rollups keep the current figures; team_month_stamps and
trend_rollups the trends' points. Every team with case rows gets stamps of 0 (from its first
month for trends), so that a store upgraded with its read models in place has its rollups
summed on first read (projections/rollups.py, projections/trends.py).

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
    op.create_table(
        "scope_rollups",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("stamp", sa.BigInteger, nullable=False),
        sa.Column("sums", sa.JSON, nullable=False),
    )
    op.create_table(
        "team_month_stamps",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("pdu", sa.String(50), primary_key=True),
        sa.Column("team", sa.String(50), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("stamp", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "trend_rollups",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("pdu", sa.String(50), primary_key=True),
        sa.Column("team", sa.String(50), primary_key=True),
        sa.Column("points", sa.JSON, nullable=False),
    )
    op.execute(
        "INSERT INTO team_stamps (generation, pdu, team, stamp) "
        "SELECT DISTINCT generation, pdu, team, 0 FROM oversight_cases"
    )
    op.execute(
        "INSERT INTO team_month_stamps (generation, pdu, team, month, stamp) "
        "SELECT generation, pdu, team, MIN(month), 0 FROM oversight_months "
        "GROUP BY generation, pdu, team"
    )


def downgrade() -> None:
    op.drop_table("trend_rollups")
    op.drop_table("team_month_stamps")
    op.drop_table("scope_rollups")
    op.drop_table("indicator_rollups")
    op.drop_table("team_stamps")
