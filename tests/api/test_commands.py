"""Every command of docs/api.md over HTTP: 201 {case_id, version, position}, ETag, its event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.api import builders as b
from tests.api.builders import T1, T2
from tests.support import LiveServer, ensure_staff


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with b.shared_sqlite_server(tmp_path_factory.mktemp("commands")) as live:
        yield live


def _expected_data(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The event data a command body should produce: its fields (not occurred_at) and extras."""
    return {**{k: v for k, v in body.items() if k != "occurred_at"}, **extra}


def _assert_event(
    event: dict[str, Any], *, version: int, type_: str, data: dict[str, Any], actor: str
) -> None:
    assert event["version"] == version, event
    assert event["type"] == type_, event
    assert event["actor_id"] == actor, event
    UUID(event["command_id"])
    datetime.fromisoformat(event["recorded_at"])
    datetime.fromisoformat(event["occurred_at"])
    assert b.same(event["data"], data), f"{type_} data {event['data']} lacks {data}"


def test_licence_case_from_opening_to_correction_after_termination(server: LiveServer) -> None:
    """One case carried through every command of docs/api.md, by the roles that may send them."""
    ensure_staff(server.container.app, "po1", T1)
    po1 = server.client("po1", "practitioner", teams=(T1,))
    spo1 = server.client("spo1", "spo", teams=(T1,))
    po2 = server.client("po2", "practitioner", teams=(T2,))
    with po1, spo1, po2:
        opened = po1.post("/cases", json=b.licence_body())
        assert opened.status_code == 201, opened.text
        assert opened.headers["etag"] == '"1"'
        case_id = opened.json()["case_id"]
        assert opened.headers["location"] == f"/cases/{case_id}"
        assert opened.json()["version"] == 1
        case = f"/cases/{case_id}"

        # (client, path, body, event type, extra data the path carries)
        steps: list[tuple[httpx.Client, str, dict[str, Any], str, dict[str, Any]]] = [
            (po1, "/court-reports", b.court_report(), "CourtReportPrepared", {}),
            (po1, "/allocations", b.allocation("po1"), "Allocated", {}),
            (po1, "/enquiries", b.enquiry("enq-1"), "EnquiryRequested", {}),
            (
                po1,
                "/enquiries/enq-1/responses",
                b.enquiry_response(),
                "EnquiryResponded",
                {"enquiry_id": "enq-1"},
            ),
            (po1, "/inductions", b.induction(), "InductionCompleted", {}),
            (po1, "/risk-assessments", b.risk_assessment(), "RiskAssessed", {}),
            (po1, "/registrations", b.registration("ADVP"), "RegistrationAdded", {}),
            (
                po1,
                "/registrations/ADVP/removal",
                b.registration_removal(),
                "RegistrationRemoved",
                {"code": "ADVP"},
            ),
            (po1, "/mappa", b.mappa(), "MappaLevelSet", {}),
            (po1, "/sentence-plans", b.sentence_plan(), "SentencePlanAgreed", {}),
            (po1, "/appointments", b.appointment("a1"), "AppointmentScheduled", {}),
            (
                po1,
                "/appointments/a1/outcome",
                b.outcome("UAAB", notes="no show, no contact"),
                "AppointmentOutcomeRecorded",
                {"appointment_id": "a1"},
            ),
            (
                po1,
                "/appointments",
                b.appointment("a2", type="CHVS", starts_at=b.at(14, 10)),
                "AppointmentScheduled",
                {},
            ),
            (
                po1,
                "/appointments/a2/outcome",
                b.outcome("ATTC", occurred_at=b.at(14, 11)),
                "AppointmentOutcomeRecorded",
                {"appointment_id": "a2"},
            ),
            (po1, "/enforcement-actions", b.enforcement("EA11"), "EnforcementActionTaken", {}),
            (spo1, "/recall-decisions", b.recall_decision(), "RecallDecided", {}),
            (po1, "/referrals", b.referral("r1"), "ReferralMade", {}),
            (
                po1,
                "/referrals/r1/outcome",
                b.referral_outcome("started"),
                "ReferralOutcomeRecorded",
                {"referral_id": "r1"},
            ),
            (po1, "/unpaid-work-sessions", b.unpaid_work(), "UnpaidWorkSessionRecorded", {}),
            (po1, "/significant-events", b.significant_event(), "SignificantEventReported", {}),
            (po1, "/risk-reviews", b.risk_review(rosh=None), "RiskReviewCompleted", {}),
            (spo1, "/oversight", b.oversight(), "OversightRecorded", {}),
            (
                spo1,
                "/sfo-notifications",
                b.sfo_notification(occurred_at=b.at(20)),
                "SeriousFurtherOffenceNotified",
                {},
            ),
            (spo1, "/transfers", b.transfer(T2), "Transferred", {}),
            # From here the case is team T2's: T2's practitioner ends it and corrects it.
            (po2, "/termination", b.termination(), "Terminated", {}),
            (
                po2,
                "/corrections",
                b.correction(2, {"proposal": "suspended sentence order"}),
                "Corrected",
                {},
            ),
        ]
        written: list[tuple[int, dict[str, Any]]] = []
        last_position = opened.json()["position"]
        for version, (client, path, body, _, _) in enumerate(steps, start=2):
            result = b.command(client, case + path, body)
            assert result["case_id"] == case_id
            assert result["version"] == version, (path, result)
            assert result["position"] > last_position, (path, result)
            last_position = result["position"]
            written.append((version, body))

        history = b.events(po2, case_id)
        assert [e["version"] for e in history] == list(range(1, len(steps) + 2))
        _assert_event(
            history[0],
            version=1,
            type_="Opened",
            data=_expected_data(b.licence_body()),
            actor="po1",
        )
        for (version, body), (client, _, _, type_, extra) in zip(written, steps, strict=True):
            event = history[version - 1]
            actor = {id(po1): "po1", id(spo1): "spo1", id(po2): "po2"}[id(client)]
            _assert_event(
                event,
                version=version,
                type_=type_,
                data=_expected_data(body, **extra),
                actor=actor,
            )
            if "occurred_at" in body:
                assert b.same(event["occurred_at"], body["occurred_at"]), event
        assert len({e["command_id"] for e in history}) == len(history)

        current = po2.get(case)
        assert current.status_code == 200, current.text
        assert current.headers["etag"] == f'"{len(history)}"'
        state = current.json()
        assert state["status"] == "terminated"
        assert state["team"] == T2
        assert state["pdu"] == "LDS"
        assert state["sentence_type"] == "licence"
        assert state["practitioner_id"] == "po1"
        assert state["rosh"] == "high"
        assert state["registrations"] == {}
        assert state["mappa"]["category"] == 2
        assert state["appointments"]["a1"]["outcome"] == "UAAB"
        assert state["appointments"]["a2"]["outcome"] == "ATTC"
        assert state["enquiries"]["enq-1"]["response"]["concerns"] is True
        assert state["referrals"]["r1"]["outcome"] == "started"
        assert [d["decision"] for d in state["recall_decisions"]] == ["fixed_term"]
        assert [a["action"] for a in state["enforcement_actions"]] == ["EA11"]
        assert state["court_reports"][0]["proposal"] == "suspended sentence order"
        assert state["corrected_by"] == {"2": len(history)}
        assert state["transfers"][0]["from_team"] == T1


