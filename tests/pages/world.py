"""A small demo PDU served live, for the page tests and the screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from api.bootstrap import build
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

    def token(
        self, sub: str, *roles: str, teams: tuple[str, ...] = (), pdus: tuple[str, ...] = ()
    ) -> str:
        return self.live.token(sub, *roles, teams=teams, pdus=pdus)


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
        )
    finally:
        live.stop()
