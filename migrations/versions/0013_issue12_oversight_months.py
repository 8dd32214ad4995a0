"""oversight_months: each case's oversight columns as at the end of each month (trends)

The oversight projection fills it as events arrive; a store that already has events needs
`casetrail projections rebuild oversight` once after this migration for its earlier months.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oversight_months",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("until", sa.Date),
        sa.Column("crn", sa.String(7), nullable=False),
        sa.Column("pdu", sa.String(50), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("practitioner_id", sa.String(100)),
        sa.Column("sentence_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("rosh", sa.String(20)),
        sa.Column("rosh_high", sa.Boolean, nullable=False),
        sa.Column("high_oversight", sa.Boolean, nullable=False),
        sa.Column("ns_attended", sa.Integer, nullable=False),
        sa.Column("ns_countable", sa.Integer, nullable=False),
        sa.Column("first_failure_on", sa.Date),
        sa.Column("first_uncited_on", sa.Date),
        sa.Column("enforcement_worst_bd", sa.Integer),
        sa.Column("induction_bd", sa.Integer),
        sa.Column("inducted_on", sa.Date),
        sa.Column("plan_agreed", sa.Boolean, nullable=False),
        sa.Column("plan_bd", sa.Integer),
        sa.Column("uw_required", sa.Boolean, nullable=False),
        sa.Column("uw_sessions", sa.Integer, nullable=False),
        sa.Column("uw_attended", sa.Integer, nullable=False),
        sa.Column("uw_months", sa.Integer),
        sa.Column("needs_count", sa.Integer, nullable=False),
        sa.Column("needs_referred", sa.Integer, nullable=False),
        sa.Column("ap_completed", sa.Integer, nullable=False),
        sa.Column("ap_ended", sa.Integer, nullable=False),
        sa.Column("hv_required", sa.Boolean, nullable=False),
        sa.Column("hv_bd", sa.Integer),
        sa.Column("enq_requested", sa.Integer, nullable=False),
        sa.Column("enq_answered", sa.Integer, nullable=False),
        sa.Column("court_reports", sa.Integer, nullable=False),
        sa.Column("court_ok", sa.Boolean, nullable=False),
        sa.Column("assessed", sa.Boolean, nullable=False),
        sa.Column("assessment_person_involved", sa.Boolean, nullable=False),
        sa.Column("assessment_needs_analysed", sa.Boolean, nullable=False),
        sa.Column("assessment_sources_ok", sa.Boolean, nullable=False),
        sa.Column("plan_person_involved", sa.Boolean, nullable=False),
        sa.Column("plan_desistance", sa.Boolean, nullable=False),
        sa.Column("plan_contingency", sa.Boolean, nullable=False),
        sa.Column("sig_events", sa.Integer, nullable=False),
        sa.Column("sig_worst_bd", sa.Integer),
        sa.Column("sig_first_unreviewed_on", sa.Date),
        sa.Column("reviewed", sa.Boolean, nullable=False),
        sa.Column("review_person_involved", sa.Boolean, nullable=False),
        sa.Column("rosh_changes", sa.Integer, nullable=False),
        sa.Column("rosh_changes_planned", sa.Integer, nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False),
        sa.Column("sfo", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_oversight_months_team", "oversight_months", ["generation", "team", "month"]
    )
    op.create_index("ix_oversight_months_pdu", "oversight_months", ["generation", "pdu", "month"])


def downgrade() -> None:
    op.drop_table("oversight_months")
