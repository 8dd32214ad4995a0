"""projection tracking (with generations), case list and staff directory read models

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "projection_tracking",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("events_processed", sa.BigInteger, nullable=False),
        sa.Column("caught_up_at", TZ),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "projection_active",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
    )
    op.create_table(
        "case_list",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("crn", sa.String(7), nullable=False),
        sa.Column("sentence_type", sa.String(40), nullable=False),
        sa.Column("pdu", sa.String(50), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("practitioner_id", sa.String(100)),
        sa.Column("rosh", sa.String(20)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("terminated_at", TZ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_event_at", TZ, nullable=False),
    )
    op.create_index("ix_case_list_team", "case_list", ["generation", "team", "crn"])
    op.create_index(
        "ix_case_list_practitioner", "case_list", ["generation", "practitioner_id", "status"]
    )
    op.create_index("ix_case_list_crn", "case_list", ["generation", "crn"])
    op.create_table(
        "staff_directory",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("grade", sa.String(10), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("pdu", sa.String(50), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("training", sa.JSON, nullable=False),
    )
    op.create_index("ix_staff_directory_team", "staff_directory", ["generation", "team"])


def downgrade() -> None:
    op.drop_index("ix_staff_directory_team", "staff_directory")
    op.drop_table("staff_directory")
    for index in ("ix_case_list_crn", "ix_case_list_practitioner", "ix_case_list_team"):
        op.drop_index(index, "case_list")
    op.drop_table("case_list")
    op.drop_table("projection_active")
    op.drop_table("projection_tracking")
