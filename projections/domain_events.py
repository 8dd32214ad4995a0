"""The domain-event feed: stored case events in store order, as envelopes (the feed's GET and
the webhook relay read it the same way)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, EventStore, Mapper

from projections.envelope import envelope, published, topics


@dataclass(frozen=True)
class Published:
    position: int
    case_id: UUID
    event_type: str
    envelope: dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Published]
    position: int  # every event up to here was read (a filter may have left some out)
    head: int

    @property
    def caught_up(self) -> bool:
        return self.position >= self.head


class DomainEventFeed:
    """Reads envelopes after a position; knows each case's CRN from its opening event."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        *,
        public_url: str,
        crn_cache: int = 50_000,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.public_url = public_url
        self.events = EventStore(mapper=mapper, recorder=recorder)
        self._crns: OrderedDict[UUID, str] = OrderedDict()
        self._crn_cache = crn_cache
        self._lock = threading.Lock()

    def read(self, after: int, limit: int, event_types: list[str] | None = None) -> Page:
        """Up to ``limit`` envelopes after ``after``, of ``event_types`` (None: all). The head
        is read first: every id up to it is committed (the store's insert lock), so nothing
        below ``position`` can appear later."""
        head = self.recorder.max_notification_id() or 0
        if after >= head:
            return Page([], after, head)
        notifications = self.recorder.select_notifications(
            start=after + 1, limit=limit, stop=head, topics=topics(event_types)
        )
        position = notifications[-1].id if len(notifications) == limit else head
        items = []
        for notification in notifications:
            event = self.mapper.to_domain_event(notification)
            if not published(event):
                continue
            crn = getattr(event, "crn", None) or self.crn(event.originator_id)
            body = envelope(event, position=notification.id, crn=crn, public_url=self.public_url)
            items.append(Published(notification.id, event.originator_id, body["eventType"], body))
        return Page(items, position, head)

    def crn(self, case_id: UUID) -> str | None:
        """The case's CRN, from its opening event (cached: a CRN does not change)."""
        with self._lock:
            known = self._crns.get(case_id)
        if known is not None:
            return known
        opened = next(iter(self.events.get(case_id, lte=1)), None)
        crn = getattr(opened, "crn", None)
        if not isinstance(crn, str):
            return None
        with self._lock:
            self._crns[case_id] = crn
            while len(self._crns) > self._crn_cache:
                self._crns.popitem(last=False)
        return crn
