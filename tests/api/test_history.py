"""History reads: the event stream, and the case at a version, as known at or as of a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.api import builders as b
from tests.api.builders import T1
from tests.support import LiveServer, ensure_staff, live_server

EVENT_FIELDS = {"version", "type", "occurred_at", "recorded_at", "actor_id", "command_id", "data"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with b.shared_sqlite_server(tmp_path_factory.mktemp("history")) as live:
        yield live


@pytest.fixture
def po1(api: LiveServer) -> Iterator[httpx.Client]:
    ensure_staff(api.container.app, "po1", T1)
    with api.client("po1", "practitioner", teams=(T1,)) as client:
        yield client


def _busy_case(client: httpx.Client, appointments: int = 11) -> str:
    """A case with 1 + appointments events (Opened, then AppointmentScheduled each)."""
    case_id = b.open_case(client)
    for i in range(appointments):
        b.command(
            client,
            f"/cases/{case_id}/appointments",
            b.appointment(f"a{i}", occurred_at=b.at(6 + i)),
        )
    return case_id


def _state(client: httpx.Client, case_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/cases/{case_id}/state", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"case_id", "version", "state", "left_out"}
    assert body["case_id"] == case_id
    return body


def _left_out(view: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(x["version"], x["type"], x["reason"]) for x in view["left_out"]]


# -- the event stream -----------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 4, 5, 11, 12, 13, 500])
def test_pages_cover_every_event_once_in_version_order(po1: httpx.Client, limit: int) -> None:
    case_id = _busy_case(po1)
    pages: list[list[int]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after_version"] = after
        response = po1.get(f"/cases/{case_id}/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next"}
        versions = [e["version"] for e in page["items"]]
        assert 0 < len(versions) <= limit, page
        pages.append(versions)
        if page["next"] is None:
            break
        assert page["next"] == str(versions[-1])
        after = page["next"]
        assert len(pages) <= 12, "pagination does not end"
    assert [v for page in pages for v in page] == list(range(1, 13))
    assert len(pages) == -(-12 // limit)


def test_after_version_starts_after_that_version(po1: httpx.Client) -> None:
    case_id = _busy_case(po1, appointments=4)
    page = po1.get(f"/cases/{case_id}/events", params={"after_version": 3}).json()
    assert [e["version"] for e in page["items"]] == [4, 5]
    assert page["next"] is None
    past_the_end = po1.get(f"/cases/{case_id}/events", params={"after_version": 9}).json()
    assert past_the_end == {"items": [], "next": None}


def test_every_event_shows_its_metadata_and_data(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    b.command(po1, f"/cases/{case_id}/risk-assessments", b.risk_assessment())
    items = po1.get(f"/cases/{case_id}/events").json()["items"]
    assert [e["type"] for e in items] == ["Opened", "RiskAssessed"]
    for event in items:
        assert set(event) >= EVENT_FIELDS, event
        assert isinstance(event["version"], int)
        assert event["actor_id"] == "po1"
        UUID(event["command_id"])
        for field in ("occurred_at", "recorded_at"):
            assert datetime.fromisoformat(event[field]).tzinfo is not None, event[field]
        assert isinstance(event["data"], dict)
    assert items[0]["data"]["crn"] == "X123456"
    assert items[1]["data"]["rosh"] == "high"
    assert items[1]["data"]["needs"] == ["ACC", "ETE"]
    assert b.same(items[1]["occurred_at"], b.at(7))
    assert items[0]["recorded_at"] < items[1]["recorded_at"]


# -- the case at a version ------------------------------------------------------------------


def test_state_at_a_version_leaves_out_later_versions(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    b.command(po1, f"/cases/{case_id}/risk-assessments", b.risk_assessment(rosh="medium"))
    b.command(po1, f"/cases/{case_id}/mappa", b.mappa())
    b.command(po1, f"/cases/{case_id}/risk-assessments", b.risk_assessment(rosh="very_high"))

    at_two = _state(po1, case_id, version=2)

    assert at_two["version"] == 2
    assert at_two["state"]["rosh"] == "medium"
    assert at_two["state"]["mappa"] is None
    assert _left_out(at_two) == [
        (3, "MappaLevelSet", "after_version"),
        (4, "RiskAssessed", "after_version"),
    ]
    current = _state(po1, case_id)
    assert current["version"] == 4
    assert current["left_out"] == []
    assert current["state"]["rosh"] == "very_high"


def test_state_without_a_view_is_the_current_case(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    b.command(po1, f"/cases/{case_id}/allocations", b.allocation("po1"))
    b.command(po1, f"/cases/{case_id}/corrections", b.correction(2, {"practitioner_id": "po9"}))
    case = po1.get(f"/cases/{case_id}").json()
    view = _state(po1, case_id)
    assert view["version"] == case["version"] == 3
    assert view["state"] == {k: v for k, v in case.items() if k not in {"case_id", "version"}}
    assert case["practitioner_id"] == "po9"


# -- as known at a time ---------------------------------------------------------------------


def test_as_known_at_leaves_out_a_backdated_event_recorded_later(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    b.command(po1, f"/cases/{case_id}/appointments", b.appointment("a1", occurred_at=b.at(8)))
    # Recorded now, but it happened on the 7th, before the appointment was booked.
    late = b.command(
        po1, f"/cases/{case_id}/risk-assessments", b.risk_assessment(occurred_at=b.at(7))
    )
    history = b.events(po1, case_id)
    booked_recorded_at = history[1]["recorded_at"]
    assessed_recorded_at = history[2]["recorded_at"]
    assert booked_recorded_at < assessed_recorded_at

    known_then = _state(po1, case_id, as_known_at=booked_recorded_at)

    assert known_then["version"] == 2
    assert known_then["state"]["rosh"] is None
    assert "a1" in known_then["state"]["appointments"]
    assert _left_out(known_then) == [(late["version"], "RiskAssessed", "recorded_after")]

    known_later = _state(po1, case_id, as_known_at=assessed_recorded_at)
    assert known_later["version"] == 3
    assert known_later["state"]["rosh"] == "high"
    assert known_later["left_out"] == []


def test_as_known_at_before_anything_was_recorded_is_an_empty_case(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    view = _state(po1, case_id, as_known_at="2026-01-01T00:00:00+00:00")
    assert view["version"] == 0
    assert view["state"]["crn"] == ""
    assert _left_out(view) == [(1, "Opened", "recorded_after")]


def test_as_known_at_accepts_any_utc_offset(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    recorded = datetime.fromisoformat(b.events(po1, case_id)[0]["recorded_at"])
    same_instant_elsewhere = recorded.astimezone(
        datetime.fromisoformat("2026-01-01T00:00:00+05:30").tzinfo
    )
    view = _state(po1, case_id, as_known_at=same_instant_elsewhere.isoformat())
    assert view["version"] == 1
    assert view["left_out"] == []


# -- as of a time ---------------------------------------------------------------------------


def test_as_of_leaves_out_what_happened_later_and_includes_late_records(
    po1: httpx.Client,
) -> None:
    case_id = b.open_case(po1)
    b.command(po1, f"/cases/{case_id}/appointments", b.appointment("a1", occurred_at=b.at(8)))
    induction = b.command(po1, f"/cases/{case_id}/inductions", b.induction(occurred_at=b.at(20)))
    late = b.command(
        po1, f"/cases/{case_id}/risk-assessments", b.risk_assessment(occurred_at=b.at(9))
    )

    as_of = _state(po1, case_id, as_of=b.at(10))

    assert as_of["version"] == late["version"] == 4
    assert as_of["state"]["rosh"] == "high"
    assert as_of["state"]["inducted_at"] is None
    assert "a1" in as_of["state"]["appointments"]
    assert _left_out(as_of) == [(induction["version"], "InductionCompleted", "occurred_after")]

    everything = _state(po1, case_id, as_of=b.at(21))
    assert everything["left_out"] == []
    assert b.same(everything["state"]["inducted_at"], b.at(20))

    before_opening = _state(po1, case_id, as_of=b.at(4))
    assert before_opening["version"] == 0
    assert [x[0] for x in _left_out(before_opening)] == [1, 2, 3, 4]


def test_as_of_applies_corrections_and_shows_them_in_corrected_by(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    assessed = b.command(
        po1, f"/cases/{case_id}/risk-assessments", b.risk_assessment(occurred_at=b.at(7))
    )
    inducted = b.command(po1, f"/cases/{case_id}/inductions", b.induction(occurred_at=b.at(20)))
    rosh_fixed = b.command(
        po1,
        f"/cases/{case_id}/corrections",
        b.correction(assessed["version"], {"rosh": "medium"}),
    )

    view = _state(po1, case_id, as_of=b.at(10))

    assert view["state"]["rosh"] == "medium"
    assert view["state"]["corrected_by"] == {str(assessed["version"]): rosh_fixed["version"]}
    assert _left_out(view) == [(inducted["version"], "InductionCompleted", "occurred_after")]

    # Correcting when the induction happened moves it into the window.
    date_fixed = b.command(
        po1,
        f"/cases/{case_id}/corrections",
        b.correction(inducted["version"], {"occurred_at": b.at(9)}),
    )
    view = _state(po1, case_id, as_of=b.at(10))
    assert view["left_out"] == []
    assert b.same(view["state"]["inducted_at"], b.at(9))
    assert view["state"]["corrected_by"] == {
        str(assessed["version"]): rosh_fixed["version"],
        str(inducted["version"]): date_fixed["version"],
    }

    # The version view shows what was recorded before the correction.
    before_fix = _state(po1, case_id, version=assessed["version"])
    assert before_fix["state"]["rosh"] == "high"
    assert before_fix["state"]["corrected_by"] == {}


def test_a_second_correction_supersedes_the_first(po1: httpx.Client) -> None:
    case_id = b.open_case(po1)
    b.command(po1, f"/cases/{case_id}/mappa", b.mappa(category=1, level=1))
    b.command(po1, f"/cases/{case_id}/corrections", b.correction(2, {"level": 2}))
    last = b.command(po1, f"/cases/{case_id}/corrections", b.correction(2, {"level": 3}))
    case = po1.get(f"/cases/{case_id}").json()
    assert case["mappa"]["level"] == 3
    assert case["mappa"]["category"] == 1
    assert case["corrected_by"] == {"2": last["version"]}
    assert _state(po1, case_id, as_of=b.at(28))["state"]["mappa"]["level"] == 3


# -- snapshots do not change what a case reads as -------------------------------------------


def test_case_read_from_snapshots_equals_a_full_replay(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("snapshots")
    with (
        live_server(f"sqlite:///{tmp}/casetrail.db", tmp, snapshot_interval=3) as server,
        server.client("po1", "practitioner", teams=(T1,)) as po1,
    ):
        case_id = _busy_case(po1, appointments=5)
        case = f"/cases/{case_id}"
        b.command(po1, case + "/appointments/a0/outcome", b.outcome("UAAB"))
        b.command(po1, case + "/unpaid-work-sessions", b.unpaid_work(hours=2.25))
        b.command(po1, case + "/corrections", b.correction(2, {"starts_at": b.at(11, 15)}))
        b.command(po1, case + "/enforcement-actions", b.enforcement("EA02", ("a0",)))
        b.command(po1, case + "/risk-assessments", b.risk_assessment())
        current = po1.get(case).json()
        replayed = _state(po1, case_id)
        assert replayed["version"] == current["version"] == 11
        assert replayed["state"] == {
            k: v for k, v in current.items() if k not in {"case_id", "version"}
        }
        assert b.same(current["appointments"]["a0"]["starts_at"], b.at(11, 15))
        assert b.same(current["unpaid_work"]["hours"], 2.25)
