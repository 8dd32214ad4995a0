"""A small demo PDU served live, for the page tests and the screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa

from api.bootstrap import Container, build
from application.access import Actor
from application.commands import CorrectEvent
from demo.pdu import DemoOptions, generate
from demo.staff import spo_id
from projections.schema import case_list
from tests.support import LiveServer, make_settings

PDU = "SHF"


@dataclass(frozen=True)
class World:
    """The server and who is in it: a team, its SPO, a case of that team and one of another."""

    live: LiveServer
    pdu: str
    team: str
    other_team: str
    spo: str
    case_id: str
    crn: str
    other_case_id: str
    corrected_case_id: str  # a case of ``team`` whose first risk assessment was corrected

    def token(
        self, sub: str, *roles: str, teams: tuple[str, ...] = (), pdus: tuple[str, ...] = ()
    ) -> str:
        return self.live.token(sub, *roles, teams=teams, pdus=pdus)


def correct_a_risk_assessment(container: Container, case_id: UUID, team: str) -> None:
    """Correct the case's first risk assessment (the small demo PDU may make no correction)."""
    reader = Actor(sub="world", roles=frozenset({"auditor"}))
    _, items = container.app.case_timeline(case_id, reader)
    assessed = next(i.version for i in items if i.type == "RiskAssessed")
    practitioner = Actor(sub="world-po", roles=frozenset({"practitioner"}), teams=frozenset({team}))
    container.app.execute(
        CorrectEvent(
            case_id=case_id,
            corrects_version=assessed,
            reason="RoSH was misread from the assessment",
            replacement={"rosh": "high"},
        ),
        practitioner,
    )


@contextmanager
def demo_world(database_url: str, tmp: Path, options: DemoOptions) -> Iterator[World]:
    """``options``' demo PDU in a fresh store, read models caught up, served on loopback."""
    container = build(make_settings(database_url, tmp))
    generate(container.app, options)
    container.projections.catch_up()
    team = f"{options.pdu}-01"
    other = f"{options.pdu}-02"
    with container.engine.connect() as conn:
        live_generation = container.projections.live("case_list")

        def a_case_of(team_name: str) -> tuple[str, str]:
            row = conn.execute(
                sa.select(case_list.c.case_id, case_list.c.crn)
                .where(case_list.c.generation == live_generation, case_list.c.team == team_name)
                .order_by(case_list.c.version.desc(), case_list.c.crn)
                .limit(1)
            ).one()
            return str(row.case_id), str(row.crn)

        case_id, crn = a_case_of(team)
        other_case_id, _ = a_case_of(other)
    correct_a_risk_assessment(container, UUID(case_id), team)
    container.projections.catch_up()
    live = LiveServer(container).start()
    try:
        yield World(
            live=live,
            pdu=options.pdu,
            team=team,
            other_team=other,
            spo=spo_id(options.pdu, 1),
            case_id=case_id,
            crn=crn,
            other_case_id=other_case_id,
            corrected_case_id=case_id,
        )
    finally:
        live.stop()
