"""The FastAPI application: routers, error handlers, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import problems
from api.bootstrap import Container, build
from api.observability import RequestContextMiddleware
from api.operation_ids import operation_id
from api.pages.app import install as install_pages
from api.routes import (
    audit,
    cases,
    casework,
    equality,
    integration,
    ops,
    oversight,
    people,
    read_models,
    staff,
    time_views,
)
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
        if container.settings.projections == "embedded":
            container.projections.start()
        try:
            yield
        finally:
            container.projections.stop()

    app = FastAPI(
        title="casetrail",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.container = container
    problems.install(app)
    for module in (
        casework,
        cases,
        audit,
        read_models,
        oversight,
        time_views,
        staff,
        people,
        ops,
        integration,
        equality,
    ):
        app.include_router(module.router)
    install_pages(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=container.settings.max_body_bytes)
    app.openapi = lambda: problem_openapi(app)  # type: ignore[method-assign]
    return app


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def from_environment() -> FastAPI:
    """The app of one API worker process, built from CASETRAIL_* (`casetrail serve`)."""
    from api.observability import setup_logging
    from application.settings import Settings

    settings = Settings()
    setup_logging(settings)
    return create_app(settings)


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error response described as the problem+json that
    the API really sends (FastAPI's default 422 says application/json)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
        for status, response in operation.get("responses", {}).items():
            described = str(response.get("content", {}))
            generic = "schema" not in described or "HTTPValidationError" in described
            if status.startswith(("4", "5")) and generic:
                response["content"] = problem
    app.openapi_schema = schema
    return schema
