"""Sign-in with a bearer token into an HttpOnly session cookie; pages without one go to sign-in.

The cookie holds the signed token itself, so a session is exactly as valid as its token: it
expires with it, and nothing is kept on the server. docs/security.md says how an identity
provider replaces the token form in production.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import AuthenticationError
from api.deps import ContainerDep
from api.pages.rendering import SESSION_COOKIE, page, see_other
from application.access import Actor

router = APIRouter(prefix="/ui", include_in_schema=False)
SIGN_IN = "/ui/sign-in"
MAX_TOKEN = 8192


class SignInRequiredError(Exception):
    """A page was asked for without a valid session: answered 303 to sign-in."""


async def page_actor(request: Request, container: ContainerDep) -> Actor:
    """The signed-in user of a page, from the session cookie's token."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN:
        raise SignInRequiredError
    try:
        actor = container.verifier.verify(token)
    except AuthenticationError:
        raise SignInRequiredError from None
    request.state.actor = actor
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request) -> HTMLResponse:
    """The sign-in form: paste the token `casetrail token` printed."""
    return page(request, "sign_in.html", {"error": None})


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    container: ContainerDep,
    token: Annotated[str, Form(max_length=MAX_TOKEN)] = "",
) -> Any:
    """Check the token, then keep it in a session cookie that expires with it."""
    token = token.strip()
    try:
        container.verifier.verify(token)
        expires = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    except (AuthenticationError, jwt.PyJWTError, KeyError, TypeError, ValueError):
        error = "Enter a valid token" if token else "Enter your token"
        return page(request, "sign_in.html", {"error": error}, status=400)
    response = see_other("/ui/")
    set_session(response, request, token, expires)
    return response


def set_session(response: RedirectResponse, request: Request, token: str, expires: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(expires - int(time.time()), 0),
        expires=datetime.fromtimestamp(expires, UTC),
        path="/ui",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


@router.post("/sign-out")
async def sign_out(request: Request) -> RedirectResponse:
    """End the session."""
    response = see_other(SIGN_IN)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/ui",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response
