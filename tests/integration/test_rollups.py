"""Rollups against the row-by-row definitions, on SQLite and PostgreSQL.

A demo PDU is written; its compliance rates and quality questions are then asked over whole
teams (the rollup path) and over the same cases by an opening-date range that holds every case
(the row path), at instants on both sides of many business-day deadlines: the last moment of a
London day and the first of the next, over the three weeks after the demo's "now", when
deadlines pass with no event. Then the store changes under rollups already kept (an induction,
a transfer between teams) and the answers must follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from application import commands as c
from application.access import PRACTITIONER, SPO, Actor
from demo.pdu import DemoOptions, generate
from projections.business_days import LONDON
from projections.compliance import IndicatorScope, query_compliance
from projections.quality import query_quality
from projections.schema import indicator_rollups, scope_rollups, team_stamps, trend_rollups
from projections.trends import Month, measures, months, query_trends
from tests.integration.oversight_story import BACKENDS, DEFAULTS, backend_container, live

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # the demo's "now": a Friday
OPTIONS = DemoOptions(cases=120, practitioners=16, teams=4, seed=11)
TEAMS = [f"SHF-{n:02d}" for n in range(1, OPTIONS.teams + 1)]
EVERY_CASE = date(1900, 1, 1)  # an opening range that holds every case: the row path


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, dict[str, UUID]]]:
    tmp: Path = tmp_path_factory.mktemp(f"rollups-{request.param}")
    with backend_container(request, tmp) as container:
        result = generate(container.app, OPTIONS, now=NOW)
        assert result.refused == 0, result.refusals
        container.projections.catch_up()
        yield container, result.case_ids


def figures(container: Any, now: datetime, **scope: Any) -> dict[str, tuple[int, int]]:
    """Every rate and question over ``scope`` at ``now``: (numerator, denominator)."""
    generation = live(container)
    with container.engine.connect() as conn:
        rates = query_compliance(conn, generation, DEFAULTS, IndicatorScope(**scope), now=now)
        standards = query_quality(conn, generation, DEFAULTS, IndicatorScope(**scope), now=now)
    found = {name: (r["numerator"], r["denominator"]) for name, r in rates.items()}
    found.update({q["id"]: (q["yes"], q["total"]) for s in standards for q in s["key_questions"]})
    return found


def scopes() -> list[dict[str, Any]]:
    """Whole-team scopes: the store, the PDU, each team, and an SPO's reach of two teams."""
    return [
        {},
        {"pdu": "SHF"},
        *({"team": team} for team in TEAMS),
        {"teams": frozenset(TEAMS[:2])},
    ]


def instants() -> list[datetime]:
    """The last moment of each London day from the demo's now on, and the first of the next."""
    found = []
    for offset in range(0, 22):
        day = NOW.astimezone(LONDON).date() + timedelta(days=offset)
        midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
        found += [midnight - timedelta(microseconds=1), midnight]
    return [moment.astimezone(UTC) for moment in found]


def check_every_scope(container: Any, now: datetime) -> dict[str, tuple[int, int]]:
    whole: dict[str, tuple[int, int]] = {}
    for scope in scopes():
        from_rollups = figures(container, now, **scope)
        from_rows = figures(container, now, **scope, opened_from=EVERY_CASE)
        assert from_rollups == from_rows, (scope, now)
        if not scope:
            whole = from_rollups
    return whole


def rollups_kept(container: Any) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(indicator_rollups)).one()[0])


def test_rollups_answer_as_the_rows_do_on_both_sides_of_every_deadline(
    store: tuple[Any, dict[str, UUID]],
) -> None:
    container, _ = store
    seen = [check_every_scope(container, now) for now in instants()]

    # Deadlines passed with no event in between: the figures moved, and the rollups kept up.
    assert len({tuple(sorted(f.items())) for f in seen}) > 3
    before, after = seen[0], seen[-1]
    moved = [name for name in before if before[name] != after[name]]
    assert "induction_on_time" in moved or "sentence_plan_on_time" in moved, moved
    # Each team's rollup was kept, once per (kind, day) asked.
    assert rollups_kept(container) >= len(TEAMS) * 2


def test_a_change_makes_its_teams_rollups_stale(store: tuple[Any, dict[str, UUID]]) -> None:
    container, case_ids = store
    now = instants()[4]
    check_every_scope(container, now)  # every rollup of this day is kept
    with container.engine.connect() as conn:
        stamps = {
            (pdu, team): stamp for _, pdu, team, stamp in conn.execute(sa.select(team_stamps))
        }
    # Move a case to another team, and induct another case: both teams' sums change.
    moved, inducted = (
        _case_in(container, case_ids, TEAMS[0]),
        _case_in(container, case_ids, TEAMS[1]),
    )
    actor = Actor("spo-rollups", frozenset({PRACTITIONER, SPO}), frozenset(TEAMS))
    at = NOW + timedelta(hours=1)
    container.app.execute(
        c.TransferCase(case_id=moved, occurred_at=at, team=TEAMS[2], pdu="SHF"), actor
    )
    container.app.execute(c.CompleteInduction(case_id=inducted, occurred_at=at), actor)
    container.projections.catch_up()

    with container.engine.connect() as conn:
        after = {(pdu, team): stamp for _, pdu, team, stamp in conn.execute(sa.select(team_stamps))}
    changed = {team for (_, team), stamp in after.items() if stamp != stamps.get(("SHF", team))}
    assert changed == {TEAMS[0], TEAMS[1], TEAMS[2]}
    check_every_scope(container, now)


