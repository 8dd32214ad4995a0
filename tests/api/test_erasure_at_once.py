"""Erasure at once, in every process: `casetrail erase` run beside a serving API process that
has read the person's case (and so holds its data key and the decoded case in memory). When
the command returns, no read of that process shows the person's data any more."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import httpx

from api.auth import issue_token
from application.settings import Settings
from tests.api import builders as b
from tests.api.test_privacy import SECRETS, _every_read, _record_a_person
from tests.support import TEST_SECRET, live_server, serve_process


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASETRAIL_")}
    env.update(
        CASETRAIL_DATABASE_URL=database_url,
        CASETRAIL_VAR_DIR=str(tmp_path),
        CASETRAIL_JWT_SECRET=TEST_SECRET,
        CASETRAIL_ENV="test",
        CASETRAIL_LOG_LEVEL="WARNING",
    )
    return env


def _casetrail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cli = str(Path(sys.executable).with_name("casetrail"))
    return subprocess.run(
        [cli, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _client(base: str, database_url: str, sub: str, role: str) -> httpx.Client:
    settings = Settings(env="test", database_url=database_url, jwt_secret=TEST_SECRET)
    token = issue_token(settings, sub=sub, roles=[role], teams=[b.T1])
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_erasure_from_the_command_line_is_seen_at_once_by_a_serving_process(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    with serve_process(env) as (base, _), _client(base, database_url, "po1", "practitioner") as po:
        case_id = _record_a_person(po)
        other = b.open_case(
            po, crn="Y654321", person={**b.open_body()["person"], "name": "Someone Else"}
        )
        for _ in range(2):  # the second read is served from the keys and case held
            text = _every_read(po, case_id)
            assert all(secret in text for secret in SECRETS[:2])

        erase = _casetrail(env, "erase", "--crn", "X123456", "--reason", "asked to be forgotten")
        assert erase.returncode == 0, erase.stderr
        assert f"erased: case {case_id}" in erase.stdout

        text = _every_read(po, case_id)  # at once: no wait, no retry
        for secret in SECRETS:
            assert secret not in text
        assert po.get(f"/cases/{case_id}").json()["person"]["name"] == "[erased]"
        assert "Someone Else" in po.get(f"/cases/{other}/events").text  # untouched


def test_a_staff_member_erased_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    """`casetrail erase --staff` destroys the staff member's key and records the erasure: a
    serving process that had read their codes shows them erased at once; a second erasure is
    refused; --crn and --staff go one at a time."""
    env = _env(database_url, tmp_path)
    with serve_process(env) as (base, _), _client(base, database_url, "admin1", "admin") as admin:
        staff = {**b.staff("po9"), "ethnic_group": "asian", "sex": "female"}
        assert admin.post("/staff", json=staff).status_code == 201
        assert admin.get("/staff/po9").json()["ethnic_group"] == "asian"

        erase = _casetrail(env, "erase", "--staff", "po9", "--reason", "left the service")
        assert erase.returncode == 0, erase.stderr
        assert "erased: staff po9" in erase.stdout

        shown = admin.get("/staff/po9").json()  # at once: no wait, no retry
        assert (shown["ethnic_group"], shown["sex"]) == ("[erased]", "[erased]")
        assert shown["erased_at"] is not None
        again = _casetrail(env, "erase", "--staff", "po9", "--reason", "twice")
        assert again.returncode == 2, again.stdout
        both = _casetrail(env, "erase", "--staff", "po9", "--crn", "X123456", "--reason", "r")
        assert both.returncode == 2  # a usage error, before anything is read


def test_a_key_wrapped_by_a_master_this_process_lacks_is_a_503_problem(
    database_url: str, tmp_path: Path
) -> None:
    """Step 2 of a rotation skipped: another process, given a new master, opens a case; this
    process, still on the old master alone, cannot open that case's key. It says so (503,
    key-unavailable) rather than a 500 or the data shown as erased."""
    old, new = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    with live_server(database_url, tmp_path, encryption_key=old) as behind:
        with (
            live_server(
                database_url, tmp_path, encryption_key=new, previous_encryption_keys=old
            ) as ahead,
            ahead.client("po1", "practitioner", teams=(b.T1,)) as po,
        ):
            case_id = b.open_case(po, crn="Y111111")
        with behind.client("po1", "practitioner", teams=(b.T1,)) as po:
            response = po.get(f"/cases/{case_id}")
    b.assert_problem(response, 503, "key-unavailable")
    assert response.headers["retry-after"] == "30"
