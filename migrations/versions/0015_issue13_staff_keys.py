"""data keys for staff, and staff_profiles.erased: staff characteristics sealed and erasable
(issue 13)

A member of staff's data key is a `data_keys` row with their `staff_id` and no CRN, so `crn`
becomes nullable. `staff_profiles.erased` marks a staff member whose personal data was
erased: the workforce figures leave them out.

Downgrading deletes the staff members' key rows (the earlier layout has no place for them):
every sealed staff code then reads `[erased]`, as if each staff member had been erased.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_keys") as batch:
        batch.add_column(sa.Column("staff_id", sa.String(100), nullable=True))
        batch.alter_column("crn", existing_type=sa.String(7), nullable=True)
        batch.create_index("ix_data_keys_staff_id", ["staff_id"])
    with op.batch_alter_table("staff_profiles") as batch:
        batch.add_column(
            sa.Column("erased", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_profiles") as batch:
        batch.drop_column("erased")
    op.execute("DELETE FROM data_keys WHERE staff_id IS NOT NULL OR crn IS NULL")
    with op.batch_alter_table("data_keys") as batch:
        batch.drop_index("ix_data_keys_staff_id")
        batch.alter_column("crn", existing_type=sa.String(7), nullable=False)
        batch.drop_column("staff_id")
