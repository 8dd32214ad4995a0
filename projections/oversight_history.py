"""The oversight queue through time: every item a case ever had, and the queue as known at T.

Both replay a case's event records in the order they were recorded, through the same facts
(projections/oversight_facts) and the same clocks (``open_clocks``) as the live queue. After
each record the case's open clocks are compared with those before it: a clock that appears
opens an item, one that goes (or starts at another instant) closes it. A correction refolds
the case, as the projection does, so an item it removes or moves is closed by the correction.
Deadlines are worked out with the thresholds in force now.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.records import Record, apply_corrections
from projections.base import Generation
from projections.business_days import add_business_days, end_of_day, local_date
from projections.oversight import queue_order
from projections.oversight_facts import Facts, apply, fold, new_facts
from projections.oversight_rules import RULES, Thresholds, at_, open_clocks
from projections.oversight_training import RULE as UNTRAINED
from projections.oversight_training import Training, gap_closed
from projections.schema import audit_events, oversight_cases

SECONDS_PER_DAY = Decimal(86400)


@dataclass
class OversightEpisode:
    """One item of a case's queue, from the record that opened it to the one that closed it."""

    rule: str
    reason: str
    since: datetime
    due_at: datetime
    opened_by_version: int
    opened_recorded_at: datetime
    closed_by_version: int | None = None
    closed_at: datetime | None = None  # when the closing event occurred (may be backdated)
    closed_recorded_at: datetime | None = None
    closing_corrected_by: int | None = None  # a later correction moved when it occurred
    overdue_days: Decimal = Decimal(0)

    @property
    def open(self) -> bool:
        return self.closed_by_version is None

    def close(self, record: Record) -> None:
        self.closed_by_version = record["version"]
        self.closed_at = record["occurred_at"]
        self.closed_recorded_at = record["recorded_at"]

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "open": self.open}


def _days(delta: timedelta) -> Decimal:
    seconds = Decimal(str(max(delta, timedelta(0)).total_seconds()))
    return (seconds / SECONDS_PER_DAY).quantize(Decimal("0.001"))


def case_facts_by_version(records: list[Record]) -> Iterable[tuple[Record, Facts]]:
    """Each record (in version order) with the case's facts just after it was recorded."""
    facts = new_facts()
    seen: list[Record] = []
    for record in sorted(records, key=lambda r: r["version"]):
        seen.append(record)
        if record["type"] == "Corrected":
            facts = fold(apply_corrections(seen)[0])
            facts["version"] = record["version"]
        else:
            apply(facts, record)
        yield record, facts


def oversight_history(
    records: list[Record], thresholds: Thresholds, *, now: datetime
) -> list[OversightEpisode]:
    """Every oversight item the case ever had, in the order they opened.

    ``overdue_days`` is how long past its deadline an item stayed open: to the moment its
    closing event occurred (as corrected since, if it was), or to ``now`` while it is open
    (0 if it closed in time).
    """
    return overdue_at(episodes_of(records, thresholds), now)


def overdue_at(episodes: list[OversightEpisode], now: datetime) -> list[OversightEpisode]:
    """Copies of the episodes with ``overdue_days`` worked out at ``now``."""
    found = []
    for episode in episodes:
        end = now if episode.closed_at is None else episode.closed_at
        found.append(replace(episode, overdue_days=_days(end - episode.due_at)))
    return found


def episodes_of(records: list[Record], thresholds: Thresholds) -> list[OversightEpisode]:
    """The case's items from its records, as ``oversight_history`` but for ``overdue_days``
    (which depends on now): a case's version always gives the same."""
    episodes: list[OversightEpisode] = []
    current: dict[str, OversightEpisode] = {}
    for record, facts in case_facts_by_version(records):
        clocks = {rule: at_(since) for rule, since in open_clocks(facts).items()}
        for rule, episode in list(current.items()):
            if clocks.get(rule) != episode.since:
                episode.close(record)
                del current[rule]
        for rule, since in clocks.items():
            if rule in current or rule not in RULES:
                continue
            episode = OversightEpisode(
                rule=rule,
                reason=RULES[rule].reason,
                since=since,
                due_at=RULES[rule].due_at(since, thresholds),
                opened_by_version=record["version"],
                opened_recorded_at=record["recorded_at"],
            )
            current[rule] = episode
            episodes.append(episode)
    _as_corrected(episodes, records)
    return episodes


