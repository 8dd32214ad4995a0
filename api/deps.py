"""Dependency aliases shared by the routers.

The dependencies are ``async def`` although nothing in them awaits: they are quick and never
block, and FastAPI runs a plain ``def`` dependency in the thread pool, a hand-off per
dependency per request that cost more than the command it served."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.auth import AuthenticationError
from api.bootstrap import Container
from api.problems import ApiError
from application.access import Actor
from application.access_log import Reading
from application.service import CaseTrail, IdempotencyKey

_bearer = HTTPBearer(auto_error=False, description="JWT signed by the identity provider")
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_service(container: ContainerDep) -> CaseTrail:
    return container.app


ServiceDep = Annotated[CaseTrail, Depends(get_service)]


async def get_actor(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "Sign in",
            "send Authorization: Bearer <JWT>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        actor = container.verifier.verify(credentials.credentials)
    except AuthenticationError as exc:
        raise ApiError(
            401,
            "unauthorized",
            "The token is not valid",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_commander(container: ContainerDep, actor: ActorDep) -> Actor:
    """The actor of a command, counted against the per-user command rate limit."""
    if container.rate_limit is not None:
        container.rate_limit.check(actor.sub)
    return actor


CommanderDep = Annotated[Actor, Depends(get_commander)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='"<version>"')]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="retry-safe key for the command"),
]


def expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise ApiError(
            400,
            "bad-if-match",
            "If-Match is not a version",
            'send If-Match: "<version>" as given by ETag',
        )
    return int(match.group(1))


def idempotency(request: Request, key: str | None, body: BaseModel | None) -> IdempotencyKey | None:
    """The key with a hash of what it was first used for (method, path, validated body)."""
    if key is None:
        return None
    if not key.strip():
        raise ApiError(
            400, "bad-idempotency-key", "Idempotency-Key is empty", "send a non-empty key"
        )
    canonical = json.dumps(
        body.model_dump(mode="json") if body is not None else None, sort_keys=True
    )
    digest = hashlib.sha256(f"{request.method} {request.url.path} {canonical}".encode())
    return IdempotencyKey(key=key, request_hash=digest.hexdigest())


async def get_reading(request: Request) -> Reading:
    """What the access log records of this read: the route template and request id."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    return Reading(
        endpoint=f"{request.method} {route}", request_id=getattr(request.state, "request_id", "-")
    )


ReadingDep = Annotated[Reading, Depends(get_reading)]
