"""`casetrail serve --workers 2` as a real process tree: the workers share one store, the
development secrets are made once, and concurrent writers lose nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from api.auth import issue_token
from application.settings import Settings
from tests.support import serve_process

pytestmark = pytest.mark.timeout(120)

OPEN = {
    "crn": "X765432",
    "person": {"name": "Pat Worker", "date_of_birth": "1990-01-01"},
    "sentence_type": "community_order",
    "start_date": "2026-01-05",
    "expected_end_date": "2027-01-05",
    "pdu": "SHF",
    "team": "T1",
}


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Settings, int]]:
    env = {
        **os.environ,
        "CASETRAIL_DATABASE_URL": database_url,
        "CASETRAIL_VAR_DIR": str(tmp_path),  # empty: the dev secrets are made at start
        "CASETRAIL_ENV": "development",
        "CASETRAIL_PROJECTIONS": "off",
        "CASETRAIL_LOG_LEVEL": "WARNING",
    }
    for name in ("CASETRAIL_JWT_SECRET", "CASETRAIL_ENCRYPTION_KEY", "CASETRAIL_INTEGRITY_KEY"):
        env.pop(name, None)
    with serve_process(env, "--workers", "2") as (base, process):
        settings = Settings(env="development", database_url=database_url, var_dir=tmp_path)
        yield base, settings, process.pid


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_two_workers_share_one_store_and_lose_no_command(
    served: tuple[str, Settings, int],
) -> None:
    base, settings, pid = served
    assert len(_children(pid)) >= 2  # the workers (uvicorn may add a helper process)
    token = issue_token(settings, sub="po1", roles=["practitioner"], teams=["T1"])
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        case_id = http.post("/cases", json=OPEN).json()["case_id"]

    def schedule(n: int) -> int:
        # A connection each: requests spread over both workers, racing on one case.
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            body = {
                "appointment_id": f"w{n}",
                "type": "COAP",
                "starts_at": "2026-02-01T10:00:00Z",
                "national_standard": True,
            }
            return http.post(f"/cases/{case_id}/appointments", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(schedule, range(40)))
    assert statuses == [201] * 40
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        case = http.get(f"/cases/{case_id}").json()
    assert case["version"] == 41
    assert set(case["appointments"]) == {f"w{n}" for n in range(40)}
    made = {p.name for p in Path(settings.var_dir).iterdir()}
    assert "jwt-secret" in made
    assert not [name for name in made if name.startswith(".")]  # no drafts left behind
