"""Checking the tamper-evident chain: one case, or the whole store with progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from application.integrity import ChainVerifier, Integrity, StoredRow, verify

Progress = Callable[[int, int], None]


class ChainedRecorder(Protocol):
    chain_key: bytes

    def select_links(self, originator_ids: Sequence[UUID]) -> dict[tuple[UUID, int], str]: ...
    def select_last_links(self) -> dict[UUID, int]: ...


def verify_aggregate(
    recorder: ApplicationRecorder, originator_id: UUID, known_version: int | None = None
) -> Integrity:
    """Check one aggregate's stored events against their chain, from the raw stored bytes."""
    chained = cast(ChainedRecorder, recorder)
    rows = [
        StoredRow(e.originator_version, e.topic, e.state)
        for e in recorder.select_events(originator_id)
    ]
    links = {v: h for (_, v), h in chained.select_links([originator_id]).items()}
    return verify(chained.chain_key, originator_id, rows, links, known_version)


def verify_store(
    recorder: ApplicationRecorder, *, batch: int = 2000, progress: Progress | None = None
) -> dict[UUID, Integrity]:
    """Check every aggregate, streaming the notification log once. The broken ones, by id."""
    chained = cast(ChainedRecorder, recorder)
    head = recorder.max_notification_id() or 0
    verifiers: dict[UUID, ChainVerifier] = {}
    position = 0
    while position < head:
        notes = recorder.select_notifications(start=position + 1, limit=batch, stop=head)
        if not notes:
            break
        ids = sorted({cast(UUID, n.originator_id) for n in notes}, key=str)
        links = chained.select_links(ids)
        for n in notes:
            originator_id = cast(UUID, n.originator_id)
            verifier = verifiers.setdefault(
                originator_id, ChainVerifier(chained.chain_key, originator_id)
            )
            verifier.feed(
                StoredRow(n.originator_version, n.topic, n.state),
                links.get((originator_id, n.originator_version)),
            )
        position = notes[-1].id
        if progress is not None:
            progress(position, head)
    last = chained.select_last_links()
    broken: dict[UUID, Integrity] = {}
    for originator_id, verifier in verifiers.items():
        result = verifier.finish([last.get(originator_id, 0)])
        if not result.ok:
            broken[originator_id] = result
    for originator_id in set(last) - set(verifiers):
        broken[originator_id] = Integrity(False, 1, 0, "every stored event is missing")
    return broken
