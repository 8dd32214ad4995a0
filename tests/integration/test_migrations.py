"""Alembic migrations on SQLite and PostgreSQL: up, down, up again, and no drift from the
SQLAlchemy metadata the code queries with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from application import schema as application_schema
from application.migrate import alembic_config, downgrade, upgrade

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
