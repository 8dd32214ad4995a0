"""Every page, for every role, signed in with the page session (docs/roles.md's page table).

The pages are not in /openapi.json (they are HTML, not the API), so the route walk of
tests/api/test_route_roles.py does not see them: this table is theirs. Each role signs in with
its own team and PDU (SHF-01, SHF) or with another's (SHF-02, LDS); the targets stay the team
SHF-01, the PDU SHF and a case of SHF-01.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from tests.api.test_route_roles import (
    AUDITOR,
    DENY,
    HIDE,
    OTHER,
    OWN,
    PDU_HEAD,
    PRACTITIONER,
    ROLES,
    SFO_REVIEWER,
    SPO,
    Rule,
    render_cell,
    rule,
)
from tests.pages.world import World

OK, START = "200", "303 start"
DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
CASE_READ = {
    PRACTITIONER: (OK, HIDE),
    SPO: (OK, HIDE),
    PDU_HEAD: (OK, HIDE),
    AUDITOR: OK,
    SFO_REVIEWER: OK,
}
PAGE_RULES: dict[str, Rule] = {
    "/ui/": rule(
        "start page by role",
        practitioner=START,
        spo=START,
        pdu_head=START,
        auditor=START,
        sfo_reviewer=START,
    ),
    "/ui/teams/{team}": rule("SPO of the team", spo=(OK, DENY)),
    "/ui/pdus": rule("Heads of PDU and auditors", pdu_head=OK, auditor=OK),
    "/ui/pdus/{pdu}": rule("Head of that PDU, auditors", pdu_head=(OK, DENY), auditor=OK),
    "/ui/pdus/{pdu}/trends": rule("Head of that PDU, auditors", pdu_head=(OK, DENY), auditor=OK),
    "/ui/pdus/{pdu}/equality": rule("Head of that PDU, auditors", pdu_head=(OK, DENY), auditor=OK),
    "/ui/cases": rule(
        "case readers",
        practitioner=OK,
        spo=OK,
        pdu_head=OK,
        auditor=OK,
        sfo_reviewer=OK,
    ),
    "/ui/cases/{case_id}": rule("case read", **CASE_READ),
    "/ui/cases/{case_id}/chronology.csv": rule("case read", **CASE_READ),
    "/ui/cases/{case_id}/chronology.html": rule("case read", **CASE_READ),
    "/ui/audit": rule("auditors", auditor=OK),
}
CLAIMS = {
    OWN: {"teams": ("SHF-01",), "pdus": ("SHF",)},
    OTHER: {"teams": ("SHF-02",), "pdus": ("LDS",)},
}


def outcome(answer: httpx.Response) -> str:
    if answer.status_code == 303:
        return START if answer.headers["location"] != "/ui/sign-in" else "303 sign-in"
    return str(answer.status_code)


@pytest.mark.parametrize("variant", [OWN, OTHER])
@pytest.mark.parametrize("role", ROLES)
def test_page_role(world: World, role: str, variant: str) -> None:
    token = world.token(f"walker-{role}", role, **CLAIMS[variant])
    with httpx.Client(base_url=world.live.base_url, timeout=30) as client:
        assert client.post("/ui/sign-in", data={"token": token}).status_code == 303
        seen = {}
        for path, page_rule in PAGE_RULES.items():
            url = path.format(team=world.team, pdu=world.pdu, case_id=world.case_id)
            seen[path] = (outcome(client.get(url)), page_rule.outcome(role, variant))
    assert {p: got for p, (got, _) in seen.items()} == {p: want for p, (_, want) in seen.items()}


def test_no_page_opens_without_a_session(world: World) -> None:
    for path in PAGE_RULES:
        url = path.format(team=world.team, pdu=world.pdu, case_id=world.case_id)
        assert outcome(httpx.get(world.live.base_url + url)) == "303 sign-in", path


def render_page_rows(rules: Mapping[str, Rule]) -> list[str]:
    """The markdown rows of docs/roles.md's page table."""
    return [
        f"| `GET {path}` | {' | '.join(render_cell(r, role) for role in ROLES)} | 303 sign-in | "
        f"{r.name} |"
        for path, r in rules.items()
    ]


def test_docs_show_the_page_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index("<!-- page table -->"), text.index("<!-- end of page table -->")
    shown = [line for line in text[start:end].splitlines() if line.startswith("| `")]
    assert shown == render_page_rows(PAGE_RULES), (
        "docs/roles.md's page table differs from PAGE_RULES: regenerate it with render_page_rows"
    )
