"""Authentication (JWT bearer) and the roles table of docs/roles.md, over real HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest

from tests.api import builders as b
from tests.api.builders import T1, T2
from tests.support import TEST_SECRET, LiveServer, ensure_staff


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with b.shared_sqlite_server(tmp_path_factory.mktemp("auth")) as live:
        yield live


@pytest.fixture
def po1(api: LiveServer) -> Iterator[httpx.Client]:
    with api.client("po1", "practitioner", teams=(T1,)) as client:
        yield client


@pytest.fixture
def case_id(po1: httpx.Client) -> str:
    """A community-order case of team T1."""
    return b.open_case(po1)


@pytest.fixture
def licence_case_id(po1: httpx.Client) -> str:
    """A licence case of team T1 (where recall decisions apply)."""
    response = po1.post("/cases", json=b.licence_body())
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def _bearer(api: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=api.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "po1",
        "roles": ["practitioner"],
        "teams": [T1],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _unsigned(claims: dict[str, Any]) -> str:
    """A token with `alg: none` and no signature."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


# -- 401 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/cases/{case_id}"), ("POST", "/cases/{case_id}/inductions"), ("GET", "/staff/x")],
)
def test_missing_token_is_401_with_www_authenticate(
    api: LiveServer, case_id: str, method: str, path: str
) -> None:
    with api.client() as anonymous:
        response = anonymous.request(
            method, path.format(case_id=case_id), json={} if method == "POST" else None
        )
    b.assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            jwt.encode(_claims(exp=int(time.time()) - 3600), TEST_SECRET, "HS256"), id="expired"
        ),
        pytest.param(
            jwt.encode(_claims(exp=int(time.time()) - 150), TEST_SECRET, "HS256"),
            id="expired-beyond-60s-leeway",
        ),
        pytest.param(
            jwt.encode(_claims(), "another-secret-another-secret-0123456789", "HS256"),
            id="other-secret",
        ),
        pytest.param(jwt.encode(_claims(exp=None), TEST_SECRET, "HS256"), id="no-exp"),
        pytest.param(_unsigned(_claims()), id="alg-none"),
        pytest.param(jwt.encode(_claims(sub=None), TEST_SECRET, "HS256"), id="no-sub"),
        pytest.param(jwt.encode(_claims(roles="spo"), TEST_SECRET, "HS256"), id="roles-not-list"),
        pytest.param(
            jwt.encode(_claims(), TEST_SECRET, "HS256")[:-3] + "abc", id="tampered-signature"
        ),
        pytest.param("not-a-jwt", id="garbage"),
    ],
)
def test_bad_token_is_401(api: LiveServer, case_id: str, token: str) -> None:
    with _bearer(api, token) as client:
        response = client.get(f"/cases/{case_id}")
    b.assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_hs256_token_with_the_right_secret_is_accepted(api: LiveServer, case_id: str) -> None:
    with _bearer(api, jwt.encode(_claims(), TEST_SECRET, "HS256")) as client:
        assert client.get(f"/cases/{case_id}").status_code == 200


def test_token_signed_with_another_algorithm_is_401(api: LiveServer, case_id: str) -> None:
    token = jwt.encode(_claims(), TEST_SECRET + "x" * 40, "HS512")
    with _bearer(api, token) as client:
        b.assert_problem(client.get(f"/cases/{case_id}"), 401, "unauthorized")


@pytest.mark.parametrize("authorization", ["Basic cG8xOnNlY3JldA==", "Bearer", "Token abc"])
def test_other_authorization_schemes_are_401(
    api: LiveServer, case_id: str, authorization: str
) -> None:
    with httpx.Client(base_url=api.base_url, headers={"Authorization": authorization}) as client:
        response = client.get(f"/cases/{case_id}")
    b.assert_problem(response, 401, "unauthorized")


# -- teams: another team's case is 404, not 403 ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("GET", "/events", None),
        ("GET", "/state", None),
        ("POST", "/inductions", b.induction()),
        ("POST", "/appointments", b.appointment()),
        ("POST", "/corrections", b.correction(1, {"pdu": "LDS"})),
    ],
)
def test_practitioner_of_another_team_gets_404(
    api: LiveServer,
    po1: httpx.Client,
    case_id: str,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    with api.client("po2", "practitioner", teams=(T2,)) as po2:
        response = po2.request(method, f"/cases/{case_id}{suffix}", json=body)
        unknown = po2.request(method, f"/cases/{uuid4()}{suffix}", json=body)
    b.assert_problem(response, 404, "not-found")
    b.assert_problem(unknown, 404, "not-found")
    assert response.json()["title"] == unknown.json()["title"]
    assert b.event_count(po1, case_id) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/oversight", b.oversight()),
        ("/recall-decisions", b.recall_decision()),
        ("/transfers", b.transfer(T2)),
        ("/sfo-notifications", b.sfo_notification()),
    ],
)
def test_spo_of_another_team_gets_404(
    api: LiveServer, licence_case_id: str, path: str, body: dict[str, Any]
) -> None:
    with api.client("spo2", "spo", teams=(T2,)) as spo2:
        response = spo2.post(f"/cases/{licence_case_id}{path}", json=body)
    b.assert_problem(response, 404, "not-found")


