"""Liveness, readiness (store and projections) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from api import schemas as s
from api.deps import ContainerDep
from api.routes.integration import record_webhook_metrics

router = APIRouter(tags=["operations"])
LAG = Gauge("casetrail_projection_lag_events", "Events not yet applied", ["projection"])
LAG_SECONDS = Gauge("casetrail_projection_lag_seconds", "Seconds since caught up", ["projection"])


@router.get("/health", response_model=s.Health)
def get_health() -> Any:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", response_model=s.Ready, responses={503: {"model": s.Ready}})
def get_readiness(container: ContainerDep) -> Any:
    """Readiness: the store answers; each projection's position, lag and state."""
    try:
        position = container.app.ping()
        statuses = container.projections.status()
    except Exception as exc:
        body = {"status": "degraded", "store": {"ok": False, "error": type(exc).__name__}}
        return JSONResponse(body, status_code=503)
    projections = {}
    for status in statuses:
        LAG.labels(status.projection).set(status.lag_events)
        LAG_SECONDS.labels(status.projection).set(status.lag_seconds)
        projections[status.projection] = status.as_dict()
    failed = any(status.status == "failed" for status in statuses)
    return {
        "status": "degraded" if failed else "ready",
        "store": {"ok": True, "position": position},
        "projections": projections,
    }


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format",
        }
    },
)
def get_metrics(container: ContainerDep) -> Response:
    """Prometheus metrics: HTTP requests and latency, projection and webhook lag, throughput."""
    for status in container.projections.status():
        LAG.labels(status.projection).set(status.lag_events)
        LAG_SECONDS.labels(status.projection).set(status.lag_seconds)
    record_webhook_metrics(container)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
