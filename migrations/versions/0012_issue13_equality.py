"""equality_cases and staff_profiles: the equality read models' codes (issue 13)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FLAGS = (
    "licence",
    "breach_or_recall",
    "enforcement",
    "recall",
    "high_rosh",
    "needs",
    "crs_referral",
    "inducted",
    "inducted_on_time",
    "terminated",
    "completed",
    "erased",
)


def upgrade() -> None:
    op.create_table(
        "equality_cases",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("pdu", sa.String(50), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("ethnic_group", sa.String(20), nullable=False),
        sa.Column("sex", sa.String(20), nullable=False),
        sa.Column("disability", sa.String(20), nullable=False),
        sa.Column("age_band", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date),
        *(sa.Column(flag, sa.Boolean, nullable=False) for flag in FLAGS),
    )
    op.create_index("ix_equality_cases_team", "equality_cases", ["generation", "team"])
    op.create_index("ix_equality_cases_pdu", "equality_cases", ["generation", "pdu"])
    op.create_table(
        "staff_profiles",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("aggregate_id", sa.Uuid, primary_key=True),
        sa.Column("staff_id", sa.String(100), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("pdu", sa.String(50), nullable=False),
        sa.Column("ethnic_group", sa.String(20), nullable=False),
        sa.Column("sex", sa.String(20), nullable=False),
        sa.Column("training", sa.JSON, nullable=False),
    )
    op.create_index("ix_staff_profiles_team", "staff_profiles", ["generation", "team"])


def downgrade() -> None:
    op.drop_table("staff_profiles")
    op.drop_table("equality_cases")
