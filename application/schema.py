"""Tables the application owns beside the event store (created by Alembic migrations)."""

import sqlalchemy as sa

metadata = sa.MetaData()

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("actor_id", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("aggregate_id", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.text("CURRENT_TIMESTAMP"),
    ),
)

event_chain = sa.Table(
    "event_chain",
    metadata,
    sa.Column("originator_id", sa.Uuid, primary_key=True),
    sa.Column("originator_version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
)

access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.String(200), nullable=False),
    sa.Column("roles", sa.String(200), nullable=False),
    sa.Column("case_id", sa.Uuid, nullable=True),
    sa.Column("endpoint", sa.String(200), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    # The tamper-evident chain (application/access_chain.py); NULL only on rows written
    # before it, until they are chained once.
    sa.Column("lane", sa.SmallInteger, nullable=True),
    sa.Column("seq", sa.BigInteger, nullable=True),
    sa.Column("link", sa.String(64), nullable=True),
    sa.Index("ix_access_log_case", "case_id", "id"),
    sa.Index("ix_access_log_actor", "actor_id", "id"),
    sa.Index("ix_access_log_chain", "lane", "seq", unique=True),
)

access_log_heads = sa.Table(
    "access_log_heads",
    metadata,
    sa.Column("lane", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("link", sa.String(64), nullable=False),
)

data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("aggregate_id", sa.Uuid, primary_key=True),
    sa.Column("crn", sa.String(7), nullable=True),  # a case's key: the person's CRN
    sa.Column("wrapped", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("wrapped_by", sa.String(16), nullable=True),  # the master's fingerprint
    sa.Column("staff_id", sa.String(100), nullable=True),  # a member of staff's key
    sa.Index("ix_data_keys_crn", "crn"),
    sa.Index("ix_data_keys_staff_id", "staff_id"),
)

store_keys = sa.Table(  # the payload key, wrapped by a master
    "store_keys",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("wrapped_by", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

key_generation = sa.Table(  # one row: how many times keys have been destroyed
    "key_generation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
)

imported_cases = sa.Table(
    "imported_cases",
    metadata,
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
    sa.Index("ix_imported_cases_crn", "crn"),
)
