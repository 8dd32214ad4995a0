"""`casetrail demo`: a synthetic PDU written through the application layer (demo/pdu.py).

Small PDUs check that a seed reproduces its PDU, that every sentence type is present, that the
plan holds no command the rules refuse, and that the fast aggregate mode writes exactly what
the application's ``execute`` writes. A medium PDU (300 cases) is served over real HTTP to
check the inspection's distributions on the read models: /compliance, /workload, /quality.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from api.bootstrap import Container, build
from application.access import AUDITOR, SPO
from demo.pdu import (
    DemoOptions,
    DemoResult,
    DemoStoreNotEmptyError,
    generate,
    plan_pdu,
)
from domain.case import Case, to_record
from domain.vocabulary import Grade, SentenceType
from projections.staff_directory import query_workload
from tests.support import LiveServer, make_settings

SMALL = DemoOptions(cases=40, practitioners=12, teams=3, seed=7)
TINY = DemoOptions(cases=12, practitioners=6, teams=2, seed=3)
MEDIUM = DemoOptions(cases=300, practitioners=40, teams=4, seed=1)
EVERY_KIND = {
    "Opened",
    "CourtReportPrepared",
    "Allocated",
    "EnquiryRequested",
    "EnquiryResponded",
    "InductionCompleted",
    "RiskAssessed",
    "RegistrationAdded",
    "MappaLevelSet",
    "SentencePlanAgreed",
    "AppointmentScheduled",
    "AppointmentOutcomeRecorded",
    "EnforcementActionTaken",
    "RecallDecided",
    "ReferralMade",
    "ReferralOutcomeRecorded",
    "UnpaidWorkSessionRecorded",
    "SignificantEventReported",
    "RiskReviewCompleted",
    "OversightRecorded",
    "Transferred",
    "Terminated",
    "Corrected",
}


@contextmanager
def demo_store(
    tmp: Path, options: DemoOptions, now: datetime | None = None
) -> Iterator[tuple[Container, DemoResult]]:
    """A fresh SQLite store with the demo PDU written into it."""
    tmp.mkdir(parents=True, exist_ok=True)
    container = build(make_settings(f"sqlite:///{tmp}/casetrail.db", tmp))
    try:
        yield container, generate(container.app, options, now=now)
    finally:
        container.close()


def events(container: Container, result: DemoResult) -> dict[str, list[Case.Event]]:
    """Each case's stored events, by CRN."""
    return {
        crn: [cast(Case.Event, e) for e in container.app.events.get(case_id)]
        for crn, case_id in result.case_ids.items()
    }


def histories(container: Container, result: DemoResult) -> dict[str, list[str]]:
    return {crn: [type(e).__name__ for e in es] for crn, es in events(container, result).items()}


def states(container: Container, result: DemoResult) -> list[Any]:
    return [container.app.repository.get(case_id).state for case_id in result.case_ids.values()]


# -- small PDUs ------------------------------------------------------------------------------


def test_a_seed_writes_the_same_pdu_into_two_fresh_stores(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with demo_store(tmp_path / "a", SMALL, now) as (first, one):
        first_histories = histories(first, one)
    with demo_store(tmp_path / "b", SMALL, now) as (second, two):
        second_histories = histories(second, two)

    assert one.refused == two.refused == 0
    assert first_histories == second_histories
    assert len(first_histories) == SMALL.cases
    assert (one.events, one.staff, one.active) == (two.events, two.staff, two.active)
    assert one.event_types == two.event_types
    assert one.case_ids == two.case_ids  # aggregate mode derives case ids from the seed


def test_another_seed_plans_another_pdu() -> None:
    now = datetime.now(UTC)
    _, _, first, _ = plan_pdu(SMALL, now)
    _, _, other, _ = plan_pdu(replace(SMALL, seed=8), now)
    assert [p.opening.crn for p in first] != [p.opening.crn for p in other]


def test_every_sentence_type_and_no_refused_command(tmp_path: Path) -> None:
    with demo_store(tmp_path, SMALL) as (container, result):
        cases = states(container, result)
        kinds = set(result.event_types)
        generation = container.projections.live
        container.projections.catch_up()
        with container.engine.connect() as conn:
            workload = [
                row
                for team in ("SHF-01", "SHF-02", "SHF-03")
                for row in query_workload(
                    conn, generation("staff_directory"), generation("case_list"), team
                )
            ]

    assert result.refused == 0, result.refusals
    assert {s.sentence_type for s in cases} == set(SentenceType)
    assert result.cases == len(cases) == SMALL.cases
    assert result.staff == SMALL.practitioners + SMALL.teams  # and an SPO per team
    assert result.events == sum(result.event_types.values())
    assert {"Opened", "CourtReportPrepared", "RiskAssessed", "EnforcementActionTaken"} <= kinds
    trainees = [row for row in workload if row["grade"] == Grade.PQIP.value]
    assert trainees
    assert all(100 < row["percent_of_capacity"] <= 200 for row in trainees), trainees


def test_aggregate_mode_writes_what_the_applications_execute_writes(tmp_path: Path) -> None:
    """The fast mode decides each case with the same checks and aggregate methods as
    ``CaseTrail.execute``: the same events, field for field, for every case."""
    now = datetime.now(UTC)
    with demo_store(tmp_path / "aggregate", TINY, now) as (first, fast):
        fast_events = events(first, fast)
    execute = replace(TINY, mode="execute")
    with demo_store(tmp_path / "execute", execute, now) as (second, slow):
        slow_events = events(second, slow)

    def comparable(es: list[Case.Event]) -> list[tuple[Any, ...]]:
        return [
            (r["version"], r["type"], r["occurred_at"], r["data"], e.actor_id)
            for e in es
            for r in [to_record(e)]
        ]

    assert fast.refused == slow.refused == 0
    assert fast.events == slow.events
    assert fast_events.keys() == slow_events.keys()
    for crn in fast_events:
        assert comparable(fast_events[crn]) == comparable(slow_events[crn]), crn


def test_a_store_holding_the_pdu_is_refused(tmp_path: Path) -> None:
    options = replace(TINY, cases=1)
    with demo_store(tmp_path, options) as (container, _), pytest.raises(DemoStoreNotEmptyError):
        generate(container.app, options)


# -- a medium PDU, over HTTP -----------------------------------------------------------------


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, DemoResult]]:
    tmp = tmp_path_factory.mktemp("demo")
    container = build(make_settings(f"sqlite:///{tmp}/casetrail.db", tmp))
    result = generate(container.app, MEDIUM)
    container.projections.catch_up()
    server = LiveServer(container).start()
    try:
        yield server, result
    finally:
        server.stop()


