"""The pages' latency at the demo PDU's size: each page against the JSON read it is built on.

The demo PDU (1,820 cases, 148 practitioners) is generated into a fresh store, its read
models caught up, and `casetrail serve` answers each page 100 times for one signed-in user,
beside the API route that reads the same thing (the baseline), on the same server in the same
run. The target (issue 16) is p95 < 150 ms for every page, on PostgreSQL.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from api.auth import issue_token
from api.bootstrap import Container
from demo.pdu import DemoOptions, generate
from demo.staff import spo_id
from projections.schema import case_list
from tests.support import serve_process

READS = 100
PDU = "SHF"
TEAM = f"{PDU}-01"
TARGET_P95_MS = 150.0


def load_demo(container: Container) -> tuple[str, float]:
    """The demo PDU in ``container``'s store, read models caught up: a busy case of TEAM."""
    started = time.perf_counter()
    generate(container.app, DemoOptions(pdu=PDU))
    container.projections.catch_up()
    seconds = time.perf_counter() - started
    with container.engine.connect() as conn:
        case_id = conn.execute(
            sa.select(case_list.c.case_id)
            .where(
                case_list.c.generation == container.projections.live("case_list"),
                case_list.c.team == TEAM,
            )
            .order_by(case_list.c.version.desc())
            .limit(1)
        ).scalar_one()
    return str(case_id), seconds


def latency(client: httpx.Client, path: str, reads: int = READS) -> dict[str, float]:
    first = client.get(path)
    if first.status_code != 200:
        return {"status": float(first.status_code)}
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "p50_ms": times[len(times) // 2] * 1000,
        "p95_ms": times[round(0.95 * (len(times) - 1))] * 1000,
        "bytes": float(len(first.content)),
    }


def pairs(case_id: str) -> dict[str, tuple[tuple[str, ...], str, str]]:
    """Page -> (roles, page path, the API path it is built on)."""
    return {
        "team": (("spo",), f"/ui/teams/{TEAM}", f"/oversight?team={TEAM}"),
        "pdu": (("pdu_head",), f"/ui/pdus/{PDU}", f"/quality?pdu={PDU}"),
        "pdu trends": (
            ("pdu_head",),
            f"/ui/pdus/{PDU}/trends",
            f"/trends?pdu={PDU}&measure=induction_on_time",
        ),
        "pdu equality": (("pdu_head",), f"/ui/pdus/{PDU}/equality", f"/equality?pdu={PDU}"),
        "case": (("spo",), f"/ui/cases/{case_id}", f"/cases/{case_id}/timeline"),
        "case, reviewer": (
            ("sfo_reviewer",),
            f"/ui/cases/{case_id}",
            f"/cases/{case_id}/integrity",
        ),
        "access log": (("auditor",), "/ui/audit", "/audit/access?limit=100"),
    }


def pages_suite(url: str, workdir: Path, container: Container, env: dict[str, str]) -> Any:
    """Load the demo PDU through ``container``, serve it, time every page and its baseline."""
    case_id, load_seconds = load_demo(container)
    settings = container.settings
    container.close()
    figures: dict[str, Any] = {"load_seconds": load_seconds, "pages": {}}
    with serve_process({**env, "CASETRAIL_PROJECTIONS": "off"}) as (base, _):
        for name, (roles, page, api) in pairs(case_id).items():
            token = issue_token(
                settings, sub=spo_id(PDU, 1), roles=list(roles), teams=[TEAM], pdus=[PDU]
            )
            with httpx.Client(base_url=base, timeout=60) as client:
                client.post("/ui/sign-in", data={"token": token})
                shown = latency(client, page)
            with httpx.Client(
                base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
            ) as client:
                baseline = latency(client, api)
            ratio = (
                shown["p95_ms"] / baseline["p95_ms"]
                if "p95_ms" in shown and "p95_ms" in baseline
                else None
            )
            figures["pages"][name] = {
                "page": shown,
                "api": baseline,
                "p95_ratio": ratio,
                "met": shown.get("p95_ms", float("inf")) < TARGET_P95_MS,
            }
    return figures
