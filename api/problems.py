"""RFC 9457 problem+json: every error the API answers, and the handlers that make them."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import OperationalError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.errors import ApplicationError
from application.keys import KeyUnavailableError
from domain.errors import DomainError
from projections.coordination import is_disconnect

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://casetrail.dev/problems/"


class ApiError(Exception):
    """An error raised by the API layer itself (bad header, bad query combination...)."""

    def __init__(
        self, status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers = headers or {}


def problem(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers: one per error family, nothing leaks a stack trace."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        extensions: dict[str, Any] = exc.extensions
        return problem(request, exc.status, exc.code, exc.title, exc.detail, **extensions)

    @app.exception_handler(ApplicationError)
    async def application_error(request: Request, exc: ApplicationError) -> JSONResponse:
        return problem(request, exc.status, exc.code, exc.title, exc.detail)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(request, exc.status, exc.code, exc.title, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            message = next(e.get("msg", "") for e in errors if e.get("type") == "json_invalid")
            return problem(
                request,
                400,
                "malformed-json",
                "The body is not valid JSON",
                str(message),
                errors=[{"field": "body", "message": str(message)}],
            )
        listed = [
            {"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in errors
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in listed[:5])
        return problem(
            request, 422, "validation", "The request is not valid", detail, errors=listed
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # FastAPI's own fallback for bodies json cannot take (huge numbers, deep nesting).
            return problem(
                request,
                400,
                "malformed-json",
                "The body is not valid JSON",
                "the body could not be parsed as JSON",
                errors=[{"field": "body", "message": str(exc.detail)}],
            )
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not-found",
            405: "method-not-allowed",
            413: "payload-too-large",
            415: "unsupported-media-type",
        }.get(exc.status_code, "http-error")
        return problem(
            request,
            exc.status_code,
            code,
            str(exc.detail),
            str(exc.detail),
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return problem(request, 422, "out-of-range", "A number is out of range", str(exc))

    @app.exception_handler(OperationalError)
    async def store_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        logger.warning("event store unavailable: %s", exc)
        return problem(
            request,
            503,
            "store-unavailable",
            "The event store is not answering",
            "try again shortly",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(PersistenceError)
    async def store_error(request: Request, exc: PersistenceError) -> JSONResponse:
        logger.error("event store error: %s", exc)
        return problem(
            request,
            503,
            "store-error",
            "The event store refused the operation",
            "nothing was recorded; try again",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(KeyUnavailableError)
    async def key_unavailable(request: Request, exc: KeyUnavailableError) -> JSONResponse:
        # A rotation reached the store before this process was given the new master: an
        # operator's fix (docs/operations.md, "Key rotation"), not the caller's fault.
        logger.error("encryption key unavailable: %s", exc)
        return problem(
            request,
            503,
            "key-unavailable",
            "This server cannot open the data's keys",
            "its encryption keys lag a key rotation; nothing was recorded; try again later",
            headers={"Retry-After": "30"},
        )

    @app.exception_handler(sa.exc.DBAPIError)
    async def database_unavailable(request: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        # Reads and the access log go through SQLAlchemy: a lost database is a 503 there too.
        if not is_disconnect(exc):
            return await unexpected(request, exc)
        logger.warning("database unavailable: %s", exc)
        return problem(
            request,
            503,
            "database-unavailable",
            "The database is not answering",
            "try again shortly",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        return problem(
            request, 500, "internal", "Internal error", "the error was logged with this request id"
        )
