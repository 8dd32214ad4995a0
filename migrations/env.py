"""Alembic environment: the URL comes from casetrail's Settings via the Config object."""

from alembic import context
from sqlalchemy import create_engine, pool

from application.schema import metadata as application_metadata

config = context.config
target_metadata = [application_metadata]
try:  # read-model tables, once the projections package defines them
    from projections.schema import metadata as projections_metadata

    target_metadata.append(projections_metadata)
except ImportError:  # pragma: no cover
    pass


OURS = {name for metadata in target_metadata for name in metadata.tables}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate compares our tables only: the event store's tables are the library's."""
    if type_ == "table" and reflected and compare_to is None:
        return name in OURS
    return True


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