def test_practitioner_in_two_teams_works_on_both(api: LiveServer, po1: httpx.Client) -> None:
    with api.client("po3", "practitioner", teams=(T1, T2)) as po3:
        t1_case = b.open_case(po1)
        t2_case = b.open_case(po3, team=T2)
        b.command(po3, f"/cases/{t1_case}/inductions", b.induction())
        b.command(po3, f"/cases/{t2_case}/inductions", b.induction())
    b.assert_problem(po1.get(f"/cases/{t2_case}"), 404, "not-found")


def test_opening_a_case_in_a_team_you_are_not_in_is_403(api: LiveServer) -> None:
    for roles in (("practitioner",), ("spo",)):
        with api.client("someone", *roles, teams=(T1,)) as client:
            response = client.post("/cases", json=b.open_body(team=T2))
            b.assert_problem(response, 403, "forbidden")


# -- SPO-only commands ----------------------------------------------------------------------

SPO_ONLY = [
    ("/oversight", b.oversight()),
    ("/recall-decisions", b.recall_decision()),
    ("/transfers", b.transfer(T2)),
]


@pytest.mark.parametrize(
    ("path", "body"), [*SPO_ONLY, ("/sfo-notifications", b.sfo_notification())]
)
def test_practitioner_cannot_send_spo_only_commands(
    po1: httpx.Client, licence_case_id: str, path: str, body: dict[str, Any]
) -> None:
    response = po1.post(f"/cases/{licence_case_id}{path}", json=body)
    b.assert_problem(response, 403, "forbidden")
    assert b.event_count(po1, licence_case_id) == 1


@pytest.mark.parametrize(
    ("path", "body"), [*SPO_ONLY, ("/sfo-notifications", b.sfo_notification())]
)
def test_spo_of_the_team_can_send_spo_only_commands(
    api: LiveServer, licence_case_id: str, path: str, body: dict[str, Any]
) -> None:
    with api.client("spo1", "spo", teams=(T1,)) as spo1:
        result = b.command(spo1, f"/cases/{licence_case_id}{path}", body)
    assert result["version"] == 2
    with api.client("aud", "auditor") as auditor:  # after a transfer, T1 no longer sees it
        assert b.events(auditor, licence_case_id)[1]["actor_id"] == "spo1"


def test_spo_can_send_casework_commands_too(api: LiveServer, case_id: str) -> None:
    ensure_staff(api.container.app, "po1", T1)
    with api.client("spo1", "spo", teams=(T1,)) as spo1:
        b.command(spo1, f"/cases/{case_id}/allocations", b.allocation("po1"))
        b.command(spo1, f"/cases/{case_id}/termination", b.termination())


@pytest.mark.parametrize(("path", "body"), SPO_ONLY)
def test_spo_only_command_on_another_teams_case_does_not_reveal_it(
    api: LiveServer, case_id: str, path: str, body: dict[str, Any]
) -> None:
    with api.client("po2", "practitioner", teams=(T2,)) as po2:
        existing = po2.post(f"/cases/{case_id}{path}", json=body)
        missing = po2.post(f"/cases/{uuid4()}{path}", json=body)
    assert existing.status_code == missing.status_code == 404, (existing.text, missing.text)


@pytest.mark.parametrize("team", ["T9", ""])
def test_practitioner_cannot_move_a_case_by_correcting_its_team(
    api: LiveServer, po1: httpx.Client, case_id: str, team: str
) -> None:
    response = po1.post(f"/cases/{case_id}/corrections", json=b.correction(1, {"team": team}))
    assert response.status_code in (403, 409, 422), response.text
    with api.client("aud", "auditor") as auditor:
        assert auditor.get(f"/cases/{case_id}").json()["team"] == T1


# -- auditors and SFO reviewers: read everything, change nothing ----------------------------


COMMANDS = [
    ("/inductions", b.induction()),
    ("/appointments", b.appointment()),
    ("/oversight", b.oversight()),
    ("/sfo-notifications", b.sfo_notification()),
    ("/termination", b.termination()),
    ("/corrections", b.correction(1, {"pdu": "LDS"})),
]


