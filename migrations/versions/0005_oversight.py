"""oversight read model: one row per case (facts and rate columns) and the queue's open clocks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
CASE_INDEXES = {
    "ix_oversight_cases_team": ["generation", "team", "opened_on"],
    "ix_oversight_cases_pdu": ["generation", "pdu", "opened_on"],
    "ix_oversight_cases_practitioner": ["generation", "practitioner_id", "opened_on"],
}


def upgrade() -> None:
    op.create_table(
        "oversight_cases",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("crn", sa.String(7), nullable=False),
        sa.Column("pdu", sa.String(50), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("practitioner_id", sa.String(100)),
        sa.Column("sentence_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("items_digest", sa.String(16), nullable=False),
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
    for name, columns in CASE_INDEXES.items():
        op.create_index(name, "oversight_cases", columns)
    op.create_table(
        "oversight_items",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("rule", sa.String(40), primary_key=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("practitioner_id", sa.String(100)),
        sa.Column("crn", sa.String(7), nullable=False),
        sa.Column("since", TZ, nullable=False),
        sa.Column("since_on", sa.Date, nullable=False),
    )
    op.create_index(
        "ix_oversight_items_team", "oversight_items", ["generation", "team", "rule", "since_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_oversight_items_team", "oversight_items")
    op.drop_table("oversight_items")
    for name in CASE_INDEXES:
        op.drop_index(name, "oversight_cases")
    op.drop_table("oversight_cases")
