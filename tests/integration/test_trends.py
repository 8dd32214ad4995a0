"""Trends against the row-by-row definitions, on SQLite and PostgreSQL.

A script of cases is told over January to April 2025 in one team. For each month, the
reference is the read model's own `/compliance` and `/quality` figures at the month's last
moment for a fresh team told only the script's steps that had occurred by then (in the same
order): what a trend says of that month, as known now. A backdated induction, recorded after
everything else, and deadlines falling just before and just at the end of March are included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from application.access import AUDITOR as AUDITOR_ROLE
from application.access import Actor
from domain.vocabulary import (
    AppointmentType,
    EnforcementAction,
    Need,
    OffenceFlag,
    Outcome,
    RoSH,
    Service,
)
from projections.compliance import IndicatorScope
from projections.oversight_months import series
from projections.schema import oversight_months
from projections.trends import Month, measures, month_end_columns, months, query_trend, query_trends
from tests.integration.oversight_story import (
    BACKENDS,
    DEFAULTS,
    CaseStory,
    backend_container,
    live,
    new_team,
    on,
    questions,
    rates,
)

AUDITOR = Actor("auditor-1", frozenset({AUDITOR_ROLE}), frozenset())
Step = tuple[str, datetime, Callable[[CaseStory, datetime], Any]]
NOW = datetime(2025, 6, 2, 12, tzinfo=UTC)
SPAN = months(Month.parse("2025-01"), Month.parse("2025-04"))

OPENINGS: dict[str, tuple[datetime, dict[str, Any]]] = {
    "A": (on(6, 1), {}),
    "B": (on(24, 3), {}),  # induction due at the end of Monday 31 March: not over in March
    "C": (on(21, 3), {}),  # due at the end of Friday 28 March: over by March's end
    "D": (on(13, 1), {"offence_flags": (OffenceFlag.DOMESTIC_ABUSE,), "unpaid_work_hours": 10}),
    "E": (on(8, 1), {}),
    "F": (on(2, 1), {}),
}
SCRIPT: list[Step] = [
    ("A", on(9, 1), lambda s, at: s.induct(at)),
    ("F", on(2, 1, 11), lambda s, at: s.court_report(at, police=True, childrens=False)),
    ("D", on(14, 1), lambda s, at: s.induct(at)),
    ("A", on(15, 1), lambda s, at: s.assess(at, RoSH.HIGH, needs=[Need.ACC])),
    ("D", on(15, 1, 10), lambda s, at: s.enquire(at, "enq-1")),
    ("A", on(20, 1), lambda s, at: s.plan(at)),
    ("A", on(22, 1), lambda s, at: s.oversee(at)),
    ("A", on(3, 2), lambda s, at: s.appointment("a1", at, Outcome.UAAB)),
    ("D", on(3, 2, 10), lambda s, at: s.unpaid_work(at, "6")),
    ("A", on(12, 2), lambda s, at: s.enforce(at, EnforcementAction.EA02, "a1")),
    ("A", on(14, 2), lambda s, at: s.refer(at, "r1", Service.ACC)),
    ("F", on(17, 2), lambda s, at: s.transfer(at, new_team())),
    (
        "D",
        on(20, 2),
        lambda s, at: s.appointment("hv", at, Outcome.ATTC, type=AppointmentType.CHVS),
    ),
    ("A", on(3, 3), lambda s, at: s.significant_event(at)),
    ("D", on(3, 3, 10), lambda s, at: s.unpaid_work(at, "4")),
    ("A", on(5, 3), lambda s, at: s.review(at, informed=True)),
    ("C", on(2, 4), lambda s, at: s.induct(at)),
    ("D", on(2, 4, 10), lambda s, at: s.answer(at, "enq-1")),
    ("A", on(28, 1), lambda s, at: s.oversee(at)),  # backdated two months: A's rows redone
    ("E", on(10, 1), lambda s, at: s.induct(at)),  # backdated: recorded after all the rest
]


@pytest.fixture(scope="module", params=BACKENDS)
def container(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    with backend_container(request, tmp_path_factory.mktemp("trends")) as built:
        yield built


def tell(container: Any, team: str, until: datetime | None = None) -> None:
    """The script's cases opened by ``until`` and their steps that occurred by then."""
    stories = {
        key: CaseStory(container, team).open(at, crn=f"X10000{index}", **kwargs)
        for index, (key, (at, kwargs)) in enumerate(OPENINGS.items())
        if until is None or at <= until
    }
    for key, at, step in SCRIPT:
        if key in stories and (until is None or at <= until):
            step(stories[key], at)


def reference(container: Any, month: Month) -> dict[str, tuple[int, int]]:
    """Every figure at the month's end for a team told only what had occurred by then."""
    team = new_team()
    tell(container, team, month.last_moment)
    now = month.last_moment
    return {**rates(container, now, team=team), **questions(container, now, team=team)}