def test_a_current_rollup_is_what_is_read(store: tuple[Any, dict[str, UUID]]) -> None:
    """The store's figure is its own rollup while no team has changed, else its teams'
    rollups: a kept sum changed by hand shows through while its stamp is current, and is
    summed afresh once a team's stamp moves."""
    container, _ = store
    now = instants()[6]
    truth = check_every_scope(container, now)
    r, s, sr = indicator_rollups, team_stamps, scope_rollups

    def bump(table: sa.Table, *where: Any) -> None:
        """Add 1000 to every sum of the rollups ``where`` selects."""
        keys = list(table.primary_key.columns)
        with container.engine.begin() as conn:
            for row in conn.execute(sa.select(table).where(*where)).mappings().all():
                same = [column == row[column.name] for column in keys]
                changed = [value + 1000 for value in row["sums"]]
                conn.execute(sa.update(table).where(*same).values(sums=changed))

    def restamp(team: str) -> None:
        with container.engine.begin() as conn:
            newest = conn.execute(sa.select(sa.func.max(s.c.stamp))).scalar_one()
            conn.execute(sa.update(s).where(s.c.team == team).values(stamp=newest + 1))

    attendance = truth["attendance"]
    plus = (attendance[0] + 1000, attendance[1] + 1000)
    bump(sr)  # every scope's own rollup
    assert figures(container, now)["attendance"] == plus
    assert figures(container, now, team=TEAMS[0])["attendance"] != attendance

    bump(r, r.c.team == TEAMS[0])  # a team's rollup; another team changes: its scopes are stale
    restamp(TEAMS[1])
    assert figures(container, now)["attendance"] == plus  # TEAMS[0]'s kept sum, TEAMS[1] afresh

    restamp(TEAMS[0])
    assert figures(container, now) == truth
    for team in TEAMS:
        restamp(team)
    check_every_scope(container, now)


def _case_in(
    container: Any,
    case_ids: dict[str, UUID],
    team: str,
    *,
    opened_before: datetime = NOW,
) -> UUID:
    """An open case of ``team`` opened before a time, not yet inducted if any is."""
    found = None
    for case_id in case_ids.values():
        case = container.app.repository.get(case_id)
        state = case.state
        if state.team != team or state.status != "active" or state.opened_at >= opened_before:
            continue
        if state.inducted_at is None:
            return case_id
        found = found or case_id
    assert found is not None, team
    return found


def trends(container: Any, now: datetime, **scope: Any) -> dict[str, list[tuple[int, int]]]:
    """Every measure's trend over the demo's twelve months to ``now``."""
    this = Month(now.astimezone(LONDON).date().replace(day=1))
    span = months(this.back(11), this)
    names = sorted(measures(DEFAULTS, now))
    generation = live(container)
    with container.engine.connect() as conn:
        found = query_trends(
            conn, generation, DEFAULTS, IndicatorScope(**scope), names, span, now=now
        )
    return {
        name: [(p["numerator"], p["denominator"]) for p in points] for name, points in found.items()
    }


def check_trends(container: Any, now: datetime) -> dict[str, list[tuple[int, int]]]:
    whole: dict[str, list[tuple[int, int]]] = {}
    for scope in scopes():
        from_rollups = trends(container, now, **scope)
        assert from_rollups == trends(container, now, **scope, opened_from=EVERY_CASE), scope
        if not scope:
            whole = from_rollups
    return whole


def test_trend_rollups_answer_as_the_rows_do_and_follow_a_backdated_record(
    store: tuple[Any, dict[str, UUID]],
) -> None:
    container, case_ids = store
    now = instants()[8]
    before = check_trends(container, now)
    assert check_trends(container, now) == before  # read again: from the rollups kept
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(trend_rollups)).one()[0] > 0

    # A transfer this month: the month under way moves in both teams.
    actor = Actor("spo-rollups", frozenset({PRACTITIONER, SPO}), frozenset(TEAMS))
    case_id = _case_in(container, case_ids, TEAMS[2])
    container.app.execute(
        c.TransferCase(
            case_id=case_id, occurred_at=NOW + timedelta(hours=2), team=TEAMS[1], pdu="SHF"
        ),
        actor,
    )
    container.projections.catch_up()
    check_trends(container, now)

    # A transfer recorded now that occurred four months ago moves the case's months since.
    team_before = trends(container, now, team=TEAMS[3])
    case_id = _case_in(container, case_ids, TEAMS[3], opened_before=NOW - timedelta(days=150))
    at = NOW - timedelta(days=120)
    container.app.execute(
        c.TransferCase(case_id=case_id, occurred_at=at, team=TEAMS[0], pdu="SHF"), actor
    )
    container.projections.catch_up()

    check_trends(container, now)
    team_after = trends(container, now, team=TEAMS[3])
    moved = [
        (name, i)
        for name, points in team_after.items()
        for i, point in enumerate(points[:-1])  # a month already over
        if point != team_before[name][i]
    ]
    assert len({i for _, i in moved}) >= 3, moved  # every month since the transfer