@pytest.mark.slow
def test_the_medium_pdu_has_every_kind_of_event(medium: tuple[LiveServer, DemoResult]) -> None:
    _, result = medium
    assert result.refused == 0, result.refusals
    assert set(result.event_types) >= EVERY_KIND, EVERY_KIND - set(result.event_types)


@pytest.mark.slow
def test_court_reports_and_plans_follow_the_inspection(
    medium: tuple[LiveServer, DemoResult],
) -> None:
    """Police domestic-abuse enquiries in about a third of court reports (missing in 66%);
    contingency plans in about 40% of plans (insufficient in 60%)."""
    server, result = medium
    cases = states(server.container, result)
    reports = [r for s in cases for r in s.court_reports]
    police = sum(1 for r in reports if r["enquiries"].get("police_domestic_abuse"))
    plans = [s.sentence_plan for s in cases if s.sentence_plan]
    contingency = sum(1 for p in plans if p["contingency_plan"] is not None)
    levels = Counter(s.mappa["level"] for s in cases if s.mappa)
    reviews = [o for s in cases for o in s.oversight if o["kind"].value == "mappa_level1_review"]

    assert len(reports) >= 60
    assert 0.20 <= police / len(reports) <= 0.50
    assert 0.25 <= contingency / len(plans) <= 0.55
    assert levels[1] > 0
    assert reviews == []  # no review framework for MAPPA level 1


@pytest.mark.slow
def test_compliance_rates_follow_the_inspection(medium: tuple[LiveServer, DemoResult]) -> None:
    server, _ = medium
    with server.client("auditor-1", AUDITOR) as auditor:
        response = auditor.get("/compliance", params={"pdu": "SHF"})
    assert response.status_code == 200, response.text
    rates = {name: rate["percent"] for name, rate in response.json()["rates"].items()}

    assert 35 <= rates["enforcement_where_required"] <= 70  # 27 of 52
    assert rates["oversight_of_high_risk"] <= 25  # 1 of 12 high-RoSH cases
    assert 30 <= rates["home_visits_where_required"] <= 70  # missing in half
    assert rates["crs_referral_rate"] <= 45  # low CRS referrals


@pytest.mark.slow
def test_trainee_caseloads_are_over_capacity(medium: tuple[LiveServer, DemoResult]) -> None:
    server, _ = medium
    trainees = []
    for n in range(1, MEDIUM.teams + 1):
        team = f"SHF-{n:02d}"
        with server.client(f"shf-spo-{n:02d}", SPO, teams=(team,)) as spo:
            response = spo.get("/workload", params={"team": team})
        assert response.status_code == 200, response.text
        trainees += [i for i in response.json()["items"] if i["grade"] == "PQIP"]

    assert len(trainees) >= MEDIUM.teams
    assert all(129 <= t["percent_of_capacity"] <= 200 for t in trainees), trainees


@pytest.mark.slow
def test_quality_shows_the_inspections_picture(medium: tuple[LiveServer, DemoResult]) -> None:
    """Sheffield's assessment was Inadequate (60 / 59 / 33%); planning fell short on
    contingency (40%). The demo PDU's quality read model shows the same."""
    server, _ = medium
    with server.client("auditor-1", AUDITOR) as auditor:
        response = auditor.get("/quality", params={"pdu": "SHF"})
    assert response.status_code == 200, response.text
    ratings = {s["id"]: s["rating"] for s in response.json()["standards"]}

    assert "Inadequate" in (ratings["2.2"], ratings["2.3"]), ratings
    assert ratings["2.1"] == "Inadequate"  # police DA enquiries missing in most reports


@pytest.mark.slow
def test_trends_span_the_year_and_land_on_the_current_figures(
    medium: tuple[LiveServer, DemoResult],
) -> None:
    """The demo's history spans its months: each month has cases, the figures move, and the
    last month (not yet over) is the current figure, the inspection's picture."""
    server, _ = medium
    with server.client("auditor-1", AUDITOR) as auditor:
        current = auditor.get("/compliance", params={"pdu": "SHF"}).json()["rates"]
        for measure in ("enforcement_where_required", "induction_on_time", "attendance"):
            response = auditor.get("/trends", params={"pdu": "SHF", "measure": measure})
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            assert len(items) == 12
            assert all(item["denominator"] > 0 for item in items[2:]), items
            assert len({item["rate"] for item in items}) > 3, items  # it moves
            last, now = items[-1], current[measure]
            assert (last["numerator"], last["denominator"]) == (
                now["numerator"],
                now["denominator"],
            )
