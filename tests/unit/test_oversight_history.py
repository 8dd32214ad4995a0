"""A case's oversight history and the queue as known at a time, from hand-built records.

Records are written directly (version, type, when it occurred, when it was recorded), so each
test says exactly what the service learned and when. January 2026: Monday 5 is day one, and
London is on GMT, so a day's deadline ends at 00:00 UTC the next day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.settings import OversightSettings
from domain.records import Record
from projections.oversight_history import OversightEpisode, oversight_history, queue_as_known_at

THRESHOLDS = OversightSettings()
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def jan(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


class Records:
    """A case told as records; each gets the next version."""

    def __init__(self, team: str = "T1") -> None:
        self.items: list[Record] = []
        self.add("Opened", jan(5), jan(5), **_opened(team))

    def add(self, kind: str, occurred: datetime, recorded: datetime, /, **data: Any) -> int:
        version = len(self.items) + 1
        self.items.append(
            {
                "version": version,
                "type": kind,
                "occurred_at": occurred,
                "recorded_at": recorded,
                "data": data,
            }
        )
        return version


def _opened(team: str) -> dict[str, Any]:
    return {
        "crn": "X100001",
        "pdu": "SHF",
        "team": team,
        "sentence_type": "community_order",
        "start_date": "2026-01-05",
        "offence_flags": [],
        "requirements": {},
    }


def by_reason(episodes: list[OversightEpisode]) -> dict[str, list[OversightEpisode]]:
    found: dict[str, list[OversightEpisode]] = {}
    for episode in episodes:
        found.setdefault(episode.reason, []).append(episode)
    return found


def test_a_late_induction_closes_its_item_overdue_and_opens_the_plan_item() -> None:
    case = Records()
    inducted = case.add("InductionCompleted", jan(14), jan(14))

    history = by_reason(oversight_history(case.items, THRESHOLDS, now=NOW))

    [induction] = history["induction_overdue"]
    assert induction.opened_by_version == 1
    assert induction.due_at == datetime(2026, 1, 13, tzinfo=UTC)  # end of Monday 12 January
    assert (induction.closed_by_version, induction.closed_at) == (inducted, jan(14))
    assert induction.overdue_days == Decimal("1.375")  # 14 Jan 09:00 less 13 Jan 00:00
    assert not induction.open
    [plan] = history["sentence_plan_overdue"]
    assert (plan.open, plan.since, plan.opened_by_version) == (True, jan(14), inducted)
    assert plan.overdue_days == Decimal(str(round((NOW - plan.due_at).total_seconds() / 86400, 3)))


def test_a_backdated_induction_shows_when_it_happened_and_when_it_was_recorded() -> None:
    case = Records()
    inducted = case.add("InductionCompleted", jan(8), jan(20))

    history = by_reason(oversight_history(case.items, THRESHOLDS, now=NOW))

    [induction] = history["induction_overdue"]
    assert induction.closed_at == jan(8)
    assert induction.closed_recorded_at == jan(20)
    assert induction.overdue_days == 0  # the work was done in time, only recorded late
    [plan] = history["sentence_plan_overdue"]
    assert (plan.since, plan.opened_recorded_at, plan.opened_by_version) == (
        jan(8),
        jan(20),
        inducted,
    )


def test_a_correction_closes_the_item_it_moves_and_opens_it_again_from_the_new_start() -> None:
    case = Records()
    inducted = case.add("InductionCompleted", jan(8), jan(8))
    corrected = case.add(
        "Corrected",
        jan(16),
        jan(16),
        corrects_version=inducted,
        reason="wrong date",
        replacement={"occurred_at": jan(15)},
    )

    history = by_reason(oversight_history(case.items, THRESHOLDS, now=NOW))

    first, second = history["sentence_plan_overdue"]
    assert (first.since, first.closed_by_version, first.open) == (jan(8), corrected, False)
    assert (second.since, second.opened_by_version, second.open) == (jan(15), corrected, True)
    # The induction really happened on the 15th: its item closed late, as known now.
    [induction] = history["induction_overdue"]
    assert induction.closed_by_version == inducted
    assert induction.closed_recorded_at == jan(8)
    assert (induction.closed_at, induction.closing_corrected_by) == (jan(15), corrected)
    assert induction.overdue_days > 2


def test_the_next_failure_takes_the_place_of_an_answered_one() -> None:
    case = Records()
    case.add("InductionCompleted", jan(6), jan(6))
    for appointment_id, day in (("a1", 7), ("a2", 8)):
        case.add(
            "AppointmentScheduled",
            jan(day),
            jan(day),
            appointment_id=appointment_id,
            type="COAP",
            national_standard=True,
            starts_at=jan(day, 10),
        )
        case.add(
            "AppointmentOutcomeRecorded",
            jan(day, 11),
            jan(day, 11),
            appointment_id=appointment_id,
            outcome="UAAB",
        )
    cited = case.add(
        "EnforcementActionTaken", jan(9), jan(9), appointment_ids=["a1"], action="EA02"
    )

    history = by_reason(oversight_history(case.items, THRESHOLDS, now=NOW))

    first, second = history["enforcement_decision_overdue"]
    assert (first.since, first.closed_by_version) == (jan(7, 11), cited)
    assert (second.since, second.opened_by_version, second.open) == (jan(8, 11), cited, True)


def test_the_queue_as_known_at_a_time_reads_only_what_was_recorded_by_then() -> None:
    late, on_time = Records(), Records()
    late.add("InductionCompleted", jan(8), jan(20))  # backdated: recorded on the 20th
    on_time.add("InductionCompleted", jan(8), jan(8))
    moved = Records()
    moved.add("Transferred", jan(9), jan(9), team="T2", pdu="SHF")
    cases: dict[UUID, list[Record]] = {uuid4(): r.items for r in (late, on_time, moved)}
    [late_id, on_time_id, moved_id] = cases

    def reasons(moment: datetime, team: str = "T1") -> set[tuple[UUID, str, bool]]:
        items = queue_as_known_at(cases, THRESHOLDS, team=team, moment=moment)
        return {(i["case_id"], i["reason"], i["overdue"]) for i in items}

    # On the 8th, T1 held all three cases and none was known to be inducted but one.
    assert reasons(jan(8, 12)) == {
        (late_id, "induction_overdue", False),
        (moved_id, "induction_overdue", False),
    }
    # On the 14th the late one was overdue (its induction not yet recorded); the moved one
    # is T2's.
    assert reasons(jan(14)) == {(late_id, "induction_overdue", True)}
    assert reasons(jan(14), team="T2") == {(moved_id, "induction_overdue", True)}
    # By the 21st the backdated induction is known.
    assert (late_id, "induction_overdue", True) not in reasons(jan(21))
    # Before a case was opened it is in no queue.
    assert reasons(datetime(2026, 1, 1, tzinfo=UTC)) == set()
    assert on_time_id not in {case_id for case_id, _, _ in reasons(jan(21))}
