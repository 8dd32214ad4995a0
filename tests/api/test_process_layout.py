"""`casetrail serve` as `make run` starts it: the API, and a projection worker beside it.

Read-your-writes holds across the two processes under load; the worker stops with the API,
and is started again if it dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.auth import issue_token
from application.settings import Settings
from tests.support import TEST_SECRET, serve_process

pytestmark = pytest.mark.timeout(180)

OPEN = {
    "person": {"name": "Layout Person", "date_of_birth": "1990-01-01"},
    "sentence_type": "community_order",
    "start_date": "2026-01-05",
    "expected_end_date": "2027-01-05",
    "pdu": "SHF",
    "team": "T1",
}


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    headers: dict[str, str]

    def worker_pids(self) -> list[int]:
        """The serve process's children that run `projections run`."""
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                if b"projections" in cmdline and b"run" in cmdline:
                    pids.append(int(child))
        return pids


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CASETRAIL_PROJECTIONS", "CASETRAIL_EMBEDDED_PROJECTIONS")
    }  # the default layout, as `make run` gives it
    env.update(
        CASETRAIL_DATABASE_URL=database_url,
        CASETRAIL_VAR_DIR=str(tmp_path),
        CASETRAIL_JWT_SECRET=TEST_SECRET,
        CASETRAIL_ENV="test",
        CASETRAIL_LOG_LEVEL="WARNING",
    )
    with serve_process(env) as (base, process):
        settings = Settings(env="test", database_url=database_url, jwt_secret=TEST_SECRET)
        token = issue_token(settings, sub="po1", roles=["practitioner"], teams=["T1"])
        yield Served(base, process, {"Authorization": f"Bearer {token}"})


def _open(http: httpx.Client, n: int) -> str:
    response = http.post("/cases", json={**OPEN, "crn": f"L{n:06d}"})
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


def _schedule(http: httpx.Client, case_id: str, key: str) -> httpx.Response:
    body = {
        "appointment_id": key,
        "type": "COAP",
        "starts_at": "2026-02-01T10:00:00Z",
        "national_standard": True,
    }
    return http.post(f"/cases/{case_id}/appointments", json=body)


def _wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_read_after_min_position_sees_the_write_under_load(served: Served) -> None:
    """Four clients keep posting commands while a fifth, after each of its own commands,
    reads the case list at the command's position: the row always shows that version."""
    assert len(served.worker_pids()) == 1  # the default layout: one worker beside the API
    stop = threading.Event()
    failures: list[str] = []
    loaded = [0]

    def load(n: int) -> None:
        with httpx.Client(base_url=served.base, headers=served.headers, timeout=30) as http:
            case_id = _open(http, 100 + n)
            i = 0
            while not stop.is_set():
                response = _schedule(http, case_id, f"load{n}-{i}")
                if response.status_code != 201:
                    failures.append(f"load {response.status_code}: {response.text}")
                    return
                loaded[0] += 1
                i += 1

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        with httpx.Client(base_url=served.base, headers=served.headers, timeout=30) as http:
            crn = "L000001"
            case_id = _open(http, 1)
            for i in range(30):
                written = _schedule(http, case_id, f"ryw-{i}")
                assert written.status_code == 201, written.text
                body = written.json()
                page = http.get("/cases", params={"crn": crn, "min_position": body["position"]})
                assert page.status_code == 200, page.text
                (row,) = page.json()["items"]
                assert row["version"] >= body["version"], (i, row, body)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not failures, failures[:3]
    assert loaded[0] > 30  # the reads ran while the others were writing


def test_the_worker_is_restarted_if_it_dies_and_stops_with_the_api(served: Served) -> None:
    (first,) = served.worker_pids()
    os.kill(first, signal.SIGKILL)
    _wait_for(lambda: (pids := served.worker_pids()) and pids[0] != first, 30, "a new worker")
    (second,) = served.worker_pids()
    with httpx.Client(base_url=served.base, headers=served.headers, timeout=30) as http:
        case_id = _open(http, 2)
        written = _schedule(http, case_id, "after-restart").json()
        page = http.get("/cases", params={"crn": "L000002", "min_position": written["position"]})
        assert page.status_code == 200, page.text
        assert page.json()["items"][0]["version"] == written["version"]
    served.process.terminate()
    served.process.wait(timeout=30)
    _wait_for(lambda: not Path(f"/proc/{second}").exists(), 15, "the worker to stop")


def test_a_worker_whose_parent_died_before_it_looked_exits_at_once(tmp_path: Path) -> None:
    """A worker started by an API that dies at that moment would otherwise see its new parent
    (init, or a subreaper) as the one to watch and outlive the API for good."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASETRAIL_")}
    env.update(
        CASETRAIL_DATABASE_URL=f"sqlite:///{tmp_path}/casetrail.db",
        CASETRAIL_VAR_DIR=str(tmp_path),
        CASETRAIL_ENV="test",
    )
    cli = str(Path(sys.executable).with_name("casetrail"))
    args = [cli, "projections", "run", "--with-parent", "--parent-pid", str(gone.pid)]
    worker = subprocess.run(args, env=env, capture_output=True, timeout=60, check=False)
    assert worker.returncode == 0, worker.stderr
    assert b"projection worker running" not in worker.stdout
