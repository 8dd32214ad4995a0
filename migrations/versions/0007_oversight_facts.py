"""oversight_facts: a case's folded facts in a table of their own, so that rates scan narrow rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oversight_facts",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("facts", sa.JSON, nullable=False),
    )
    op.execute(
        "INSERT INTO oversight_facts (generation, case_id, facts) "
        "SELECT generation, case_id, facts FROM oversight_cases"
    )
    with op.batch_alter_table("oversight_cases") as batch:
        batch.drop_column("facts")


def downgrade() -> None:
    with op.batch_alter_table("oversight_cases") as batch:
        batch.add_column(sa.Column("facts", sa.JSON, nullable=True))
    op.execute(
        "UPDATE oversight_cases SET facts = (SELECT f.facts FROM oversight_facts f "
        "WHERE f.generation = oversight_cases.generation AND f.case_id = oversight_cases.case_id)"
    )
    with op.batch_alter_table("oversight_cases") as batch:
        batch.alter_column("facts", existing_type=sa.JSON, nullable=False)
    op.drop_table("oversight_facts")
