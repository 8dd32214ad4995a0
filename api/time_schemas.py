"""Response models of the time views: a case's oversight history and trends by month."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas import OversightReason


class OversightHistoryItem(BaseModel):
    rule: str = Field(description="the clock behind the reason (oversight_required has two)")
    reason: OversightReason
    since: datetime = Field(description="when the clock started (the event it follows)")
    due_at: datetime = Field(description="the deadline, by the thresholds in force now")
    opened_by_version: int = Field(description="the case version whose recording opened it")
    opened_recorded_at: datetime
    closed_by_version: int | None = Field(description="the version whose recording closed it")
    closed_at: datetime | None = Field(description="when the closing event occurred")
    closed_recorded_at: datetime | None = Field(description="when the closing event was recorded")
    closing_corrected_by: int | None = Field(
        description="the correction that since moved when the closing event occurred"
    )
    overdue_days: Decimal = Field(
        description="days past due it stayed open: to closed_at, or to now while open"
    )
    open: bool


class OversightHistoryView(BaseModel):
    case_id: UUID
    crn: str
    version: int
    as_of: datetime = Field(description="the server time open items' overdue_days run to")
    items: list[OversightHistoryItem]


class TrendItem(BaseModel):
    month: str = Field(description="YYYY-MM; the figure as at the month's last moment")
    numerator: int
    denominator: int
    rate: float | None = Field(description="a percent; null when the denominator is 0")


class TrendView(BaseModel):
    measure: str
    definition: str
    items: list[TrendItem]
