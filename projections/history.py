"""Replaying one case from the store, for projections that meet a correction."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import EventStore

from domain.case import Case, to_record
from domain.state import CaseState


class CaseHistory:
    """Folds a case's events up to a version: a correction can touch any earlier fact."""

    def __init__(self, event_store: EventStore[Any]) -> None:
        self.event_store = event_store

    def state(self, case_id: UUID, version: int) -> CaseState:
        events = self.event_store.get(case_id, lte=version)
        return CaseState.fold(to_record(cast(Case.Event, e)) for e in events)
