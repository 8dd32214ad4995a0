"""The composition root: settings in, a wired service out. Tests call it with their own."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa

from api.auth import TokenVerifier, build_verifier
from api.ratelimit import CommandRateLimit
from application.access_log import AccessLog
from application.allocation import Caseload
from application.migrate import upgrade
from application.service import CaseTrail, Clock
from application.settings import Settings
from projections.case_list import count_caseload
from projections.database import make_engine
from projections.system import ProjectionSystem


@dataclass
class Container:
    """Everything a running casetrail needs, built once per process."""

    settings: Settings
    app: CaseTrail
    verifier: TokenVerifier
    engine: sa.Engine
    projections: ProjectionSystem
    rate_limit: CommandRateLimit | None = None

    def close(self) -> None:
        self.projections.stop()
        self.app.close()
        self.engine.dispose()
        self.projections.engine.dispose()


def build(
    settings: Settings | None = None, *, migrate: bool = True, clock: Clock | None = None
) -> Container:
    settings = settings or Settings()
    verifier = build_verifier(settings)  # first: a production misconfiguration stops here
    app = CaseTrail(settings, clock=clock)
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=settings.effective_pool_size + 4)
    projections = ProjectionSystem(
        make_engine(settings.database_url, pool_size=4, upkeep=True),
        app.recorder,
        app.projection_mapper(),
        batch_size=settings.projection_batch_size,
        linger=settings.projection_linger_ms / 1000,
    )
    if migrate:
        projections.setup()
    app.listeners.append(projections.wake)
    app.access_log = AccessLog(engine)
    app.allocation.caseload = caseload_query(engine, projections)
    return Container(
        settings=settings,
        app=app,
        verifier=verifier,
        engine=engine,
        projections=projections,
        rate_limit=CommandRateLimit(settings.rate_limit) if settings.rate_limit else None,
    )


def caseload_query(engine: sa.Engine, projections: ProjectionSystem) -> Caseload:
    """The allocation guard's caseload count, from the case list read model."""

    def caseload(practitioner_id: str, leaving_out: UUID) -> int:
        with engine.connect() as conn:
            generation = projections.live("case_list")
            return count_caseload(conn, generation, practitioner_id, leaving_out)

    return caseload
