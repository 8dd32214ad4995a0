"""Errors as a frontend meets them: RFC 9457 problem+json, the right status, and never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.api import builders as b
from tests.api.builders import T1
from tests.support import LiveServer


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with b.shared_sqlite_server(tmp_path_factory.mktemp("errors")) as live:
        yield live


@pytest.fixture
def po1(api: LiveServer) -> Iterator[httpx.Client]:
    with api.client("po1", "practitioner", teams=(T1,)) as client:
        yield client


@pytest.fixture
def case_id(po1: httpx.Client) -> str:
    return b.open_case(po1)


# -- 400: malformed JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"crn": "X123456", ', id="truncated"),
        pytest.param(b'{"crn": "X123456",}', id="trailing-comma"),
        pytest.param(b"{'crn': 'X123456'}", id="single-quotes"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
    ],
)
def test_malformed_json_is_400(po1: httpx.Client, raw: bytes) -> None:
    response = po1.post("/cases", content=raw, headers={"Content-Type": "application/json"})
    b.assert_problem(response, 400, "malformed-json")


def test_malformed_json_on_a_case_command_is_400(po1: httpx.Client, case_id: str) -> None:
    response = po1.post(
        f"/cases/{case_id}/appointments",
        content=b'{"appointment_id": "a1", "type": COAP}',
        headers={"Content-Type": "application/json"},
    )
    b.assert_problem(response, 400, "malformed-json")
    assert b.event_count(po1, case_id) == 1


# -- 422: wrong types, unknown codes, unknown fields ------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param(
            "/court-reports",
            b.court_report(enquiries={"police_domestic_abuse": "yes", "childrens_services": False}),
            "enquiries.police_domestic_abuse",
            id="string-for-nested-bool",
        ),
        pytest.param(
            "/allocations",
            b.allocation(training_considered="true"),
            "training_considered",
            id="string-for-bool",
        ),
        pytest.param(
            "/allocations",
            {**b.allocation(), "practitioner_id": 42},
            "practitioner_id",
            id="int-for-string",
        ),
        pytest.param("/mappa", b.mappa(category="2"), "category", id="string-for-int"),
        pytest.param("/mappa", b.mappa(level=True), "level", id="bool-for-int"),
        pytest.param("/mappa", b.mappa(category=5), "category", id="int-out-of-range"),
        pytest.param(
            "/appointments", b.appointment(type="XXXX"), "type", id="unknown-appointment-type"
        ),
        pytest.param(
            "/appointments",
            b.appointment(starts_at="2026-01-12T10:00:00"),
            "starts_at",
            id="time-without-offset",
        ),
        pytest.param(
            "/enforcement-actions", b.enforcement("EA99"), "action", id="unknown-enforcement"
        ),
        pytest.param(
            "/risk-assessments", b.risk_assessment(rosh="extreme"), "rosh", id="unknown-rosh"
        ),
        pytest.param(
            "/risk-assessments", b.risk_assessment(needs=["XYZ"]), "needs.0", id="unknown-need"
        ),
        pytest.param(
            "/referrals", b.referral(service="yoga"), "service", id="unknown-referral-service"
        ),
        pytest.param(
            "/significant-events",
            b.significant_event(kind="picnic"),
            "kind",
            id="unknown-significant-event-kind",
        ),
        pytest.param("/termination", b.termination(reason="bored"), "reason", id="unknown-reason"),
        pytest.param("/inductions", {"bogus": 1}, "bogus", id="unknown-field"),
        pytest.param(
            "/court-reports",
            b.court_report(
                enquiries={"police_domestic_abuse": True, "childrens_services": True, "x": 1}
            ),
            "enquiries.x",
            id="unknown-nested-field",
        ),
        pytest.param(
            "/unpaid-work-sessions", b.unpaid_work(attended=None), "attended", id="null-required"
        ),
        pytest.param("/oversight", b.oversight(occurred_at="yesterday"), "occurred_at", id="date"),
    ],
)
def test_invalid_command_body_is_422_naming_the_field(
    po1: httpx.Client, case_id: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = po1.post(f"/cases/{case_id}{path}", json=body)
    b.assert_problem(response, 422, "validation")
    assert field in b.error_fields(response)
    assert b.event_count(po1, case_id) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"crn": 123456}, "crn", id="int-for-string"),
        pytest.param({"crn": "x123456"}, "crn", id="crn-pattern"),
        pytest.param({"sentence_type": "borstal"}, "sentence_type", id="unknown-sentence-type"),
        pytest.param({"offence_flags": ["arson"]}, "offence_flags.0", id="unknown-offence-flag"),
        pytest.param({"start_date": "2026-02-30"}, "start_date", id="impossible-date"),
        pytest.param(
            {"person": {"name": "Jo", "date_of_birth": "1990-01-02", "nickname": "J"}},
            "person.nickname",
            id="unknown-nested-field",
        ),
        pytest.param({"person": {"name": 7, "date_of_birth": "1990-01-02"}}, "person.name", id="p"),
        pytest.param({"pdu": None}, "pdu", id="null-required"),
        pytest.param({"colour": "blue"}, "colour", id="unknown-field"),
    ],
)
def test_invalid_open_case_body_is_422_naming_the_field(
    po1: httpx.Client, overrides: dict[str, Any], field: str
) -> None:
    response = po1.post("/cases", json=b.open_body(**overrides))
    b.assert_problem(response, 422, "validation")
    assert field in b.error_fields(response)


def test_unknown_registration_code_in_the_path_is_422(po1: httpx.Client, case_id: str) -> None:
    response = po1.post(f"/cases/{case_id}/registrations/NOPE/removal", json={})
    b.assert_problem(response, 422, "validation")
    assert "code" in b.error_fields(response)


def test_unknown_grade_for_staff_is_422(api: LiveServer) -> None:
    with api.client("admin1", "admin") as admin:
        response = admin.post("/staff", json=b.staff(grade="CEO"))
        b.assert_problem(response, 422, "validation")
        assert "grade" in b.error_fields(response)


# -- 404, 413 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("GET", "/events"),
        ("GET", "/state"),
        ("POST", "/inductions"),
        ("POST", "/corrections"),
    ],
)
def test_unknown_case_is_404(po1: httpx.Client, method: str, suffix: str) -> None:
    body = b.correction(1, {"proposal": "x"}) if suffix == "/corrections" else {}
    response = po1.request(
        method, f"/cases/{uuid4()}{suffix}", json=body if method == "POST" else None
    )
    b.assert_problem(response, 404, "not-found")


def test_unknown_staff_is_404(po1: httpx.Client) -> None:
    b.assert_problem(po1.get("/staff/nobody"), 404, "not-found")


def test_body_over_one_mebibyte_is_413(po1: httpx.Client, case_id: str) -> None:
    body = b.sentence_plan(contingency_plan="x" * (1024 * 1024))
    response = po1.post(f"/cases/{case_id}/sentence-plans", json=body)
    b.assert_problem(response, 413, "payload-too-large")
    assert b.event_count(po1, case_id) == 1


def test_body_of_many_mebibytes_is_413_without_dropping_the_connection(po1: httpx.Client) -> None:
    content = json.dumps(b.open_body(crn="X" + "1" * 6 * 1024 * 1024)).encode()
    response = po1.post("/cases", content=content, headers={"Content-Type": "application/json"})
    b.assert_problem(response, 413, "payload-too-large")


# -- 409: domain rules ----------------------------------------------------------------------


def test_recall_decision_on_a_community_order_is_409_wrong_sentence_type(
    api: LiveServer, case_id: str, po1: httpx.Client
) -> None:
    with api.client("spo1", "spo", teams=(T1,)) as spo1:
        response = spo1.post(f"/cases/{case_id}/recall-decisions", json=b.recall_decision())
        b.assert_problem(response, 409, "wrong-sentence-type")
    assert b.event_count(po1, case_id) == 1


def test_recall_request_ea11_on_a_community_order_is_409(po1: httpx.Client, case_id: str) -> None:
    b.command(po1, f"/cases/{case_id}/appointments", b.appointment("a1"))
    b.command(po1, f"/cases/{case_id}/appointments/a1/outcome", b.outcome("UAAB"))
    response = po1.post(f"/cases/{case_id}/enforcement-actions", json=b.enforcement("EA11"))
    b.assert_problem(response, 409, "wrong-sentence-type")


def test_breach_request_on_a_licence_is_409(po1: httpx.Client) -> None:
    case_id = po1.post("/cases", json=b.licence_body()).json()["case_id"]
    b.command(po1, f"/cases/{case_id}/appointments", b.appointment("a1"))
    b.command(po1, f"/cases/{case_id}/appointments/a1/outcome", b.outcome("UAAB"))
    response = po1.post(f"/cases/{case_id}/enforcement-actions", json=b.enforcement("BRE"))
    b.assert_problem(response, 409, "wrong-sentence-type")


def test_enforcement_citing_an_attended_appointment_is_409(po1: httpx.Client, case_id: str) -> None:
    b.command(po1, f"/cases/{case_id}/appointments", b.appointment("a1"))
    b.command(po1, f"/cases/{case_id}/appointments/a1/outcome", b.outcome("ATTC"))
    response = po1.post(f"/cases/{case_id}/enforcement-actions", json=b.enforcement("EA02"))
    b.assert_problem(response, 409, "enforcement-without-failure")


@pytest.mark.parametrize(
    ("setup", "path", "body", "rule"),
    [
        pytest.param(
            [("/appointments", b.appointment("a1"))],
            "/appointments",
            b.appointment("a1"),
            "duplicate-id",
            id="duplicate-appointment",
        ),
        pytest.param(
            [("/appointments", b.appointment("a1")), ("/appointments/a1/outcome", b.outcome())],
            "/appointments/a1/outcome",
            b.outcome("UAAB"),
            "outcome-already-recorded",
            id="second-outcome",
        ),
        pytest.param([], "/appointments/zz/outcome", b.outcome(), "unknown-appointment", id="ua"),
        pytest.param(
            [], "/enquiries/zz/responses", b.enquiry_response(), "unknown-enquiry", id="ue"
        ),
        pytest.param(
            [("/enquiries", b.enquiry("e1")), ("/enquiries/e1/responses", b.enquiry_response())],
            "/enquiries/e1/responses",
            b.enquiry_response(),
            "enquiry-already-answered",
            id="second-response",
        ),
        pytest.param(
            [], "/registrations/ADVP/removal", {}, "registration-state", id="remove-inactive"
        ),
        pytest.param(
            [("/registrations", b.registration("RCCO"))],
            "/registrations",
            b.registration("RCCO"),
            "registration-state",
            id="add-active",
        ),
        pytest.param(
            [], "/referrals/zz/outcome", b.referral_outcome(), "unknown-referral", id="ur"
        ),
        pytest.param(
            [
                ("/referrals", b.referral("r1")),
                ("/referrals/r1/outcome", b.referral_outcome("completed")),
            ],
            "/referrals/r1/outcome",
            b.referral_outcome("started"),
            "referral-closed",
            id="referral-closed",
        ),
        pytest.param(
            [], "/corrections", b.correction(99, {"pdu": "X"}), "unknown-version", id="v99"
        ),
        pytest.param(
            [("/corrections", b.correction(1, {"crn": "X654321"}))],
            "/corrections",
            b.correction(2, {"reason": "x"}),
            "unknown-version",
            id="correct-a-correction",
        ),
        pytest.param(
            [],
            "/inductions",
            b.induction(occurred_at=b.at(4)),
            "occurred-before-opening",
            id="early",
        ),
    ],
)
def test_domain_rule_is_409_naming_the_rule(
    po1: httpx.Client,
    case_id: str,
    setup: list[tuple[str, dict[str, Any]]],
    path: str,
    body: dict[str, Any],
    rule: str,
) -> None:
    for setup_path, setup_body in setup:
        b.command(po1, f"/cases/{case_id}{setup_path}", setup_body)
    before = b.event_count(po1, case_id)
    response = po1.post(f"/cases/{case_id}{path}", json=body)
    b.assert_problem(response, 409, rule)
    assert b.event_count(po1, case_id) == before


def test_expected_end_before_start_is_refused(po1: httpx.Client) -> None:
    response = po1.post("/cases", json=b.open_body(expected_end_date="2025-12-31"))
    b.assert_problem(response, 422, "invalid-value")


def test_occurred_at_in_the_future_is_409(po1: httpx.Client, case_id: str) -> None:
    response = po1.post(f"/cases/{case_id}/inductions", json={"occurred_at": "2099-01-01T00:00Z"})
    b.assert_problem(response, 409, "occurred-in-future")


@pytest.mark.parametrize(
    ("who", "path", "body"),
    [
        ("po1", "/inductions", b.induction(occurred_at=b.at(23))),
        ("po1", "/appointments", b.appointment("a9", occurred_at=b.at(23))),
        ("po1", "/termination", b.termination(occurred_at=b.at(23))),
        ("spo1", "/oversight", b.oversight(occurred_at=b.at(23))),
        ("spo1", "/transfers", b.transfer(occurred_at=b.at(23))),
    ],
)
def test_after_termination_anything_but_a_correction_is_409_case_terminated(
    api: LiveServer,
    po1: httpx.Client,
    case_id: str,
    who: str,
    path: str,
    body: dict[str, Any],
) -> None:
    terminated = b.command(po1, f"/cases/{case_id}/termination", b.termination())
    roles = {"po1": "practitioner", "spo1": "spo"}
    with api.client(who, roles[who], teams=(T1,)) as client:
        response = client.post(f"/cases/{case_id}{path}", json=body)
        b.assert_problem(response, 409, "case-terminated")
    assert b.event_count(po1, case_id) == terminated["version"]
    corrected = b.command(
        po1,
        f"/cases/{case_id}/corrections",
        b.correction(terminated["version"], {"reason": "died"}),
    )
    assert corrected["version"] == terminated["version"] + 1


# -- 400: headers and query combinations ----------------------------------------------------


@pytest.mark.parametrize("if_match", ["abc", '"v1"', '"1", "2"', "-1", "1" * 13, ""])
def test_bad_if_match_is_400(po1: httpx.Client, case_id: str, if_match: str) -> None:
    response = po1.post(
        f"/cases/{case_id}/inductions", json=b.induction(), headers={"If-Match": if_match}
    )
    b.assert_problem(response, 400, "bad-if-match")
    assert b.event_count(po1, case_id) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"version": 1, "as_known_at": "2026-01-06T00:00:00Z"},
        {"version": 1, "as_of": "2026-01-06T00:00:00Z"},
        {"as_known_at": "2026-01-06T00:00:00Z", "as_of": "2026-01-06T00:00:00Z"},
        {"version": 1, "as_known_at": "2026-01-06T00:00:00Z", "as_of": "2026-01-06T00:00:00Z"},
    ],
)
def test_state_with_more_than_one_view_is_400(
    po1: httpx.Client, case_id: str, params: dict[str, Any]
) -> None:
    response = po1.get(f"/cases/{case_id}/state", params=params)
    b.assert_problem(response, 400)


def test_blank_idempotency_key_is_400(po1: httpx.Client, case_id: str) -> None:
    response = po1.post(
        f"/cases/{case_id}/inductions", json=b.induction(), headers={"Idempotency-Key": ""}
    )
    b.assert_problem(response, 400, "bad-idempotency-key")


# -- never a 500 ----------------------------------------------------------------------------

Probe = tuple[str, str, str, dict[str, Any]]


def _p(description: str, method: str, path: str, **kwargs: Any) -> Probe:
    return description, method, path, kwargs


def _garbage(case_id: str) -> list[Probe]:
    """(description, method, path, httpx keyword arguments): inputs no frontend should send."""
    case = f"/cases/{case_id}"
    raw = {"Content-Type": "application/json"}
    deep = b"[" * 50_000 + b"]" * 50_000
    return [
        _p("huge int", "POST", case + "/mappa", json=b.mappa(category=10**40)),
        _p("huge level", "POST", case + "/mappa", json=b.mappa(level=-(10**40))),
        _p("huge capacity", "POST", "/staff", json=b.staff(capacity=10**40)),
        _p(
            "huge float hours",
            "POST",
            case + "/unpaid-work-sessions",
            json=b.unpaid_work(hours=1e308),
        ),
        _p(
            "infinite hours",
            "POST",
            case + "/unpaid-work-sessions",
            content=b'{"hours": Infinity, "attended": true}',
            headers=raw,
        ),
        _p(
            "NaN hours",
            "POST",
            case + "/unpaid-work-sessions",
            content=b'{"hours": NaN, "attended": true}',
            headers=raw,
        ),
        _p(
            "string NaN hours",
            "POST",
            case + "/unpaid-work-sessions",
            json=b.unpaid_work(hours="sNaN"),
        ),
        _p(
            "5000-digit int",
            "POST",
            case + "/mappa",
            content=b'{"category": ' + b"9" * 5000 + b', "level": 1}',
            headers=raw,
        ),
        _p(
            "huge corrects_version",
            "POST",
            case + "/corrections",
            json=b.correction(10**40, {"proposal": "x"}),
        ),
        _p("huge version query", "GET", case + "/state", params={"version": 10**40}),
        _p("huge limit", "GET", case + "/events", params={"limit": 10**40}),
        _p("negative limit", "GET", case + "/events", params={"limit": -1}),
        _p("zero version", "GET", case + "/state", params={"version": 0}),
        _p("year 1 as_of", "GET", case + "/state", params={"as_of": "0001-01-01T00:00:00+14:00"}),
        _p(
            "year 9999 as_known_at",
            "GET",
            case + "/state",
            params={"as_known_at": "9999-12-31T23:59:59-14:00"},
        ),
        _p("garbage as_of", "GET", case + "/state", params={"as_of": "the day before yesterday"}),
        _p(
            "year 1 occurred_at",
            "POST",
            case + "/inductions",
            json={"occurred_at": "0001-01-01T00:00:00+14:00"},
        ),
        _p(
            "year 9999 occurred_at",
            "POST",
            case + "/inductions",
            json={"occurred_at": "9999-12-31T23:59:59-14:00"},
        ),
        _p(
            "year 9999 starts_at",
            "POST",
            case + "/appointments",
            json=b.appointment("far", starts_at="9999-12-31T23:59:59-14:00"),
        ),
        _p(
            "13-digit If-Match",
            "POST",
            case + "/inductions",
            json={},
            headers={"If-Match": '"9999999999999"'},
        ),
        _p(
            "12-digit If-Match",
            "POST",
            case + "/inductions",
            json={},
            headers={"If-Match": '"999999999999"'},
        ),
        _p(
            "nested garbage person",
            "POST",
            "/cases",
            json=b.open_body(person={"name": [[{"a": {}}]], "date_of_birth": {"y": 1990}}),
        ),
        _p(
            "nested garbage everywhere",
            "POST",
            case + "/risk-assessments",
            json={
                "rosh": {"x": [None]},
                "rosh_by_group": [[]],
                "needs": {"a": 1},
                "sources": "police",
                "person_involved": [True],
            },
        ),
        _p(
            "nested garbage replacement",
            "POST",
            case + "/corrections",
            json=b.correction(1, {"person": [1, {"a": [None, {"b": {}}]}]}),
        ),
        _p(
            "unknown replacement field",
            "POST",
            case + "/corrections",
            json=b.correction(1, {"bogus": {"x": 1}}),
        ),
        _p("deeply nested array", "POST", case + "/inductions", content=deep, headers=raw),
        _p("null body", "POST", case + "/inductions", content=b"null", headers=raw),
        _p("list body", "POST", "/cases", json=[b.open_body()]),
        _p("string body", "POST", case + "/mappa", json="mappa"),
        _p("number body", "POST", case + "/mappa", json=3),
        _p("empty body", "POST", case + "/mappa", content=b"", headers=raw),
        _p(
            "text/plain body",
            "POST",
            case + "/mappa",
            content=b"category=2",
            headers={"Content-Type": "text/plain"},
        ),
        _p("all nulls", "POST", "/cases", json=dict.fromkeys(b.open_body())),
        _p(
            "null required",
            "POST",
            case + "/appointments",
            json={**b.appointment(), "appointment_id": None, "starts_at": None},
        ),
        _p("non-UUID case id", "GET", "/cases/not-a-uuid"),
        _p("non-UUID case id events", "GET", "/cases/12345/events"),
        _p("non-UUID case id command", "POST", "/cases/%00%ff/inductions", json={}),
        _p("SQL-ish case id", "GET", "/cases/' OR 1=1 --/state"),
        _p(
            "unicode text",
            "POST",
            case + "/significant-events",
            json=b.significant_event(details="Zoë ☃ 🙂 \u202eحسن\u0000 end"),
        ),
        _p(
            "unicode name",
            "POST",
            "/cases",
            json=b.open_body(
                person={"name": "Zoë 🙂 \u0000 \ud7ff", "date_of_birth": "1990-01-02"}
            ),
        ),
        _p(
            "lone surrogate",
            "POST",
            case + "/significant-events",
            content=b'{"kind": "arrest", "details": "\\ud800"}',
            headers=raw,
        ),
        _p(
            "unicode item id", "POST", case + "/appointments/%F0%9F%99%82/outcome", json=b.outcome()
        ),
        _p("unicode staff id", "GET", "/staff/%F0%9F%99%82"),
        _p("unicode registration code", "POST", case + "/registrations/%C3%85DVP/removal", json={}),
        _p(
            "unicode Idempotency-Key",
            "POST",
            case + "/inductions",
            json=b.induction(),
            headers={"Idempotency-Key": "clé-🙂".encode()},
        ),
        _p(
            "long Idempotency-Key",
            "POST",
            case + "/inductions",
            json=b.induction(),
            headers={"Idempotency-Key": "k" * 10_000},
        ),
        _p(
            "long item id",
            "POST",
            case + "/referrals/" + "r" * 5000 + "/outcome",
            json=b.referral_outcome(),
        ),
    ]


@pytest.fixture
def garbage_case(server: LiveServer) -> Iterator[tuple[LiveServer, str]]:
    with server.client("po1", "practitioner", teams=(T1,)) as client:
        yield server, b.open_case(client)


def test_garbage_input_never_answers_5xx(garbage_case: tuple[LiveServer, str]) -> None:
    server, case_id = garbage_case
    token = server.token("admin-po", "practitioner", "admin", teams=(T1,))
    failures = []
    for description, method, path, kwargs in _garbage(case_id):
        # A fresh connection for each probe: one bad answer must not break the next.
        headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        headers.update(kwargs.pop("headers", {}))
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            response = client.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{description}: {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400:
            b.assert_problem(response, response.status_code)
    # Whatever the garbage left behind (an appointment in year 9999, unicode text), the case
    # still reads.
    with server.client("po1", "practitioner", teams=(T1,)) as client:
        for suffix in ("", "/events", "/state"):
            response = client.get(f"/cases/{case_id}{suffix}")
            if response.status_code != 200:
                failures.append(f"read {suffix or '/'}: {response.status_code} {response.text}")
    assert not failures, "\n".join(failures)


# -- known bugs ------------------------------------------------------------------------------


def test_after_version_beyond_64_bits_is_not_a_server_error(
    po1: httpx.Client, case_id: str
) -> None:
    response = po1.get(f"/cases/{case_id}/events", params={"after_version": 2**63})
    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize(
    ("event", "replacement"),
    [
        pytest.param("sentence_type", {"sentence_type": "borstal"}, id="unknown-code-control"),
        pytest.param("crn", {"crn": 1234567}, id="wrong-type-control"),
        pytest.param(
            "mappa",
            {"category": 9},
            id="mappa-category-out-of-range",
        ),
        pytest.param(
            "hours",
            {"hours": "-5"},
            id="negative-hours",
        ),
        pytest.param(
            "hours",
            {"hours": "NaN"},
            id="nan-hours",
        ),
        pytest.param(
            "hours",
            {"hours": "sNaN"},
            id="signalling-nan-hours",
        ),
        pytest.param(
            "crn",
            {"crn": "not a CRN"},
            id="crn-pattern",
        ),
    ],
)
def test_correction_replacement_is_held_to_the_rules_of_the_original_command(
    po1: httpx.Client, case_id: str, event: str, replacement: dict[str, Any]
) -> None:
    case = f"/cases/{case_id}"
    target = {
        "mappa": lambda: b.command(po1, case + "/mappa", b.mappa())["version"],
        "hours": lambda: b.command(po1, case + "/unpaid-work-sessions", b.unpaid_work())["version"],
    }.get(event, lambda: 1)()
    before = b.event_count(po1, case_id)
    response = po1.post(case + "/corrections", json=b.correction(target, replacement))
    assert response.status_code in (409, 422), response.text
    b.assert_problem(response, response.status_code)
    assert b.event_count(po1, case_id) == before
