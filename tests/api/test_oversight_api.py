"""GET /oversight, /compliance and /quality over real HTTP, as an SPO or auditor would call them.

The server runs its projections embedded and reads a fixed clock (Monday 2 March 2026), so
"now" is known; commands are backdated into January 2026 and each GET waits for them with
`min_position`. Each test works in a team (and PDU) of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.bootstrap import build
from tests.api import builders as b
from tests.support import LiveServer, ensure_staff, make_settings

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
RATES = {
    "attendance",
    "enforcement_where_required",
    "oversight_of_high_risk",
    "induction_on_time",
    "sentence_plan_on_time",
    "unpaid_work_attendance",
    "unpaid_work_completed_within_12_months",
    "crs_referral_rate",
    "accredited_programme_completion",
    "home_visits_where_required",
    "safeguarding_enquiries_answered",
}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("oversight-api")
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    url = pg.create_database() if pg is not None else f"sqlite:///{tmp}/casetrail.db"
    settings = make_settings(url, tmp, embedded_projections=True)
    live = LiveServer(build(settings, clock=lambda: NOW)).start()
    try:
        yield live
    finally:
        live.stop()
        if pg is not None:
            pg.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def team() -> str:
    return f"T-{uuid4().hex[:10]}"


@pytest.fixture
def spo(server: LiveServer, team: str) -> Iterator[httpx.Client]:
    for practitioner in ("po-1", "po-2"):  # two_cases allocates to them
        ensure_staff(server.container.app, practitioner, team, pdu=team)
    with server.client(f"spo-{team}", "spo", teams=(team,)) as client:
        yield client


def two_cases(client: httpx.Client, team: str) -> int:
    """One case never inducted, one inducted but without a plan; the last position."""
    first = b.open_case(client, crn="X100001", team=team, pdu=team, offence_flags=[])
    b.command(client, f"/cases/{first}/allocations", b.allocation("po-1"))
    second = b.open_case(client, crn="X100002", team=team, pdu=team, offence_flags=[])
    b.command(client, f"/cases/{second}/allocations", b.allocation("po-2"))
    result = b.command(client, f"/cases/{second}/inductions", b.induction(occurred_at=b.at(6)))
    return int(result["position"])


def test_the_queue_lists_overdue_work_most_overdue_first(spo: httpx.Client, team: str) -> None:
    position = two_cases(spo, team)

    response = spo.get("/oversight", params={"team": team, "min_position": position})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    assert b.same(body["as_of"], NOW.isoformat())
    items = body["items"]
    assert [(i["crn"], i["practitioner_id"], i["reason"], i["overdue"]) for i in items] == [
        ("X100001", "po-1", "induction_overdue", True),
        ("X100002", "po-2", "sentence_plan_overdue", True),
    ]
    assert b.same(items[0]["since"], b.at(5))
    assert b.same(items[0]["due_at"], "2026-01-13T00:00:00+00:00")  # end of Monday 12 January
    assert b.same(items[1]["due_at"], "2026-01-28T00:00:00+00:00")  # 15 business days on
    assert set(items[0]) == {
        "case_id",
        "crn",
        "practitioner_id",
        "reason",
        "since",
        "due_at",
        "overdue",
    }


def test_the_queue_pages_filters_and_refuses_a_bad_cursor(spo: httpx.Client, team: str) -> None:
    position = two_cases(spo, team)
    params: dict[str, Any] = {"team": team, "min_position": position, "limit": 1}

    first = spo.get("/oversight", params=params).json()
    second = spo.get("/oversight", params={**params, "cursor": first["next"]}).json()

    assert [i["crn"] for i in first["items"] + second["items"]] == ["X100001", "X100002"]
    assert second["next"] is None
    only_po2 = spo.get("/oversight", params={"team": team, "practitioner_id": "po-2"}).json()
    assert [i["crn"] for i in only_po2["items"]] == ["X100002"]
    by_due = spo.get("/oversight", params={"team": team, "from": "2026-01-20"}).json()
    assert [i["crn"] for i in by_due["items"]] == ["X100002"]
    b.assert_problem(spo.get("/oversight", params={"team": team, "cursor": "nope"}), 400)
    b.assert_problem(
        spo.get("/oversight", params={"team": team, "from": "2026-02-01", "to": "2026-01-01"}),
        400,
    )


def test_only_the_teams_spo_reads_the_queue(server: LiveServer, team: str) -> None:
    with server.client("po-1", "practitioner", teams=(team,)) as practitioner:
        b.assert_problem(practitioner.get("/oversight", params={"team": team}), 403)
    with server.client("spo-x", "spo", teams=("OTHER",)) as other_spo:
        b.assert_problem(other_spo.get("/oversight", params={"team": team}), 403)
    with server.client("aud-1", "auditor") as auditor:
        b.assert_problem(auditor.get("/oversight", params={"team": team}), 403)
    with server.client() as anonymous:
        b.assert_problem(anonymous.get("/oversight", params={"team": team}), 401)
    with server.client("spo-1", "spo", teams=(team,)) as spo:
        assert spo.get("/oversight").status_code == 422  # which team?


def test_compliance_rates_with_numerators_and_definitions(
    server: LiveServer, spo: httpx.Client, team: str
) -> None:
    position = two_cases(spo, team)

    response = spo.get("/compliance", params={"team": team, "min_position": position})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == {
        "pdu": None,
        "team": team,
        "practitioner_id": None,
        "teams": [team],
        "pdus": [],
        "from": None,
        "to": None,
    }
    assert set(body["rates"]) >= RATES
    assert body["rates"]["induction_on_time"] == {
        "numerator": 1,
        "denominator": 2,
        "percent": 50.0,
        "definition": body["rates"]["induction_on_time"]["definition"],
    }
    assert "5 business days" in body["rates"]["induction_on_time"]["definition"]
    assert body["rates"]["attendance"]["percent"] is None  # no appointments: 0 of 0
    with server.client("aud-1", "auditor") as auditor:
        by_pdu = auditor.get("/compliance", params={"pdu": team}).json()
        assert by_pdu["rates"]["induction_on_time"]["denominator"] == 2
        assert by_pdu["scope"]["teams"] is None
        dated = auditor.get(
            "/compliance", params={"pdu": team, "from": "2026-01-06", "to": "2026-12-31"}
        ).json()
        assert dated["rates"]["induction_on_time"]["denominator"] == 0


def test_quality_standards_with_ratings(server: LiveServer, spo: httpx.Client, team: str) -> None:
    case_id = b.open_case(spo, crn="X100003", team=team, pdu=team, offence_flags=[])
    result = b.command(
        spo,
        f"/cases/{case_id}/risk-assessments",
        b.risk_assessment(sources=["childrens_services"], needs=[]),  # no police information
    )

    response = spo.get("/quality", params={"team": team, "min_position": result["position"]})

    assert response.status_code == 200, response.text
    standards = {s["id"]: s for s in response.json()["standards"]}
    assert list(standards) == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
    assessment = standards["2.2"]
    assert [(q["id"], q["yes"], q["total"], q["percent"]) for q in assessment["key_questions"]] == [
        ("2.2a", 1, 1, 100.0),
        ("2.2b", 1, 1, 100.0),
        ("2.2c", 0, 1, 0.0),
    ]
    assert assessment["rating"] == "Inadequate"
    assert standards["2.1"]["rating"] is None
    assert standards["2.6"]["rated"] is False
    with server.client("aud-1", "auditor") as auditor:
        assert auditor.get("/quality", params={"pdu": team}).status_code == 200


@pytest.mark.parametrize("path", ["/compliance", "/quality"])
def test_compliance_and_quality_are_for_spos_of_the_team_and_auditors(
    server: LiveServer, team: str, path: str
) -> None:
    with server.client("po-1", "practitioner", teams=(team,)) as practitioner:
        b.assert_problem(practitioner.get(path, params={"team": team}), 403)
    with server.client("spo-x", "spo", teams=("OTHER",)) as other_spo:
        b.assert_problem(other_spo.get(path, params={"team": team}), 403)
        own = other_spo.get(path, params={"pdu": team})  # their own teams within the PDU
        assert own.status_code == 200, own.text
        assert own.json()["scope"]["teams"] == ["OTHER"]
    with server.client("sfo-1", "sfo_reviewer") as reviewer:
        b.assert_problem(reviewer.get(path), 403)
    with server.client("aud-1", "auditor") as auditor:
        assert auditor.get(path, params={"team": team}).status_code == 200
        b.assert_problem(auditor.get(path, params={"from": "2026-02-01", "to": "2026-01-01"}), 400)
