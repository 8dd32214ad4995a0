"""Alembic migrations on SQLite and PostgreSQL: up, down, up again, and no drift from the
SQLAlchemy metadata the code queries with."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from application import schema as application_schema
from application.migrate import alembic_config, downgrade, upgrade
from projections.schema import oversight_cases, oversight_facts

try:  # read-model tables, once the projections package defines them
    from projections import schema as projections_schema
except ImportError:  # pragma: no cover
    projections_schema = None  # type: ignore[assignment]

METADATA: list[sa.MetaData] = [application_schema.metadata]
if projections_schema is not None:
    METADATA.append(projections_schema.metadata)
OWN_TABLES = {name for metadata in METADATA for name in metadata.tables}


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(database_url, poolclass=sa.NullPool)
    yield eng
    eng.dispose()


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def test_upgrade_to_head_creates_the_idempotency_keys_table(
    database_url: str, engine: sa.Engine
) -> None:
    assert "idempotency_keys" not in tables(engine)

    upgrade(database_url)

    assert "idempotency_keys" in tables(engine)
    assert tables(engine) >= OWN_TABLES
    assert current_revision(engine) == head(database_url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("idempotency_keys")}
    assert columns == set(application_schema.idempotency_keys.columns.keys())
    primary_key = sa.inspect(engine).get_pk_constraint("idempotency_keys")
    assert primary_key["constrained_columns"] == ["actor_id", "key"]


def test_upgrade_is_idempotent(database_url: str, engine: sa.Engine) -> None:
    upgrade(database_url)
    upgrade(database_url)

    assert current_revision(engine) == head(database_url)


def test_downgrade_to_base_removes_everything_and_upgrade_works_again(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url)

    downgrade(database_url, "base")

    assert not OWN_TABLES & tables(engine)
    assert current_revision(engine) is None

    upgrade(database_url)

    assert tables(engine) >= OWN_TABLES
    assert current_revision(engine) == head(database_url)
    with engine.begin() as connection:  # and the table works
        connection.execute(
            application_schema.idempotency_keys.insert().values(
                actor_id="po1",
                key="k",
                request_hash="0" * 64,
                aggregate_id="0" * 32,
                version=1,
                status=201,
            )
        )
        row = connection.execute(sa.select(application_schema.idempotency_keys)).one()
    assert row.created_at is not None


def differences(engine: sa.Engine, metadata: list[sa.MetaData]) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": metadata}
        )
        found: list[Any] = compare_metadata(context, metadata)  # type: ignore[arg-type]
    return found


def test_the_migrated_database_matches_the_metadata(database_url: str, engine: sa.Engine) -> None:
    upgrade(database_url)

    assert differences(engine, METADATA) == []


def test_the_metadata_comparison_does_see_drift(database_url: str, engine: sa.Engine) -> None:
    upgrade(database_url)
    drifted = sa.MetaData()
    for metadata in METADATA:
        for table in metadata.tables.values():
            table.to_metadata(drifted)
    drifted.tables["idempotency_keys"].append_column(sa.Column("added", sa.Integer))
    sa.Table("not_migrated", drifted, sa.Column("id", sa.Integer, primary_key=True))

    found = differences(engine, [drifted])

    assert ("add_column", None, "idempotency_keys") in [d[:3] for d in found]
    assert "not_migrated" in [d[1].name for d in found if d[0] == "add_table"]


def test_the_metadata_check_includes_the_read_model_tables_when_they_exist() -> None:
    assert "idempotency_keys" in OWN_TABLES
    if projections_schema is not None:
        assert set(projections_schema.metadata.tables) <= OWN_TABLES
        assert "projection_tracking" in OWN_TABLES


def test_0007_moves_each_case_s_facts_to_their_own_table_and_back(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url, "0006")
    case_id = uuid4()
    columns = {
        "generation": 1,
        "case_id": case_id,
        "crn": "X000001",
        "pdu": "SHF",
        "team": "T1",
        "sentence_type": "licence",
        "status": "open",
        "opened_at": datetime(2025, 3, 3, tzinfo=UTC),
        "opened_on": date(2025, 3, 3),
        "start_date": date(2025, 3, 3),
        "version": 3,
        "facts": {"crn": "X000001", "version": 3},
    }
    # The table as 0005 made it: today's columns and the facts column.
    old = oversight_cases.to_metadata(sa.MetaData())
    old.append_column(sa.Column("facts", sa.JSON, nullable=False))
    with engine.begin() as conn:
        required = {c.name: _filler(c) for c in old.columns if not c.nullable}
        conn.execute(sa.insert(old), {**required, **columns})
    upgrade(database_url)
    with engine.connect() as conn:
        moved = conn.execute(sa.select(oversight_facts.c.case_id, oversight_facts.c.facts)).all()
    assert moved == [(case_id, {"crn": "X000001", "version": 3})]
    assert "facts" not in {c["name"] for c in sa.inspect(engine).get_columns("oversight_cases")}
    downgrade(database_url, "0006")
    with engine.connect() as conn:
        assert conn.execute(sa.select(old.c.facts)).scalar_one() == columns["facts"]
    assert "oversight_facts" not in tables(engine)
    upgrade(database_url)


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    if isinstance(column.type, sa.Boolean):
        return False
    if isinstance(column.type, sa.Integer):
        return 0
    return "x"


def test_0015_keys_staff_and_its_downgrade_drops_only_their_keys(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url)
    keys = application_schema.data_keys
    case_id, staff_key_id = uuid4(), uuid4()
    common = {"wrapped": b"k", "wrapped_by": "f", "created_at": datetime.now(UTC)}
    with engine.begin() as conn:
        conn.execute(sa.insert(keys), {"aggregate_id": case_id, "crn": "X000001", **common})
        conn.execute(sa.insert(keys), {"aggregate_id": staff_key_id, "staff_id": "po1", **common})

    downgrade(database_url, "0014")

    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("data_keys")}
    assert "staff_id" not in columns
    assert columns["crn"]["nullable"] is False
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT crn FROM data_keys")).scalars().all()
    assert left == ["X000001"]
    profiles = {c["name"] for c in sa.inspect(engine).get_columns("staff_profiles")}
    assert "erased" not in profiles
    upgrade(database_url)
    assert differences(engine, METADATA) == []
