"""imported_cases: each case `casetrail import` brought in, by its source id, written in the
same transaction as the case's events (re-runs skip what is there)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_cases",
        sa.Column("source_id", sa.String(200), primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("crn", sa.String(7), nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
    )
    op.create_index("ix_imported_cases_crn", "imported_cases", ["crn"])


def downgrade() -> None:
    op.drop_index("ix_imported_cases_crn", table_name="imported_cases")
    op.drop_table("imported_cases")
