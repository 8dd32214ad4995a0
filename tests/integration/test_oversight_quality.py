"""HMIP-style quality indicators: every key question and the ratings, on SQLite and PostgreSQL.

Cases are hand-built in a team of their own; the indicators are read at 10 April 2025, when a
15-business-day plan deadline has passed for inductions on or before 19 March, a 20-day home
visit deadline for inductions on or before 12 March, and a 5-day deadline for events on or
before 2 April.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

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
    Source,
    TerminationReason,
)
from tests.integration.oversight_story import (
    BACKENDS,
    CaseStory,
    backend_container,
    new_team,
    on,
    questions,
    standards,
)

NOW = on(10, month=4)
POLICE = (Source.POLICE,)
ABUSE = (OffenceFlag.DOMESTIC_ABUSE,)


@pytest.fixture(scope="module", params=BACKENDS)
def container(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    with backend_container(request, tmp_path_factory.mktemp("quality")) as built:
        yield built


@pytest.fixture
def team() -> str:
    return new_team()


def case(container: Any, team: str, crn: str, **kwargs: Any) -> CaseStory:
    return CaseStory(container, team).open(kwargs.pop("opened", on(3)), crn=crn, **kwargs)


def asked(container: Any, team: str, *ids: str) -> dict[str, tuple[int, int]]:
    found = questions(container, NOW, team=team)
    return {question: found[question] for question in ids}


def test_court_work_needs_police_and_childrens_services_enquiries(
    container: Any, team: str
) -> None:
    case(container, team, "X000001").court_report(on(1), police=True, childrens=True)
    case(container, team, "X000002").court_report(on(1), police=True, childrens=False)
    both_and_not = case(container, team, "X000003")
    both_and_not.court_report(on(1), police=True, childrens=True)
    both_and_not.court_report(on(2), police=False, childrens=True)
    case(container, team, "X000004")  # no court report: the question does not apply

    assert asked(container, team, "2.1c") == {"2.1c": (1, 3)}


def test_assessment_engagement_desistance_and_safety(container: Any, team: str) -> None:
    case(container, team, "X000001").assess(on(4), needs=[], sources=POLICE)
    uninvolved = case(container, team, "X000002", offence_flags=ABUSE)
    uninvolved.assess(on(4), needs=None, sources=POLICE, person_involved=False)
    child = case(container, team, "X000003")
    child.register(on(3, hour=10), RegistrationCode.RCCO)
    child.assess(on(4), needs=[Need.ETE], sources=(Source.POLICE, Source.CHILDRENS_SERVICES))
    case(container, team, "X000004").assess(on(4), sources=(Source.CHILDRENS_SERVICES,))
    perpetrator = case(container, team, "X000005")
    perpetrator.register(on(3, hour=10), RegistrationCode.ADVP)
    perpetrator.assess(on(4), needs=[Need.ACC], sources=POLICE)
    case(container, team, "X000006")  # not assessed: no question applies
    latest = case(container, team, "X000007")
    latest.assess(on(4), needs=None, sources=())
    latest.assess(on(5), needs=[], sources=POLICE)  # only the latest assessment counts

    assert asked(container, team, "2.2a", "2.2b", "2.2c") == {
        "2.2a": (5, 6),
        "2.2b": (4, 6),
        "2.2c": (3, 6),
    }


def test_planning_engagement_desistance_and_contingency(container: Any, team: str) -> None:
    full = case(container, team, "X000001")
    full.assess(on(3, hour=10), needs=[Need.ETE])
    full.induct(on(3, hour=11))
    full.plan(on(5))
    thin = case(container, team, "X000002")
    thin.induct(on(3, hour=10))
    thin.assess(on(3, hour=11), needs=None)
    thin.plan(on(5), contingency=None, person_involved=False, objectives=())
    case(container, team, "X000003").induct(on(3, hour=10))  # no plan, deadline passed
    case(container, team, "X000004").induct(on(1, month=4))  # no plan, deadline ahead
    case(container, team, "X000005").plan(on(5))  # a plan without an analysed assessment

    assert asked(container, team, "2.3a", "2.3b", "2.3c") == {
        "2.3a": (2, 4),
        "2.3b": (1, 4),
        "2.3c": (2, 4),
    }


def test_delivery_engagement_is_an_induction_on_time(container: Any, team: str) -> None:
    case(container, team, "X000001").induct(on(10))
    case(container, team, "X000002").induct(on(11))
    case(container, team, "X000003")

    assert asked(container, team, "2.4a") == {"2.4a": (1, 2)}


def test_delivery_desistance_is_every_need_referred(container: Any, team: str) -> None:
    referred = case(container, team, "X000001")
    referred.assess(on(4), needs=[Need.ACC, Need.ETE])
    referred.refer(on(5), "r1", Service.ACC)
    referred.refer(on(5), "r2", Service.ETE)
    case(container, team, "X000002").assess(on(4), needs=[Need.ACC])
    case(container, team, "X000003").assess(on(4), needs=[])
    case(container, team, "X000004").assess(on(4), needs=None)

    assert asked(container, team, "2.4b") == {"2.4b": (1, 2)}


def test_delivery_safety_is_timely_enforcement_and_home_visits(container: Any, team: str) -> None:
    def inducted(crn: str, day: int = 3, month: int = 3, **kwargs: Any) -> CaseStory:
        story = case(container, team, crn, **kwargs)
        story.induct(on(day, month=month, hour=10))
        return story

    prompt = inducted("X000001")
    prompt.appointment("a1", on(5), Outcome.UAAB)
    prompt.enforce(on(7), EnforcementAction.EA02, "a1")
    slow = inducted("X000002")
    slow.appointment("a1", on(5), Outcome.UAAB)
    slow.enforce(on(14), EnforcementAction.EA02, "a1")  # 7 business days
    inducted("X000003").appointment("a1", on(5), Outcome.AFTA)  # never cited
    inducted("X000004").appointment("a1", on(8, month=4), Outcome.AFTA)  # still within 5 days
    inducted("X000005", offence_flags=ABUSE)  # no home visit, deadline passed
    inducted("X000006", 7, 4, offence_flags=ABUSE)  # no home visit yet, deadline ahead
    visited = inducted("X000007", offence_flags=ABUSE)
    visited.appointment("h1", on(20), Outcome.ATTC, type=AppointmentType.CHVS)
    case(container, team, "X000008")  # not inducted

    assert asked(container, team, "2.4c") == {"2.4c": (4, 7)}


def test_reviewing_engagement(container: Any, team: str) -> None:
    involved = case(container, team, "X000001")
    involved.assess(on(4))
    involved.review(on(5))
    planned = case(container, team, "X000002")
    planned.assess(on(4), person_involved=False)
    planned.plan(on(4, hour=10))
    planned.review(on(5))
    alone = case(container, team, "X000003")
    alone.assess(on(4), person_involved=False)
    alone.review(on(5))
    case(container, team, "X000004").assess(on(4))  # no review

    assert asked(container, team, "2.5a") == {"2.5a": (2, 3)}


def test_reviewing_desistance_is_a_plan_change_when_risk_changes(container: Any, team: str) -> None:
    def assessed(crn: str) -> CaseStory:
        story = case(container, team, crn)
        story.assess(on(4), RoSH.MEDIUM)
        return story

    assessed("X000001").review(on(5), rosh=RoSH.HIGH, plan_changed=True)
    assessed("X000002").review(on(5), rosh=RoSH.HIGH, plan_changed=False)
    assessed("X000003").review(on(5), rosh=RoSH.MEDIUM)  # risk unchanged: does not apply
    assessed("X000004").review(on(5))  # no RoSH given: does not apply
    twice = assessed("X000005")
    twice.review(on(5), rosh=RoSH.HIGH, plan_changed=True)
    twice.review(on(6), rosh=RoSH.LOW, plan_changed=False)

    assert asked(container, team, "2.5b") == {"2.5b": (1, 3)}


def test_reviewing_safety_is_an_informed_review_after_each_significant_event(
    container: Any, team: str
) -> None:
    prompt = case(container, team, "X000001")
    prompt.review(on(7), informed=True, event_version=prompt.significant_event(on(5)))
    late = case(container, team, "X000002")
    late.significant_event(on(5))
    late.review(on(6), informed=False)
    late.review(on(20), informed=True)  # 11 business days after the event
    case(container, team, "X000003").significant_event(on(5))  # never reviewed
    case(container, team, "X000004").significant_event(on(8, month=4))  # still within 5 days
    case(container, team, "X000005")  # no significant event
    both = case(container, team, "X000006")
    both.significant_event(on(5))
    both.review(on(6))
    both.significant_event(on(10))
    both.review(on(11))

    assert asked(container, team, "2.5c") == {"2.5c": (3, 5)}


def test_outcomes_are_reported_unrated(container: Any, team: str) -> None:
    case(container, team, "X000001").terminate(on(4), TerminationReason.COMPLETED)
    case(container, team, "X000002").terminate(on(4), TerminationReason.REVOKED)
    case(container, team, "X000003").sfo(on(5))
    unpaid = case(container, team, "X000004", unpaid_work_hours=5)
    unpaid.unpaid_work(on(10), "5")
    programmes = case(container, team, "X000005")
    for referral_id, outcome in (("r1", ReferralOutcome.COMPLETED), ("r2", None)):
        programmes.refer(on(4), referral_id, Service.ACCREDITED_PROGRAMME)
        if outcome is not None:
            programmes.referral_outcome(on(6), referral_id, outcome)
    dropped = case(container, team, "X000006")
    dropped.refer(on(4), "r1", Service.ACCREDITED_PROGRAMME)
    dropped.referral_outcome(on(6), "r1", ReferralOutcome.WITHDRAWN)

    assert asked(container, team, "2.6.1", "2.6.2", "2.6.3", "2.6.4") == {
        "2.6.1": (1, 2),
        "2.6.2": (5, 6),
        "2.6.3": (1, 1),
        "2.6.4": (1, 2),
    }
    outcomes = standards(container, NOW, team=team)[-1]
    assert (outcomes["id"], outcomes["rated"], outcomes["rating"]) == ("2.6", False, None)


def test_a_standard_is_rated_by_its_lowest_key_question(container: Any, team: str) -> None:
    case(container, team, "X000001").assess(on(4), needs=[], sources=POLICE)
    case(container, team, "X000002").assess(on(4), needs=[], sources=())  # no police: (c) no

    found = {s["id"]: s for s in standards(container, NOW, team=team)}

    assessment = found["2.2"]
    assert [(q["id"], q["percent"]) for q in assessment["key_questions"]] == [
        ("2.2a", 100.0),
        ("2.2b", 100.0),
        ("2.2c", 50.0),
    ]
    assert assessment["rating"] == "Requires improvement"
    assert found["2.1"]["rating"] is None  # no court report: no question applies
    assert [s["id"] for s in found.values()] == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
    assert all(
        q["definition"] and q["question"] for s in found.values() for q in s["key_questions"]
    )


def test_quality_scope_by_opening_date(container: Any, team: str) -> None:
    case(container, team, "X000001").assess(on(4), sources=POLICE)
    case(container, team, "X000002", opened=on(17)).assess(on(18), sources=())

    march_early = questions(
        container, NOW, team=team, opened_from=date(2025, 3, 1), opened_to=date(2025, 3, 16)
    )
    assert march_early["2.2c"] == (1, 1)
    assert questions(container, NOW, team=team)["2.2c"] == (1, 2)