@pytest.mark.parametrize("role", ["auditor", "sfo_reviewer"])
def test_reviewers_read_any_teams_case(api: LiveServer, case_id: str, role: str) -> None:
    with api.client("reviewer", role) as reviewer:
        case = reviewer.get(f"/cases/{case_id}")
        assert case.status_code == 200, case.text
        assert case.json()["team"] == T1
        history = reviewer.get(f"/cases/{case_id}/events")
        assert history.status_code == 200, history.text
        assert [e["type"] for e in history.json()["items"]] == ["Opened"]
        state = reviewer.get(f"/cases/{case_id}/state", params={"version": 1})
        assert state.status_code == 200, state.text


@pytest.mark.parametrize("role", ["auditor", "sfo_reviewer"])
@pytest.mark.parametrize(("path", "body"), COMMANDS)
def test_reviewers_cannot_send_commands(
    api: LiveServer, po1: httpx.Client, case_id: str, role: str, path: str, body: dict[str, Any]
) -> None:
    with api.client("reviewer", role, teams=(T1,)) as reviewer:
        response = reviewer.post(f"/cases/{case_id}{path}", json=body)
    b.assert_problem(response, 403, "forbidden")
    assert b.event_count(po1, case_id) == 1


@pytest.mark.parametrize("role", ["auditor", "sfo_reviewer", "admin"])
def test_only_casework_roles_open_cases(api: LiveServer, role: str) -> None:
    with api.client("someone", role, teams=(T1,)) as client:
        b.assert_problem(client.post("/cases", json=b.open_body()), 403, "forbidden")


# -- admin ----------------------------------------------------------------------------------


def test_admin_registers_staff(api: LiveServer) -> None:
    staff_id = f"po-{uuid4().hex[:8]}"
    with api.client("admin1", "admin") as admin:
        response = admin.post("/staff", json=b.staff(staff_id))
        assert response.status_code == 201, response.text
        assert admin.get(f"/staff/{staff_id}").json()["staff_id"] == staff_id


def test_admin_notifies_an_sfo_on_any_teams_case(
    api: LiveServer, po1: httpx.Client, case_id: str
) -> None:
    with api.client("admin1", "admin") as admin:
        result = b.command(admin, f"/cases/{case_id}/sfo-notifications", b.sfo_notification())
    event = b.events(po1, case_id)[result["version"] - 1]
    assert event["type"] == "SeriousFurtherOffenceNotified"
    assert event["actor_id"] == "admin1"


@pytest.mark.parametrize("suffix", ["", "/events", "/state"])
def test_admin_cannot_read_cases(api: LiveServer, case_id: str, suffix: str) -> None:
    with api.client("admin1", "admin", teams=(T1,)) as admin:
        b.assert_problem(admin.get(f"/cases/{case_id}{suffix}"), 403, "forbidden")


@pytest.mark.parametrize(("path", "body"), [c for c in COMMANDS if c[0] != "/sfo-notifications"])
def test_admin_cannot_send_casework_commands(
    api: LiveServer, case_id: str, path: str, body: dict[str, Any]
) -> None:
    with api.client("admin1", "admin", teams=(T1,)) as admin:
        b.assert_problem(admin.post(f"/cases/{case_id}{path}", json=body), 403, "forbidden")


@pytest.mark.parametrize("role", ["practitioner", "spo", "auditor", "sfo_reviewer"])
def test_only_admin_registers_staff(api: LiveServer, role: str) -> None:
    with api.client("someone", role, teams=(T1,)) as client:
        response = client.post("/staff", json=b.staff(f"x-{uuid4().hex[:8]}"))
    b.assert_problem(response, 403, "forbidden")


# -- staff look-up --------------------------------------------------------------------------


def test_any_signed_in_user_reads_staff(api: LiveServer) -> None:
    staff_id = f"spo-{uuid4().hex[:8]}"
    with api.client("admin1", "admin") as admin:
        assert admin.post("/staff", json=b.staff(staff_id, grade="SPO")).status_code == 201
    tokens = [
        api.token("po9", "practitioner", teams=(T2,)),
        api.token("spo9", "spo", teams=(T2,)),
        api.token("aud", "auditor"),
        api.token("sfo", "sfo_reviewer"),
        api.token("admin1", "admin"),
        api.token("nobody"),  # signed in, with no role at all
    ]
    for token in tokens:
        with _bearer(api, token) as client:
            response = client.get(f"/staff/{staff_id}")
            assert response.status_code == 200, response.text
            assert response.json()["grade"] == "SPO"
    with api.client() as anonymous:
        b.assert_problem(anonymous.get(f"/staff/{staff_id}"), 401, "unauthorized")


def test_unknown_staff_is_404(api: LiveServer) -> None:
    with api.client("aud", "auditor") as auditor:
        b.assert_problem(auditor.get("/staff/no-such-person"), 404, "not-found")


def test_token_without_a_known_role_reads_no_case(api: LiveServer, case_id: str) -> None:
    with _bearer(api, api.token("nobody", "superuser", teams=(T1,))) as client:
        b.assert_problem(client.get(f"/cases/{case_id}"), 403, "forbidden")
