"""Read-model tables and the projection tracking tables (all created by Alembic).

Every read-model row carries a ``generation``: a rebuild writes the next generation beside
the live one and swaps it in when caught up, so queries never see a half-built model.
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which drops offsets) too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


projection_tracking = sa.Table(
    "projection_tracking",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("events_processed", sa.BigInteger, nullable=False),
    sa.Column("caught_up_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

projection_active = sa.Table(
    "projection_active",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
)

case_list = sa.Table(
    "case_list",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("crn", sa.String(7), nullable=False),
    sa.Column("sentence_type", sa.String(40), nullable=False),
    sa.Column("pdu", sa.String(50), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("practitioner_id", sa.String(100)),
    sa.Column("rosh", sa.String(20)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("terminated_at", UTCDateTime()),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("last_event_at", UTCDateTime(), nullable=False),
    sa.Index("ix_case_list_team", "generation", "team", "crn"),
    sa.Index("ix_case_list_practitioner", "generation", "practitioner_id", "status"),
    sa.Index("ix_case_list_crn", "generation", "crn"),
)

staff_directory = sa.Table(
    "staff_directory",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("staff_id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("grade", sa.String(10), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("pdu", sa.String(50), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("training", sa.JSON, nullable=False),
    sa.Index("ix_staff_directory_team", "generation", "team"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("aggregate_id", sa.Uuid, nullable=False),
    sa.Column("aggregate_type", sa.String(20), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(60), nullable=False),
    sa.Column("actor_id", sa.String(200), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Index("ix_audit_events_actor", "generation", "actor_id", "position"),
    sa.Index("ix_audit_events_type", "generation", "type", "position"),
)
