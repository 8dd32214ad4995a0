"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import schemas as s
from api.deps import ServiceDep

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=s.Health)
def health() -> Any:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", response_model=s.Ready, responses={503: {"model": s.Ready}})
def ready(service: ServiceDep) -> Any:
    """Readiness: the event store answers (and, later, projection lag)."""
    try:
        position = service.ping()
    except Exception as exc:
        body = {"status": "degraded", "store": {"ok": False, "error": type(exc).__name__}}
        return JSONResponse(body, status_code=503)
    return {"status": "ready", "store": {"ok": True, "position": position}}
