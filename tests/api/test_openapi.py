"""/openapi.json describes the contract of docs/api.md: every path, named bodies, typed answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api import builders as b

COMMAND_PATHS = [
    "/cases",
    "/cases/{case_id}/court-reports",
    "/cases/{case_id}/allocations",
    "/cases/{case_id}/enquiries",
    "/cases/{case_id}/enquiries/{enquiry_id}/responses",
    "/cases/{case_id}/inductions",
    "/cases/{case_id}/risk-assessments",
    "/cases/{case_id}/registrations",
    "/cases/{case_id}/registrations/{code}/removal",
    "/cases/{case_id}/mappa",
    "/cases/{case_id}/sentence-plans",
    "/cases/{case_id}/appointments",
    "/cases/{case_id}/appointments/{appointment_id}/outcome",
    "/cases/{case_id}/enforcement-actions",
    "/cases/{case_id}/recall-decisions",
    "/cases/{case_id}/referrals",
    "/cases/{case_id}/referrals/{referral_id}/outcome",
    "/cases/{case_id}/unpaid-work-sessions",
    "/cases/{case_id}/significant-events",
    "/cases/{case_id}/risk-reviews",
    "/cases/{case_id}/oversight",
    "/cases/{case_id}/sfo-notifications",
    "/cases/{case_id}/transfers",
    "/cases/{case_id}/termination",
    "/cases/{case_id}/corrections",
    "/staff",
]
READ_PATHS = [
    "/cases/{case_id}",
    "/cases/{case_id}/events",
    "/cases/{case_id}/state",
    "/staff/{staff_id}",
    "/health",
    "/ready",
]
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with (
        b.shared_sqlite_server(tmp_path_factory.mktemp("openapi")) as server,
        httpx.Client(base_url=server.base_url) as anonymous,
    ):
        response = anonymous.get("/openapi.json")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        yield response.json()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/components/schemas/"), ref
    name = ref.rsplit("/", 1)[1]
    schemas: dict[str, Any] = spec["components"]["schemas"]
    assert name in schemas, f"{ref} does not resolve"
    schema: dict[str, Any] = schemas[name]
    return schema


def test_document_is_openapi_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    assert spec["info"]["version"]


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_every_command_path_is_a_post(spec: dict[str, Any], path: str) -> None:
    assert path in spec["paths"], f"{path} missing from /openapi.json"
    assert "post" in spec["paths"][path]


@pytest.mark.parametrize("path", READ_PATHS)
def test_every_read_path_is_a_get(spec: dict[str, Any], path: str) -> None:
    assert path in spec["paths"], f"{path} missing from /openapi.json"
    assert "get" in spec["paths"][path]


def test_every_post_body_is_a_named_schema(spec: dict[str, Any]) -> None:
    unnamed = []
    for path, method, operation in _operations(spec):
        if method != "post":
            continue
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if "$ref" not in schema:
            unnamed.append(f"POST {path}: {schema}")
            continue
        resolved = _resolve(spec, schema["$ref"])
        assert resolved.get("type") == "object", (path, resolved)
        assert operation["requestBody"].get("required") is True, path
    assert not unnamed, "\n".join(unnamed)


def test_every_command_answers_201_with_the_command_result(spec: dict[str, Any]) -> None:
    for path in COMMAND_PATHS:
        responses = spec["paths"][path]["post"]["responses"]
        assert "201" in responses, path
        schema = responses["201"]["content"]["application/json"]["schema"]
        expected = "StaffResult" if path == "/staff" else "CommandResult"
        assert schema == {"$ref": f"#/components/schemas/{expected}"}, (path, schema)
    result = _resolve(spec, "#/components/schemas/CommandResult")
    assert set(result["required"]) >= {"case_id", "version", "position"}


def _success_without_schema(spec: dict[str, Any]) -> list[str]:
    """Each 2xx answer that does not say what it holds.

    A JSON answer needs a schema; an answer offered only in other media types needs one in at
    least one of them (alternative renderings, e.g. CSV beside JSON, may go without).
    """
    missing = []
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            where = f"{method.upper()} {path} {status}"
            content: dict[str, Any] = response.get("content") or {}
            described = {m: media["schema"] for m, media in content.items() if media.get("schema")}
            for schema in described.values():
                if "$ref" in schema:
                    _resolve(spec, schema["$ref"])
            json_types = [m for m in content if m.endswith("json")]
            if not described:
                missing.append(f"{where}: no schema in {sorted(content) or 'no content'}")
            missing.extend(f"{where} {m}" for m in json_types if m not in described)
    return missing


def test_every_success_response_has_a_schema(spec: dict[str, Any]) -> None:
    missing = [m for m in _success_without_schema(spec) if not m.startswith("GET /metrics ")]
    assert not missing, "\n".join(missing)


def test_metrics_response_has_a_schema(spec: dict[str, Any]) -> None:
    assert "/metrics" in spec["paths"]
    missing = [m for m in _success_without_schema(spec) if m.startswith("GET /metrics ")]
    assert not missing, missing


def test_every_operation_has_a_summary_or_description(spec: dict[str, Any]) -> None:
    bare = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(spec)
        if not (operation.get("summary") or operation.get("description"))
    ]
    assert not bare, bare


def test_commands_document_their_problem_answers(spec: dict[str, Any]) -> None:
    for path in COMMAND_PATHS:
        responses = spec["paths"][path]["post"]["responses"]
        for status in ("401", "403", "422"):
            assert status in responses, (path, status)
            assert "application/problem+json" in responses[status].get("content", {}), (
                path,
                status,
            )
        if path.startswith("/cases/{case_id}"):
            for status in ("404", "409", "412"):
                assert status in responses, (path, status)


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(spec):
        _resolve(spec, ref)


def test_state_documents_its_three_views(spec: dict[str, Any]) -> None:
    parameters = spec["paths"]["/cases/{case_id}/state"]["get"]["parameters"]
    assert {p["name"] for p in parameters} >= {"case_id", "version", "as_known_at", "as_of"}
    events = spec["paths"]["/cases/{case_id}/events"]["get"]["parameters"]
    assert {p["name"] for p in events} >= {"case_id", "after_version", "limit"}


# An event's `data` holds that event type's fields: its shape follows `type` (docs/api.md);
# so does a domain event's `additionalInformation` (the codes of that event type).
UNTYPED_BY_DESIGN = {"EventView.data", "TimelineItemView.data", "Envelope.additionalInformation"}


def test_no_answer_is_an_untyped_map(spec: dict[str, Any]) -> None:
    """Generated clients get a type for every field an answer sends: no bare objects."""
    schemas: dict[str, Any] = spec["components"]["schemas"]
    answered: set[str] = set()

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value.rsplit("/", 1)[1]
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    pending = [
        name
        for _, _, operation in _operations(spec)
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for name in refs(response)
    ]
    while pending:
        name = pending.pop()
        if name not in answered:
            answered.add(name)
            pending.extend(refs(schemas[name]))

    def bare(node: Any, where: str) -> Iterator[str]:
        if isinstance(node, dict):
            loose = node.get("additionalProperties", True) in (True, {})
            if node.get("type") == "object" and not node.get("properties") and loose:
                yield where
            for key, value in node.items():
                yield from bare(value, where if key in ("anyOf", "items") else f"{where}.{key}")
        elif isinstance(node, list):
            for item in node:
                yield from bare(item, where)

    untyped = {
        where.replace(".properties", "") for name in answered for where in bare(schemas[name], name)
    }
    assert "CaseView" in answered
    assert untyped == UNTYPED_BY_DESIGN, untyped - UNTYPED_BY_DESIGN
