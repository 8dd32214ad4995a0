"""Compliance rates: every rate on small hand-built cases, on SQLite and PostgreSQL.

Each test opens its cases in a team of its own and reads the rates of that team at an explicit
instant; the expected numerator and denominator are worked out in the comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from application.settings import OversightSettings
from domain.vocabulary import (
    AppointmentType,
    EnforcementAction,
    Need,
    OffenceFlag,
    Outcome,
    ReferralOutcome,
    RegistrationCode,
    RoSH,
    Service,
)
from projections.compliance import IndicatorScope, query_compliance
from tests.integration.oversight_story import (
    BACKENDS,
    DEFAULTS,
    CaseStory,
    backend_container,
    live,
    new_team,
    on,
    rates,
)


@pytest.fixture(scope="module", params=BACKENDS)
def container(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    with backend_container(request, tmp_path_factory.mktemp("compliance")) as built:
        yield built


@pytest.fixture
def team() -> str:
    return new_team()


def case(container: Any, team: str, crn: str = "X000001", **kwargs: Any) -> CaseStory:
    return CaseStory(container, team).open(kwargs.pop("opened", on(3)), crn=crn, **kwargs)


def test_attendance_counts_national_standard_outcomes_but_acceptable_absences(
    container: Any, team: str
) -> None:
    story = case(container, team)
    story.appointment("a1", on(4), Outcome.ATTC)
    story.appointment("a2", on(5), Outcome.AFTC)
    story.appointment("a3", on(6), Outcome.UAAB)
    story.appointment("a4", on(7), Outcome.AAME)  # acceptable absence: not counted
    story.appointment("a5", on(10), Outcome.ATTC, national_standard=False)  # not counted
    story.appointment("a6", on(11))  # no outcome yet: not counted

    assert rates(container, on(20), team=team)["attendance"] == (2, 3)


def test_enforcement_where_required_counts_failures_older_than_the_threshold(
    container: Any, team: str
) -> None:
    # At Thursday 20 March a failure is older than 5 business days if on or before 12 March.
    cited = case(container, team, "X000001")
    cited.appointment("a1", on(5), Outcome.UAAB)
    cited.enforce(on(6), EnforcementAction.EA02, "a1")
    uncited = case(container, team, "X000002")
    uncited.appointment("a1", on(5), Outcome.AFTA)
    recent = case(container, team, "X000003")  # not yet older than the threshold: left out
    recent.appointment("a1", on(17), Outcome.UAAB)
    partly = case(container, team, "X000004")
    partly.appointment("a1", on(5), Outcome.UAAB)
    partly.appointment("a2", on(10), Outcome.AFTC)
    partly.enforce(on(6), EnforcementAction.EA02, "a1")
    late = case(container, team, "X000005")  # cited late, and a recent one uncited: yes
    late.appointment("a1", on(5), Outcome.UAAB)
    late.enforce(on(14), EnforcementAction.NFA, "a1")
    late.appointment("a2", on(18), Outcome.UAAB)

    assert rates(container, on(20), team=team)["enforcement_where_required"] == (2, 4)
    assert rates(container, on(13), team=team)["enforcement_where_required"] == (3, 4)
    assert rates(container, on(12), team=team)["enforcement_where_required"] == (0, 0)


def test_oversight_of_high_risk_needs_oversight_after_the_latest_high_assessment(
    container: Any, team: str
) -> None:
    overseen = case(container, team, "X000001")
    overseen.assess(on(3, hour=10), RoSH.HIGH)
    overseen.oversee(on(4))
    missing = case(container, team, "X000002")
    missing.assess(on(3, hour=10), RoSH.VERY_HIGH)
    reassessed = case(container, team, "X000003")
    reassessed.assess(on(3, hour=10), RoSH.HIGH)
    reassessed.oversee(on(4))
    reassessed.assess(on(10), RoSH.HIGH)
    case(container, team, "X000004").assess(on(3, hour=10), RoSH.MEDIUM)
    lowered = case(container, team, "X000005")
    lowered.assess(on(3, hour=10), RoSH.HIGH)
    lowered.review(on(5), rosh=RoSH.MEDIUM)
    escalated = case(container, team, "X000006")
    escalated.assess(on(3, hour=10), RoSH.MEDIUM)
    escalated.review(on(5), rosh=RoSH.VERY_HIGH)
    escalated.oversee(on(6))

    assert rates(container, on(20), team=team)["oversight_of_high_risk"] == (2, 4)


def test_induction_on_time_within_five_business_days(container: Any, team: str) -> None:
    case(container, team, "X000001").induct(on(10))  # Monday to Monday: 5 business days
    case(container, team, "X000002").induct(on(11))  # 6
    case(container, team, "X000003")  # never inducted, deadline passed: counted, not on time
    case(container, team, "X000004", opened=on(17))  # deadline still ahead: left out
    case(container, team, "X000005", opened=on(17)).induct(on(18))

    assert rates(container, on(20), team=team)["induction_on_time"] == (2, 4)
    lenient = OversightSettings(induction_days=6)
    assert rates(container, on(20), team=team, thresholds=lenient)["induction_on_time"] == (3, 4)


def test_sentence_plan_on_time_within_fifteen_business_days_of_induction(
    container: Any, team: str
) -> None:
    for crn, plan_day in (("X000001", 24), ("X000002", 25), ("X000003", None)):
        story = case(container, team, crn)
        story.induct(on(3, hour=10))
        if plan_day is not None:
            story.plan(on(plan_day))
    case(container, team, "X000004").induct(on(28))  # plan deadline still ahead
    case(container, team, "X000005")  # not inducted

    assert rates(container, on(1, month=4), team=team)["sentence_plan_on_time"] == (1, 3)


def test_unpaid_work_attendance_is_sessions_attended(container: Any, team: str) -> None:
    story = case(container, team, unpaid_work_hours=10)
    story.unpaid_work(on(4), "3")
    story.unpaid_work(on(5), "2")
    story.unpaid_work(on(6), "0", attended=False)
    case(container, team, "X000002")

    assert rates(container, on(20), team=team)["unpaid_work_attendance"] == (2, 3)


def test_unpaid_work_completed_within_12_months_of_the_start(container: Any, team: str) -> None:
    old = date(2024, 1, 15)
    done = case(container, team, "X000001", unpaid_work_hours=10)
    done.unpaid_work(on(10), "6")
    done.unpaid_work(on(1, month=4), "4")  # completes within a month
    short = case(container, team, "X000002", unpaid_work_hours=10, start_date=old)
    short.unpaid_work(on(10), "4")  # 12 months are over: counted, not completed
    case(container, team, "X000003", unpaid_work_hours=10).unpaid_work(on(10), "4")  # time left
    case(container, team, "X000004")  # no requirement
    late = case(container, team, "X000005", unpaid_work_hours=5, start_date=old)
    late.unpaid_work(on(10), "5")  # completed after 14 months

    key = "unpaid_work_completed_within_12_months"
    assert rates(container, on(10, month=4), team=team)[key] == (1, 3)


def test_crs_referral_rate_matches_needs_of_the_latest_assessment(
    container: Any, team: str
) -> None:
    referred = case(container, team, "X000001")
    referred.assess(on(4), needs=[Need.ACC, Need.ETE, Need.FBD])
    for number, service in enumerate((Service.ETE, Service.FBD, Service.WOS)):
        referred.refer(on(5), f"r{number}", service)
    case(container, team, "X000002").assess(on(4), needs=None)  # needs not analysed
    superseded = case(container, team, "X000003")
    superseded.assess(on(4), needs=[Need.DNR])
    superseded.refer(on(5), "r1", Service.DNR)
    superseded.assess(on(6), needs=[Need.ACC])

    assert rates(container, on(20), team=team)["crs_referral_rate"] == (2, 4)


def test_accredited_programme_completion_over_ended_programmes(container: Any, team: str) -> None:
    story = case(container, team)
    outcomes = {
        "r1": ReferralOutcome.COMPLETED,
        "r2": ReferralOutcome.TERMINATED,
        "r3": ReferralOutcome.WITHDRAWN,
        "r4": ReferralOutcome.STARTED,
        "r5": None,
    }
    for referral_id, outcome in outcomes.items():
        story.refer(on(4), referral_id, Service.ACCREDITED_PROGRAMME)
        if outcome is not None:
            story.referral_outcome(on(10), referral_id, outcome)
    story.refer(on(4), "r6", Service.ETE)
    story.referral_outcome(on(10), "r6", ReferralOutcome.COMPLETED)  # not a programme

    assert rates(container, on(20), team=team)["accredited_programme_completion"] == (1, 3)


def test_home_visits_where_required_within_twenty_business_days(container: Any, team: str) -> None:
    # At 10 April the 20-day deadline has passed for inductions on or before 12 March.
    abuse = (OffenceFlag.DOMESTIC_ABUSE,)
    visited = case(container, team, "X000001", offence_flags=abuse)
    visited.induct(on(3, hour=10))
    visited.appointment("h1", on(20), Outcome.ATTC, type=AppointmentType.CHVS)
    late = case(container, team, "X000002")
    late.register(on(3, hour=10), RegistrationCode.RCCO)
    late.induct(on(3, hour=11))
    late.appointment("h1", on(2, month=4), Outcome.AFTC, type=AppointmentType.CHVS)  # 22 days
    missing = case(container, team, "X000003", offence_flags=abuse)
    missing.induct(on(3, hour=10))
    case(container, team, "X000004", offence_flags=abuse).induct(on(7, month=4))  # time left
    case(container, team, "X000005").induct(on(3, hour=10))  # not required
    case(container, team, "X000006", offence_flags=abuse)  # not inducted

    assert rates(container, on(10, month=4), team=team)["home_visits_where_required"] == (1, 3)


def test_safeguarding_enquiries_answered(container: Any, team: str) -> None:
    story = case(container, team)
    for enquiry_id in ("e1", "e2", "e3"):
        story.enquire(on(4), enquiry_id)
    story.answer(on(5), "e1")
    story.answer(on(6), "e2")

    assert rates(container, on(20), team=team)["safeguarding_enquiries_answered"] == (2, 3)


def test_an_empty_scope_has_no_percent(container: Any, team: str) -> None:
    generation = live(container)
    with container.engine.connect() as conn:
        found = query_compliance(conn, generation, DEFAULTS, IndicatorScope(team=team), now=on(20))

    assert len(found) >= 11
    assert {r["percent"] for r in found.values()} == {None}
    assert {(r["numerator"], r["denominator"]) for r in found.values()} == {(0, 0)}
    assert all(r["definition"] for r in found.values())


def test_scopes_pdu_team_practitioner_and_opening_dates(container: Any, team: str) -> None:
    other = new_team()
    for crn, in_team, pdu, practitioner, day in (
        ("X000001", team, "P-A", "po-a", 3),
        ("X000002", team, "P-A", "po-b", 10),
        ("X000003", other, "P-A", "po-a", 3),
        ("X000004", other, "P-B", "po-a", 3),
    ):
        story = case(container, in_team, crn, opened=on(day), pdu=pdu + team)
        story.allocate(on(day, hour=10), practitioner + team)
        story.appointment("a1", on(day, hour=11), Outcome.ATTC)
    pdu_a = "P-A" + team

    def attended(**scope: Any) -> int:
        return rates(container, on(20), **scope)["attendance"][1]

    assert attended(team=team) == 2
    assert attended(pdu=pdu_a) == 3
    assert attended(pdu=pdu_a, teams=frozenset({team})) == 2  # an SPO's own teams only
    assert attended(practitioner_id="po-a" + team) == 3
    assert attended(team=team, opened_from=date(2025, 3, 4)) == 1
    assert attended(team=team, opened_to=date(2025, 3, 9)) == 1
    assert attended(team=team, opened_from=date(2025, 3, 3), opened_to=date(2025, 3, 3)) == 1


def test_percent_is_rounded_to_one_decimal(container: Any, team: str) -> None:
    story = case(container, team)
    for number, outcome in enumerate((Outcome.ATTC, Outcome.UAAB, Outcome.UAAB)):
        story.appointment(f"a{number}", on(4 + number), outcome)
    generation = live(container)
    with container.engine.connect() as conn:
        found = query_compliance(
            conn,
            generation,
            DEFAULTS,
            IndicatorScope(team=team),
            now=datetime(2025, 3, 20, tzinfo=UTC),
        )

    assert found["attendance"]["percent"] == 33.3
