"""The FastAPI application: routers, error handlers, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import problems
from api.bootstrap import Container, build
from api.observability import RequestContextMiddleware
from api.routes import audit, cases, casework, ops, oversight, people, read_models, staff
from application.settings import Settings

DESCRIPTION = """Event-sourced case supervision for the Probation Service.

Every supervision action is an immutable event on a case. Commands answer
`{case_id, version, position}`; errors are RFC 9457 `application/problem+json`.
"""


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """Build the API around a container (built from settings if not given)."""
    container = container or build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Command endpoints are sync (the library is): size the threadpool as configured.
        anyio.to_thread.current_default_thread_limiter().total_tokens = (
            container.settings.threadpool_size
        )
        if container.settings.embedded_projections:
            container.projections.start()
        try:
            yield
        finally:
            container.projections.stop()

    app = FastAPI(title="casetrail", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.container = container
    problems.install(app)
    for module in (casework, cases, audit, read_models, oversight, staff, people, ops):
        app.include_router(module.router)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=container.settings.max_body_bytes)
    return app
