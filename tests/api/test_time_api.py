"""The time views over real HTTP: a case's oversight history, its place in the SFO exports,
and the SPO's queue as it stood at an earlier moment.

The server reads a fixed clock (Monday 2 March 2026) for "now"; commands are backdated into
January 2026; recording times are the real clock's, so "as known at" moments are taken
between commands.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.bootstrap import build
from tests.api import builders as b
from tests.support import LiveServer, make_settings

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


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
    tmp: Path = tmp_path_factory.mktemp("time-api")
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    url = pg.create_database() if pg is not None else f"sqlite:///{tmp}/casetrail.db"
    live = LiveServer(build(make_settings(url, tmp, embedded_projections=True), clock=lambda: NOW))
    live.start()
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
    with server.client(f"spo-{team}", "spo", teams=(team,)) as client:
        yield client


def a_moment() -> str:
    """The real time now, strictly between the commands before and after it."""
    time.sleep(0.01)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    return moment


def history(client: httpx.Client, case_id: str) -> dict[str, Any]:
    response = client.get(f"/cases/{case_id}/oversight-history")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_history_shows_a_late_backdated_induction_and_the_plan_item_still_open(
    spo: httpx.Client, team: str
) -> None:
    case_id = b.open_case(spo, crn="X200001", team=team, pdu=team, offence_flags=[])
    inducted = b.command(spo, f"/cases/{case_id}/inductions", b.induction(occurred_at=b.at(14)))

    body = history(spo, case_id)

    assert body["crn"] == "X200001"
    assert b.same(body["as_of"], NOW.isoformat())
    items = {item["reason"]: item for item in body["items"]}
    assert set(items) == {"induction_overdue", "sentence_plan_overdue"}
    induction = items["induction_overdue"]
    assert b.same(induction["due_at"], "2026-01-13T00:00:00+00:00")
    assert induction["open"] is False
    assert induction["closed_by_version"] == inducted["version"]
    assert b.same(induction["closed_at"], b.at(14))  # when it happened ...
    recorded = datetime.fromisoformat(induction["closed_recorded_at"])
    assert recorded > NOW  # ... and when it was recorded (the real clock, well after)
    assert float(induction["overdue_days"]) == 1.375
    plan = items["sentence_plan_overdue"]
    assert plan["open"] is True
    assert plan["opened_by_version"] == inducted["version"]
    assert plan["closed_at"] is None
    assert b.same(plan["due_at"], "2026-02-05T00:00:00+00:00")  # end of 4 February
    assert float(plan["overdue_days"]) == 25.5  # still open on 2 March at noon


def test_history_read_again_follows_the_cases_new_events(spo: httpx.Client, team: str) -> None:
    """A history is kept per case version: reading it again after a new event gives the
    item the event closed, not the one kept."""
    case_id = b.open_case(spo, crn="X200009", team=team, pdu=team, offence_flags=[])
    first = history(spo, case_id)
    assert history(spo, case_id) == first  # read again: the same version, the same items
    assert [(i["reason"], i["open"]) for i in first["items"]] == [("induction_overdue", True)]

    inducted = b.command(spo, f"/cases/{case_id}/inductions", b.induction(occurred_at=b.at(7)))

    again = history(spo, case_id)
    assert again["version"] == inducted["version"] == first["version"] + 1
    items = {item["reason"]: item for item in again["items"]}
    assert items["induction_overdue"]["closed_by_version"] == inducted["version"]
    assert items["sentence_plan_overdue"]["open"] is True


def test_history_names_the_correction_that_moved_a_closing_event(
    spo: httpx.Client, team: str
) -> None:
    case_id = b.open_case(spo, crn="X200002", team=team, pdu=team, offence_flags=[])
    inducted = b.command(spo, f"/cases/{case_id}/inductions", b.induction(occurred_at=b.at(8)))
    correction = b.command(
        spo,
        f"/cases/{case_id}/corrections",
        b.correction(inducted["version"], {"occurred_at": b.at(15)}),
    )

    items = history(spo, case_id)["items"]

    [induction] = [i for i in items if i["reason"] == "induction_overdue"]
    assert induction["closed_by_version"] == inducted["version"]
    assert induction["closing_corrected_by"] == correction["version"]
    assert b.same(induction["closed_at"], b.at(15))
    assert float(induction["overdue_days"]) > 2
    plans = [i for i in items if i["reason"] == "sentence_plan_overdue"]
    assert [(p["opened_by_version"], p["closed_by_version"]) for p in plans] == [
        (inducted["version"], correction["version"]),
        (correction["version"], None),
    ]


def test_history_of_an_unknown_case_is_a_problem(spo: httpx.Client) -> None:
    b.assert_problem(spo.get(f"/cases/{uuid4()}/oversight-history"), 404, "not-found")
    b.assert_problem(spo.get("/cases/nope/oversight-history"), 422)


def test_the_sfo_exports_carry_the_oversight_history(server: LiveServer, team: str) -> None:
    with server.client(f"spo-{team}", "spo", teams=(team,)) as spo:
        case_id = b.open_case(spo, crn="X200003", team=team, pdu=team, offence_flags=[])
    with server.client("sfo-1", "sfo_reviewer") as reviewer:
        url = f"/cases/{case_id}/timeline"
        exported = reviewer.get(url, params={"format": "csv"})
        annex = reviewer.get(url, params={"format": "html"})
        plain = reviewer.get(url).json()

    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    [item] = [row for row in rows if row["type"] == "OversightItem"]
    assert "induction_overdue" in item["summary"]
    assert "still open" in item["summary"]
    assert item["version"] == "1"
    assert annex.status_code == 200, annex.text
    assert "<h2>Oversight items</h2>" in annex.text
    assert "induction_overdue" in annex.text
    assert all(i["type"] != "OversightItem" for i in plain["items"])  # JSON: events only


def test_the_queue_as_known_at_a_moment_reads_what_was_recorded_by_then(
    spo: httpx.Client, team: str
) -> None:
    first = b.open_case(spo, crn="X200004", team=team, pdu=team, offence_flags=[])
    before_second = a_moment()
    b.open_case(spo, crn="X200005", team=team, pdu=team, offence_flags=[])
    before_induction = a_moment()
    b.command(spo, f"/cases/{first}/inductions", b.induction(occurred_at=b.at(6)))
    result = b.command(spo, f"/cases/{first}/transfers", b.transfer(team="ELSEWHERE"))
    before_opening = "2020-01-01T00:00:00+00:00"

    def queue(moment: str) -> list[tuple[str, str, bool]]:
        response = spo.get(
            "/oversight",
            params={"team": team, "as_known_at": moment, "min_position": result["position"]},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert b.same(body["as_of"], moment)
        return sorted((i["crn"], i["reason"], i["overdue"]) for i in body["items"])

    assert queue(before_opening) == []
    assert queue(before_second) == [("X200004", "induction_overdue", True)]
    assert queue(before_induction) == [
        ("X200004", "induction_overdue", True),
        ("X200005", "induction_overdue", True),
    ]
    # Now the first case is inducted and in another team: only the second is left.
    assert queue(a_moment()) == [("X200005", "induction_overdue", True)]
    live = spo.get("/oversight", params={"team": team}).json()["items"]
    assert [(i["crn"], i["reason"]) for i in live] == [("X200005", "induction_overdue")]


def test_the_past_queue_pages_and_refuses_bad_input(spo: httpx.Client, team: str) -> None:
    for crn in ("X200006", "X200007"):
        b.open_case(spo, crn=crn, team=team, pdu=team, offence_flags=[])
    moment = a_moment()
    position = b.store_position(spo)
    params: dict[str, Any] = {
        "team": team,
        "as_known_at": moment,
        "limit": 1,
        "min_position": position,
    }

    first = spo.get("/oversight", params=params).json()
    second = spo.get("/oversight", params={**params, "cursor": first["next"]}).json()

    assert len(first["items"]) == len(second["items"]) == 1
    assert {first["items"][0]["crn"], second["items"][0]["crn"]} == {"X200006", "X200007"}
    assert second["next"] is None
    b.assert_problem(spo.get("/oversight", params={**params, "cursor": "nope"}), 400)
    naive = spo.get("/oversight", params={"team": team, "as_known_at": "2026-01-01T00:00:00"})
    b.assert_problem(naive, 422)


def test_trends_by_month_as_json_and_csv(server: LiveServer, spo: httpx.Client, team: str) -> None:
    late = b.open_case(spo, crn="X200008", team=team, pdu=team, offence_flags=[])
    b.open_case(spo, crn="X200009", team=team, pdu=team, offence_flags=[])
    result = b.command(spo, f"/cases/{late}/inductions", b.induction(occurred_at=b.at(3, month=2)))
    params = {
        "team": team,
        "measure": "induction_on_time",
        "from": "2025-12",
        "to": "2026-03",
        "min_position": result["position"],
    }

    response = spo.get("/trends", params=params)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["measure"] == "induction_on_time"
    assert "5 business days" in body["definition"]
    # December: no case yet; January: both overdue and not inducted; from February one of
    # them inducted, late.
    assert [(i["month"], i["numerator"], i["denominator"], i["rate"]) for i in body["items"]] == [
        ("2025-12", 0, 0, None),
        ("2026-01", 0, 2, 0.0),
        ("2026-02", 0, 2, 0.0),
        ("2026-03", 0, 2, 0.0),
    ]
    now = spo.get("/compliance", params={"team": team}).json()["rates"]["induction_on_time"]
    last = body["items"][-1]  # March 2026 is not over: its figure is the current one
    assert (last["numerator"], last["denominator"]) == (now["numerator"], now["denominator"])
    exported = spo.get("/trends", params={**params, "format": "csv"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[:3] == [
        "month,numerator,denominator,rate",
        "2025-12,0,0,",
        "2026-01,0,2,0.0",
    ]
    default = spo.get("/trends", params={"team": team, "measure": "2.2c"}).json()
    assert [i["month"] for i in default["items"]][-1] == "2026-03"  # the server's month
    assert len(default["items"]) == 12


def test_trends_refuse_bad_input(server: LiveServer, spo: httpx.Client, team: str) -> None:
    def trends(**params: str) -> httpx.Response:
        return spo.get("/trends", params={"team": team, "measure": "attendance", **params})

    b.assert_problem(trends(measure="nope"), 400, "unknown-measure")
    b.assert_problem(trends(**{"from": "2026-03", "to": "2026-01"}), 400, "bad-range")
    b.assert_problem(trends(**{"from": "2010-01", "to": "2026-01"}), 400, "bad-range")
    b.assert_problem(trends(**{"from": "2026-13"}), 422)
    b.assert_problem(trends(**{"from": "0000-01"}), 400, "bad-range")
    b.assert_problem(trends(**{"from": "2026-03", "to": "2026-04"}), 400, "bad-range")
    with server.client("po-1", "practitioner", teams=(team,)) as practitioner:
        b.assert_problem(practitioner.get("/trends", params={"measure": "attendance"}), 403)
    with server.client("spo-x", "spo", teams=("OTHER",)) as other:
        b.assert_problem(other.get("/trends", params={"team": team, "measure": "attendance"}), 403)