def test_risk_review_triggered_by_a_significant_event_records_its_version(
    api: LiveServer,
) -> None:
    with api.client("po1", "practitioner", teams=(T1,)) as po1:
        case_id = b.open_case(po1)
        reported = b.command(po1, f"/cases/{case_id}/significant-events", b.significant_event())
        trigger = reported["version"]
        reviewed = b.command(po1, f"/cases/{case_id}/risk-reviews", b.risk_review(trigger))
        scheduled = b.command(
            po1, f"/cases/{case_id}/risk-reviews", b.risk_review("scheduled", rosh=None)
        )
        history = b.events(po1, case_id)
        review = history[reviewed["version"] - 1]
        assert review["type"] == "RiskReviewCompleted"
        assert review["data"]["significant_event_version"] == trigger
        assert review["data"]["rosh"] == "very_high"
        assert review["data"]["plan_changed"] is True
        assert history[scheduled["version"] - 1]["data"]["significant_event_version"] is None
        state = po1.get(f"/cases/{case_id}").json()
        assert state["rosh"] == "very_high"
        assert len(state["risk_reviews"]) == 2


def test_breach_request_applies_to_a_community_order(api: LiveServer) -> None:
    with api.client("po1", "practitioner", teams=(T1,)) as po1:
        case_id = b.open_case(po1)
        case = f"/cases/{case_id}"
        for appointment_id, day in (("a1", 12), ("a2", 13)):
            b.command(po1, case + "/appointments", b.appointment(appointment_id))
            b.command(
                po1,
                f"{case}/appointments/{appointment_id}/outcome",
                b.outcome("UAAB", occurred_at=b.at(day, 11)),
            )
        result = b.command(po1, case + "/enforcement-actions", b.enforcement("BRE", ("a1", "a2")))
        event = b.events(po1, case_id)[result["version"] - 1]
        assert event["type"] == "EnforcementActionTaken"
        assert event["data"]["action"] == "BRE"
        assert event["data"]["appointment_ids"] == ["a1", "a2"]


def test_occurred_at_defaults_to_the_time_of_recording(api: LiveServer) -> None:
    with api.client("po1", "practitioner", teams=(T1,)) as po1:
        case_id = b.open_case(po1)
        before = datetime.now(UTC)
        result = b.command(po1, f"/cases/{case_id}/inductions", {})
        event = b.events(po1, case_id)[result["version"] - 1]
        occurred = datetime.fromisoformat(event["occurred_at"])
        recorded = datetime.fromisoformat(event["recorded_at"])
        assert abs(occurred - recorded) < timedelta(seconds=5)
        assert before - timedelta(seconds=5) <= occurred <= datetime.now(UTC) + timedelta(seconds=5)


def test_each_case_has_its_own_versions_and_positions_keep_rising(
    api: LiveServer,
) -> None:
    with api.client("po1", "practitioner", teams=(T1,)) as po1:
        first = po1.post("/cases", json=b.open_body()).json()
        second = po1.post("/cases", json=b.open_body(crn="Y000001")).json()
        assert first["case_id"] != second["case_id"]
        assert first["version"] == second["version"] == 1
        third = b.command(po1, f"/cases/{first['case_id']}/inductions", b.induction())
        assert third["version"] == 2
        assert first["position"] < second["position"] < third["position"]


def test_staff_registration_answers_201_and_can_be_read_back(api: LiveServer) -> None:
    with api.client("admin1", "admin") as admin:
        response = admin.post("/staff", json=b.staff("po7", grade="PQIP", capacity=25))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["staff_id"] == "po7"
        assert body["version"] == 1
        assert body["position"] >= 1
        assert response.headers["location"] == "/staff/po7"
        assert response.headers["etag"] == '"1"'
        read = admin.get("/staff/po7")
        assert read.status_code == 200, read.text
        assert read.json() == {
            "staff_id": "po7",
            "name": "Pat Officer",
            "grade": "PQIP",
            "team": T1,
            "pdu": "SHF",
            "capacity": 25,
            "training": ["domestic_abuse"],
            "ethnic_group": "not_stated",
            "sex": "not_stated",
            "training_records": [],
            "erased_at": None,
            "version": 1,
        }