def trend_of(container: Any, team: str, measure: str) -> list[tuple[int, int]]:
    with container.engine.connect() as conn:
        found = query_trend(
            conn, live(container), DEFAULTS, IndicatorScope(team=team), measure, SPAN, now=NOW
        )
    return [(i["numerator"], i["denominator"]) for i in found]


def month_rows(container: Any, team: str) -> dict[Any, list[tuple[Any, Any, dict[str, Any]]]]:
    """Each case's stored month rows: (month, until, columns)."""
    m = oversight_months
    query = sa.select(m).where(m.c.generation == live(container)).order_by(m.c.month)
    found: dict[Any, list[tuple[Any, Any, dict[str, Any]]]] = {}
    with container.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            if row["team"] == team or row["case_id"] in found:
                columns = {k: v for k, v in row.items() if k not in KEYS}
                found.setdefault(row["case_id"], []).append((row["month"], row["until"], columns))
    return found


KEYS = ("generation", "case_id", "month", "until")


def test_every_measure_by_month_equals_the_definitions_at_that_months_end(
    container: Any,
) -> None:
    team = new_team()
    tell(container, team)
    expected = {month.label: reference(container, month) for month in SPAN}

    names = measures(DEFAULTS, datetime.now(UTC))
    assert len(names) > 25
    for measure in names:
        assert trend_of(container, team, measure) == [
            expected[month.label][measure] for month in SPAN
        ], measure
    # Worked by hand: January A, D and E (backdated) on time, F never inducted; F leaves in
    # February; March adds C (deadline over) but not B (due at the very end of the month);
    # April adds B, and C inducted late.
    induction = trend_of(container, team, "induction_on_time")
    assert induction == [(3, 4), (3, 3), (3, 4), (3, 5)]
    # Every measure in one pass (the PDU trends page) gives each measure's own trend.
    with container.engine.connect() as conn:
        together = query_trends(
            conn, live(container), DEFAULTS, IndicatorScope(team=team), list(names), SPAN, now=NOW
        )
    for measure in names:
        assert [(i["numerator"], i["denominator"]) for i in together[measure]] == [
            expected[month.label][measure] for month in SPAN
        ], measure


def test_a_month_end_is_its_last_moment_in_london() -> None:
    march = Month.parse("2025-03")
    assert march.last_moment == datetime(2025, 3, 31, 22, 59, 59, 999999, tzinfo=UTC)  # BST
    assert Month.parse("2025-01").last_moment == datetime(2025, 1, 31, 23, 59, 59, 999999, UTC)
    assert [m.label for m in months(Month.parse("2024-11"), Month.parse("2025-02"))] == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]


def test_a_case_is_absent_before_it_opened_and_folds_afresh_after_a_late_record() -> None:
    def record(version: int, kind: str, at: datetime, **data: Any) -> Any:
        return {
            "version": version,
            "type": kind,
            "occurred_at": at,
            "recorded_at": at,
            "data": data,
        }

    opened = record(
        1,
        "Opened",
        on(6, 2),
        crn="X1",
        pdu="P",
        team="T",
        sentence_type="community_order",
        start_date="2025-02-06",
        offence_flags=[],
        requirements={},
    )
    late = record(3, "InductionCompleted", on(7, 2))  # recorded after v2, occurred before it
    plan = record(
        2,
        "SentencePlanAgreed",
        on(20, 3),
        objectives=["x"],
        person_involved=True,
        contingency_plan=None,
    )
    ends = [m.last_moment for m in months(Month.parse("2025-01"), Month.parse("2025-03"))]

    january, february, march = month_end_columns([opened, plan, late], ends)

    assert january is None
    assert february is not None
    assert march is not None
    assert (february["induction_bd"], february["plan_agreed"]) == (1, False)
    assert (march["induction_bd"], march["plan_agreed"]) == (1, True)


def test_month_rows_built_as_events_arrive_equal_the_series_folded_from_history(
    container: Any,
) -> None:
    """In order, backdated, corrected: the projection's rows are the history's month ends."""
    team = new_team()
    tell(container, team)
    corrected = CaseStory(container, team).open(on(7, 1), crn="X100009")
    inducted = corrected.induct(on(8, 1))
    corrected.assess(on(3, 2), RoSH.HIGH)
    corrected.correct(on(4, 3), inducted, occurred_at=on(20, 1))  # late after all
    corrected.plan(on(10, 3))

    stored = month_rows(container, team)

    assert len(stored) == len(OPENINGS) + 1
    for case_id, rows in stored.items():
        records = [r for r, _ in container.app.case_entries(case_id, AUDITOR)[1]]
        expected = series(records)
        assert [(month, columns) for month, _, columns in rows] == expected, case_id
        untils = [until for _, until, _ in rows]
        assert untils == [month for month, _, _ in rows[1:]] + [None]