class HistoryCache:
    """Recently read cases' items by (case id, version, thresholds), without ``overdue_days``:
    a reviewer reading a long case again pays for its new events' version only. Items hold
    no personal data (rules, versions and times), so an erasure leaves them as they are."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._found: OrderedDict[tuple[UUID, int, str], list[OversightEpisode]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[UUID, int, str]) -> list[OversightEpisode] | None:
        with self._lock:
            found = self._found.get(key)
            if found is not None:
                self._found.move_to_end(key)
            return found

    def put(self, key: tuple[UUID, int, str], episodes: list[OversightEpisode]) -> None:
        with self._lock:
            self._found[key] = episodes
            self._found.move_to_end(key)
            while len(self._found) > self.size:
                self._found.popitem(last=False)


def _as_corrected(episodes: list[OversightEpisode], records: list[Record]) -> None:
    """A closing event whose time a later correction changed: ``closed_at`` is when it
    occurred as known now, and the correction is named; the recording facts stay."""
    merged, corrected_by = apply_corrections(sorted(records, key=lambda r: r["version"]))
    occurred = {record["version"]: record["occurred_at"] for record in merged}
    for episode in episodes:
        version = episode.closed_by_version
        if version in corrected_by and occurred[version] != episode.closed_at:
            episode.closed_at = occurred[version]
            episode.closing_corrected_by = corrected_by[version]


def facts_as_known_at(records: list[Record], moment: datetime) -> Facts | None:
    """The case's facts from the records recorded by ``moment`` (None: not yet opened)."""
    known = [r for r in records if r["recorded_at"] <= moment]
    if not known:
        return None
    facts = fold(apply_corrections(known)[0])
    facts["version"] = max(r["version"] for r in known)
    return facts


def queue_as_known_at(
    cases: dict[UUID, list[Record]],
    thresholds: Thresholds,
    *,
    team: str,
    moment: datetime,
    practitioner_id: str | None = None,
    training: Training | None = None,
) -> list[dict[str, Any]]:
    """The team's queue as it stood at ``moment``: items due within ``due_soon_days``
    business days of it or overdue then, most overdue first, one per case and reason.

    ``training`` (staff id -> training records) closes a training gap by training completed
    by ``moment``'s date (projections/oversight_training)."""
    horizon = end_of_day(add_business_days(local_date(moment), thresholds.due_soon_days))
    earliest: dict[tuple[UUID, str], dict[str, Any]] = {}
    for case_id, records in cases.items():
        facts = facts_as_known_at(records, moment)
        if facts is None or facts["team"] != team:
            continue
        if practitioner_id is not None and facts["practitioner_id"] != practitioner_id:
            continue
        for rule_name, since_text in open_clocks(facts).items():
            rule = RULES[rule_name]
            since = at_(since_text)
            due_at = rule.due_at(since, thresholds)
            key = (case_id, rule.reason)
            if due_at > horizon or (key in earliest and earliest[key]["due_at"] <= due_at):
                continue
            if rule_name == UNTRAINED and gap_closed(
                training or {},
                facts["practitioner_id"],
                facts["untrained"]["modules"],
                local_date(moment),
            ):
                continue
            earliest[key] = {
                "case_id": case_id,
                "crn": facts["crn"],
                "practitioner_id": facts["practitioner_id"],
                "reason": rule.reason,
                "since": since,
                "due_at": due_at,
                "overdue": moment >= due_at,
            }
    return sorted(earliest.values(), key=queue_order)


def team_candidates(
    conn: sa.Connection, oversight: Generation, audit: Generation, team: str
) -> list[UUID]:
    """The cases that may have been in ``team`` at some time: those in it now, and every case
    ever transferred (a transfer is rare; the replay decides where each case then stood)."""
    now_in_team = sa.select(oversight_cases.c.case_id).where(
        oversight_cases.c.generation == oversight, oversight_cases.c.team == team
    )
    transferred = sa.select(audit_events.c.aggregate_id).where(
        audit_events.c.generation == audit, audit_events.c.type == "Transferred"
    )
    found = conn.execute(sa.union(now_in_team, transferred)).scalars()
    return sorted(set(found), key=str)
