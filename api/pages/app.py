"""Mount the pages on the API: routers, vendored assets, and errors answered as HTML pages."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.pages import casework, oversight, session
from api.pages.rendering import STATIC, page, see_other
from api.pages.session import SIGN_IN, SignInRequiredError
from api.problems import ApiError
from application.errors import ApplicationError
from domain.errors import DomainError

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
TITLES = {
    403: "You cannot see this page",
    404: "Page not found",
    400: "There is a problem with the request",
    422: "Page not found",
}


def install(app: FastAPI) -> None:
    """Serve /ui/ pages and /ui/assets; errors under /ui/ become GOV.UK error pages."""
    for module in (session, oversight, casework):
        app.include_router(module.router)
    app.mount("/ui/assets", StaticFiles(directory=STATIC, check_dir=False), name="ui-assets")

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        return see_other(SIGN_IN)

    app.exception_handlers[SignInRequiredError] = sign_in_first
    for error in (ApplicationError, ApiError, DomainError, RequestValidationError):
        app.exception_handlers[error] = _as_page(app.exception_handlers[error])
    app.exception_handlers[StarletteHTTPException] = _as_page(
        app.exception_handlers[StarletteHTTPException]
    )


def _as_page(problem: Handler) -> Handler:
    """The API's problem handler, answered as an HTML page under /ui/ (same status)."""

    async def handle(request: Request, exc: Any) -> Response:
        answer = problem(request, exc)
        if inspect.isawaitable(answer):
            answer = await answer
        if not request.url.path.startswith("/ui/"):
            return answer
        status = 404 if answer.status_code == 422 else answer.status_code
        title = TITLES.get(status, "Sorry, there is a problem with the service")
        actor = getattr(request.state, "actor", None)
        values: dict[str, Any] = {
            "title": title,
            "status": status,
            "actor": actor,
            "navigation": [],
        }
        if actor is not None:
            values["navigation"] = oversight.navigation(actor)
        return page(request, "error.html", values, status=status)

    return handle
