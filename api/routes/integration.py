"""Domain events out: the feed and webhook subscriptions (integration clients and admins)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from prometheus_client import Gauge

from api import integration_schemas as s
from api.deps import ActorDep, ContainerDep
from api.problems import ApiError
from api.routes.casework import PROBLEM_RESPONSES
from api.routes.read_models import Limit
from application.access import check_integration
from projections.domain_events import DomainEventFeed
from projections.envelope import EVENT_TYPES
from projections.webhook_guard import WebhookUrlError, check_url
from projections.webhooks import Subscriptions, UnknownEventTypeError, UnknownSubscriptionError

router = APIRouter(tags=["integration"])
READ: dict[int | str, dict[str, Any]] = {k: PROBLEM_RESPONSES[k] for k in (400, 401, 403, 422)}
ONE: dict[int | str, dict[str, Any]] = {**READ, 404: PROBLEM_RESPONSES[404]}
POST: dict[int | str, dict[str, Any]] = {**READ, 413: PROBLEM_RESPONSES[413]}
POST_ONE: dict[int | str, dict[str, Any]] = {**ONE, 413: PROBLEM_RESPONSES[413]}
WEBHOOK_GAUGES = {
    stat: Gauge(f"casetrail_webhook_{metric}", text, ["subscription"])
    for stat, metric, text in (
        ("lag_events", "lag_events", "Events not yet delivered (or parked) to a subscription"),
        ("lag_seconds", "lag_seconds", "Age of a subscription's oldest pending delivery"),
        ("pending", "pending", "Deliveries waiting to be sent or retried"),
        ("parked", "parked", "Deliveries parked after their last attempt"),
        ("attempts", "recorded_attempts", "Delivery attempts recorded for a subscription"),
    )
}


def record_webhook_metrics(container: ContainerDep) -> None:
    """Per subscription, from the database (the relay may run in another process)."""
    if container.subscriptions is None:  # pragma: no cover
        return
    for stats in container.subscriptions.stats(container.app.ping()):
        for name, gauge in WEBHOOK_GAUGES.items():
            gauge.labels(str(stats["id"])).set(stats[name])


def _feed(container: ContainerDep) -> DomainEventFeed:
    if container.feed is None:  # pragma: no cover - the composition root always sets it
        raise ApiError(503, "no-feed", "The domain-event feed is not configured", "")
    return container.feed


def _subscriptions(container: ContainerDep) -> Subscriptions:
    if container.subscriptions is None:  # pragma: no cover - as above
        raise ApiError(503, "no-subscriptions", "Webhooks are not configured", "")
    return container.subscriptions


def _event_types(value: str | None) -> list[str] | None:
    if not value:
        return None
    wanted = [t.strip() for t in value.split(",") if t.strip()]
    unknown = sorted(set(wanted) - set(EVENT_TYPES))
    if unknown:
        raise ApiError(422, "unknown-event-type", "Not a published event type", ", ".join(unknown))
    return wanted


def _not_found(exc: UnknownSubscriptionError) -> ApiError:
    return ApiError(404, "not-found", "No such resource (or not yours to see)", str(exc))


@router.get("/domain-events", response_model=s.DomainEventPage, responses=READ)
def list_domain_events(
    container: ContainerDep,
    actor: ActorDep,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="store position")] = 0,
    limit: Limit = 100,
    event_type: Annotated[
        str | None, Query(max_length=2000, description="HMPPS event types, comma-separated")
    ] = None,
) -> Any:
    """Stored case events as HMPPS domain events, in store order, after a position."""
    check_integration(actor)
    page = _feed(container).read(
        after, min(limit, container.settings.page_size_max), _event_types(event_type)
    )
    return {
        "items": [{"position": i.position, "event": i.envelope} for i in page.items],
        "next": None if page.caught_up else str(page.position),
    }


@router.post(
    "/subscriptions", response_model=s.SubscriptionCreated, status_code=201, responses=POST
)
def create_subscription(body: s.SubscriptionBody, container: ContainerDep, actor: ActorDep) -> Any:
    """Subscribe a URL to domain events; the answer shows the signing secret, this once."""
    check_integration(actor)
    try:
        check_url(body.url, container.settings.allowed_webhook_hosts)
        subscription, secret = _subscriptions(container).create(
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            created_by=actor.sub,
            head=container.app.ping(),
        )
    except WebhookUrlError as exc:
        raise ApiError(
            422, "webhook-url-refused", "This URL may not receive webhooks", str(exc)
        ) from None
    except UnknownEventTypeError as exc:
        raise ApiError(422, "unknown-event-type", "Not a published event type", str(exc)) from None
    container.projections.wake()
    return {**subscription.as_dict(), "secret": secret}


@router.get("/subscriptions", response_model=s.SubscriptionPage, responses=READ)
def list_subscriptions(container: ContainerDep, actor: ActorDep) -> Any:
    """Every webhook subscription (secrets are never shown again)."""
    check_integration(actor)
    items = [x.as_dict() for x in _subscriptions(container).all()]
    return {"items": items, "next": None}


@router.get("/subscriptions/{subscription_id}", response_model=s.SubscriptionDetail, responses=ONE)
def get_subscription(subscription_id: UUID, container: ContainerDep, actor: ActorDep) -> Any:
    """A subscription with its delivery figures: position, lag, pending, parked, attempts."""
    check_integration(actor)
    subscriptions = _subscriptions(container)
    try:
        subscription = subscriptions.get(subscription_id)
    except UnknownSubscriptionError as exc:
        raise _not_found(exc) from None
    stats = next(x for x in subscriptions.stats(container.app.ping()) if x["id"] == subscription.id)
    return {**stats, **subscription.as_dict()}


@router.delete("/subscriptions/{subscription_id}", response_model=s.SubscriptionView, responses=ONE)
def delete_subscription(subscription_id: UUID, container: ContainerDep, actor: ActorDep) -> Any:
    """Stop delivering to a subscription and forget it; answers it as it ends."""
    check_integration(actor)
    subscriptions = _subscriptions(container)
    try:
        subscriptions.delete(subscription_id)
        subscription = subscriptions.get(subscription_id, deleted=True)
    except UnknownSubscriptionError as exc:
        raise _not_found(exc) from None
    return subscription.as_dict()


@router.get(
    "/subscriptions/{subscription_id}/deliveries", response_model=s.DeliveryPage, responses=ONE
)
def list_deliveries(
    subscription_id: UUID,
    container: ContainerDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|parked)$")] = None,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$")] = None,
) -> Any:
    """A subscription's deliveries in store order, by status: attempts, last answer, when."""
    check_integration(actor)
    try:
        items, after = _subscriptions(container).deliveries(
            subscription_id,
            status=status,
            after=int(cursor) if cursor else None,
            limit=min(limit, container.settings.page_size_max),
        )
    except UnknownSubscriptionError as exc:
        raise _not_found(exc) from None
    return {"items": items, "next": str(after) if after is not None else None}


@router.post(
    "/subscriptions/{subscription_id}/replay",
    response_model=s.ReplayResult,
    status_code=202,
    responses=POST_ONE,
)
def replay_subscription(
    subscription_id: UUID, body: s.ReplayBody, container: ContainerDep, actor: ActorDep
) -> Any:
    """Send every event from a store position on again (each keeps its webhook-id)."""
    check_integration(actor)
    try:
        _subscriptions(container).replay(subscription_id, body.from_position)
    except UnknownSubscriptionError as exc:
        raise _not_found(exc) from None
    container.projections.wake()
    return {"id": subscription_id, "from_position": body.from_position}


@router.post(
    "/subscriptions/{subscription_id}/parked/retry",
    response_model=s.RetryResult,
    responses=POST_ONE,
)
def retry_parked_deliveries(
    subscription_id: UUID, body: s.RetryBody, container: ContainerDep, actor: ActorDep
) -> Any:
    """Try the parked deliveries of a subscription again, with a fresh count of attempts."""
    check_integration(actor)
    try:
        retried = _subscriptions(container).retry_parked(subscription_id)
    except UnknownSubscriptionError as exc:
        raise _not_found(exc) from None
    container.projections.wake()
    return {"id": subscription_id, "retried": retried}
