"""Request and response models of the domain-event feed and webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictStr


class Identifier(BaseModel):
    type: Literal["CRN"]
    value: str


class PersonReference(BaseModel):
    identifiers: list[Identifier]


class Envelope(BaseModel):
    """An HMPPS domain event: codes, ids, dates and versions only."""

    eventType: str  # noqa: N815 - the HMPPS envelope's own names
    version: int
    occurredAt: str  # noqa: N815
    description: str
    detailUrl: str  # noqa: N815
    personReference: PersonReference  # noqa: N815
    additionalInformation: dict[str, Any]  # noqa: N815


class DomainEventItem(BaseModel):
    position: int
    event: Envelope


class DomainEventPage(BaseModel):
    items: list[DomainEventItem]
    next: str | None = Field(description="pass as after for the next page; null when caught up")


class SubscriptionBody(BaseModel):
    model_config = {"extra": "forbid"}

    url: StrictStr = Field(min_length=8, max_length=2000, examples=["https://hooks.example/ct"])
    event_types: list[StrictStr] = Field(
        default_factory=list, max_length=50, description="HMPPS event types; empty: all"
    )
    description: StrictStr = Field(default="", max_length=500)


class SubscriptionView(BaseModel):
    id: UUID
    url: str
    event_types: list[str]
    description: str
    status: Literal["active", "disabled", "deleted"]
    status_reason: str | None
    created_by: str
    created_at: datetime


class SubscriptionCreated(SubscriptionView):
    secret: str = Field(description="whsec_…: shown only in this answer; verify signatures with it")


class SubscriptionDetail(SubscriptionView):
    position: int = Field(description="the last store position queued for delivery")
    lag_events: int
    lag_seconds: float
    pending: int
    parked: int
    delivered: int
    attempts: int


class SubscriptionPage(BaseModel):
    items: list[SubscriptionView]
    next: str | None


class DeliveryView(BaseModel):
    position: int
    case_id: UUID
    event_type: str
    webhook_id: str
    status: Literal["pending", "delivered", "parked"]
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    response_prefix: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next: str | None


class ReplayBody(BaseModel):
    model_config = {"extra": "forbid"}

    from_position: int = Field(ge=1, le=2**63 - 1)


class ReplayResult(BaseModel):
    id: UUID
    from_position: int


class RetryBody(BaseModel):
    """Nothing to say: every parked delivery of the subscription is tried again."""

    model_config = {"extra": "forbid"}


class RetryResult(BaseModel):
    id: UUID
    retried: int
