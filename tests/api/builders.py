"""Shared builders for the API tests: request bodies, a case opener, and response checks.

Everything here talks to the API the way a frontend would: JSON over real HTTP.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.support import LiveServer, live_server

PROBLEM_JSON = "application/problem+json"
PROBLEM_FIELDS = ("type", "title", "status", "detail", "instance")
T1, T2 = "T1", "T2"


def at(day: int, hour: int = 9, minute: int = 0, month: int = 1) -> str:
    """An RFC 3339 instant in 2026 (in the past for the server's real clock)."""
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+00:00"


OPENED_AT = at(5)


@contextmanager
def shared_sqlite_server(tmp: Path) -> Iterator[LiveServer]:
    """A live server on a fresh SQLite file, for a module's tests to share.

    Starting a server costs most of a test's time; tests that share one keep apart by
    opening their own cases and using their own staff ids and idempotency keys.
    """
    with live_server(f"sqlite:///{tmp}/casetrail.db", tmp) as live:
        yield live


def open_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /cases body (community order in team T1), with top-level overrides."""
    body: dict[str, Any] = {
        "crn": "X123456",
        "person": {
            "name": "Jo Bloggs",
            "date_of_birth": "1990-01-02",
            "gender": "female",
            "ethnicity": "White British",
        },
        "sentence_type": "community_order",
        "start_date": "2026-01-05",
        "expected_end_date": "2027-01-04",
        "pdu": "SHF",
        "team": T1,
        "requirements": {"unpaid_work_hours": 120, "rar_days": 20, "accredited_programme": None},
        "licence_conditions": [],
        "offence_flags": ["domestic_abuse"],
        "occurred_at": OPENED_AT,
    }
    body.update(copy.deepcopy(overrides))
    return body


def licence_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /cases body for a licence case (where recall and EA11 apply)."""
    values: dict[str, Any] = {
        "crn": "L654321",
        "sentence_type": "licence",
        "requirements": {},
        "licence_conditions": ["reside at approved premises", "no contact with victim"],
        **overrides,
    }
    return open_body(**values)


def open_case(client: httpx.Client, **overrides: Any) -> str:
    """Open a case through POST /cases and return its id."""
    response = client.post("/cases", json=open_body(**overrides))
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def command(
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a command, assert the 201 contract ({case_id, version, position} + ETag), return it."""
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, f"{path}: {response.status_code} {response.text}"
    result: dict[str, Any] = response.json()
    assert set(result) == {"case_id", "version", "position"}, result
    assert isinstance(result["version"], int)
    assert isinstance(result["position"], int)
    assert result["position"] >= 1
    assert response.headers["etag"] == f'"{result["version"]}"'
    return result


def events(client: httpx.Client, case_id: str, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Every event of a case, following the `next` cursor page by page."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit} if limit else {}
    while True:
        response = client.get(f"/cases/{case_id}/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next"] is None:
            return items
        params = {**params, "after_version": page["next"]}


def event_count(client: httpx.Client, case_id: str) -> int:
    return len(events(client, case_id))


def store_position(client: httpx.Client) -> int:
    """The event store's last notification id, from GET /ready (moves on every write)."""
    response = client.get("/ready")
    assert response.status_code == 200, response.text
    position: int = response.json()["store"]["position"]
    return position


def assert_problem(
    response: httpx.Response, status: int, type_suffix: str | None = None
) -> dict[str, Any]:
    """Assert an RFC 9457 problem answer with this status (and `type` ending in the code)."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    missing = [f for f in PROBLEM_FIELDS if f not in body]
    assert not missing, f"problem lacks {missing}: {body}"
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert "Traceback" not in response.text
    if type_suffix is not None:
        assert body["type"].endswith("/" + type_suffix), body["type"]
    return body


def error_fields(response: httpx.Response) -> set[str]:
    """The `field` names of a validation problem's `errors` list."""
    errors = response.json().get("errors")
    assert isinstance(errors, list), response.text
    assert errors, response.text
    for error in errors:
        assert {"field", "message"} <= set(error), error
    return {e["field"] for e in errors}


def same(actual: Any, expected: Any) -> bool:
    """Equal as JSON values, reading times, dates and decimals by value, not spelling."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and same(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, float | Decimal):
        return Decimal(str(actual)) == Decimal(str(expected))
    if isinstance(expected, str) and isinstance(actual, str) and actual != expected:
        for parse in (datetime.fromisoformat, date.fromisoformat):
            try:
                return bool(parse(actual) == parse(expected))
            except ValueError:
                continue
        return False
    return bool(actual == expected)


# -- command bodies (docs/api.md "Case commands"), each valid as given ---------------------


def court_report(**overrides: Any) -> dict[str, Any]:
    return {
        "report_type": "standard",
        "proposal": "community order with RAR",
        "enquiries": {"police_domestic_abuse": True, "childrens_services": False},
        "occurred_at": at(2),
        **overrides,
    }


def allocation(practitioner_id: str = "po1", **overrides: Any) -> dict[str, Any]:
    return {
        "practitioner_id": practitioner_id,
        "training_considered": True,
        "suitability_considered": True,
        "occurred_at": at(5, 10),
        **overrides,
    }


def enquiry(enquiry_id: str = "enq-1", **overrides: Any) -> dict[str, Any]:
    return {
        "enquiry_id": enquiry_id,
        "agency": "police_domestic_abuse",
        "stage": "assessment",
        "occurred_at": at(5, 11),
        **overrides,
    }


def enquiry_response(**overrides: Any) -> dict[str, Any]:
    return {
        "concerns": True,
        "summary": "two call-outs in 2025",
        "occurred_at": at(6),
        **overrides,
    }


def induction(**overrides: Any) -> dict[str, Any]:
    return {"occurred_at": at(6, 14), **overrides}


def risk_assessment(**overrides: Any) -> dict[str, Any]:
    return {
        "rosh": "high",
        "rosh_by_group": {"known_adult": "high", "children": "medium"},
        "needs": ["ACC", "ETE"],
        "sources": ["police", "childrens_services"],
        "person_involved": True,
        "occurred_at": at(7),
        **overrides,
    }


def registration(code: str = "ADVP", **overrides: Any) -> dict[str, Any]:
    return {"code": code, "occurred_at": at(7, 10), **overrides}


def registration_removal(**overrides: Any) -> dict[str, Any]:
    return {"reason": "registered in error", "occurred_at": at(7, 11), **overrides}


def mappa(**overrides: Any) -> dict[str, Any]:
    return {"category": 2, "level": 2, "occurred_at": at(7, 12), **overrides}


def sentence_plan(**overrides: Any) -> dict[str, Any]:
    return {
        "objectives": ["stay in work", "complete Building Better Relationships"],
        "person_involved": True,
        "contingency_plan": "increase contact if risk rises",
        "occurred_at": at(8),
        **overrides,
    }


def appointment(appointment_id: str = "a1", **overrides: Any) -> dict[str, Any]:
    return {
        "appointment_id": appointment_id,
        "type": "COAP",
        "starts_at": at(12, 10),
        "national_standard": True,
        "occurred_at": at(8, 10),
        **overrides,
    }


def outcome(code: str = "ATTC", **overrides: Any) -> dict[str, Any]:
    return {"outcome": code, "notes": "", "occurred_at": at(12, 11), **overrides}


def enforcement(
    action: str = "EA02", ids: tuple[str, ...] = ("a1",), **overrides: Any
) -> dict[str, Any]:
    return {
        "action": action,
        "appointment_ids": list(ids),
        "reason": "no contact",
        "occurred_at": at(13),
        **overrides,
    }


def recall_decision(**overrides: Any) -> dict[str, Any]:
    return {
        "decision": "fixed_term",
        "reasons": ["contact_stopped", "licence_condition_breached"],
        "occurred_at": at(13, 15),
        **overrides,
    }


def referral(referral_id: str = "r1", **overrides: Any) -> dict[str, Any]:
    return {
        "referral_id": referral_id,
        "service": "ETE",
        "need": "unemployed since 2024",
        "occurred_at": at(14),
        **overrides,
    }


def referral_outcome(code: str = "started", **overrides: Any) -> dict[str, Any]:
    return {"outcome": code, "occurred_at": at(15), **overrides}


def unpaid_work(**overrides: Any) -> dict[str, Any]:
    return {"hours": 3.5, "attended": True, "occurred_at": at(17), **overrides}


def significant_event(**overrides: Any) -> dict[str, Any]:
    return {"kind": "arrest", "details": "arrested for assault", "occurred_at": at(18), **overrides}


def risk_review(trigger: int | str = "scheduled", **overrides: Any) -> dict[str, Any]:
    return {
        "trigger": trigger,
        "informed_by_intelligence": True,
        "plan_changed": True,
        "rosh": "very_high",
        "occurred_at": at(19),
        **overrides,
    }


def oversight(**overrides: Any) -> dict[str, Any]:
    return {"kind": "risk", "note": "agree with the review", "occurred_at": at(19, 15), **overrides}


def sfo_notification(**overrides: Any) -> dict[str, Any]:
    return {"offence": "wounding with intent", "charged_on": "2026-01-20", **overrides}


def transfer(team: str = T2, **overrides: Any) -> dict[str, Any]:
    return {"team": team, "pdu": "LDS", "occurred_at": at(21), **overrides}


def termination(**overrides: Any) -> dict[str, Any]:
    return {"reason": "revoked", "occurred_at": at(22), **overrides}


def correction(
    corrects_version: int, replacement: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    return {
        "corrects_version": corrects_version,
        "reason": "recorded in error",
        "replacement": replacement,
        **overrides,
    }


def staff(staff_id: str = "po1", **overrides: Any) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "name": "Pat Officer",
        "grade": "PO",
        "team": T1,
        "pdu": "SHF",
        "capacity": 40,
        "training": ["domestic_abuse"],
        **overrides,
    }


def training(module: str = "sexual_offending", **overrides: Any) -> dict[str, Any]:
    return {"module": module, "completed_on": "2026-01-02", **overrides}
