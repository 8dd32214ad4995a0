"""Commands and reads over real HTTP against a uvicorn subprocess, with same-run baselines."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from api.auth import issue_token
from application.settings import Settings
from application.store import event_store_env

SECRET = "bench-secret-bench-secret-bench-secret-0"
TEAM = "T1"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base_url: str
    process: subprocess.Popen[bytes]
    settings: Settings

    def token(self, sub: str, *roles: str) -> str:
        return issue_token(self.settings, sub=sub, roles=list(roles), teams=[TEAM])

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory (VmHWM), in MiB."""
        return peak_rss_mb(self.process.pid)


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MiB (0 once it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def serve(url: str, workdir: Path, **env: str) -> Iterator[Served]:
    """`casetrail serve` as a real process (its own interpreter, GIL and threadpool)."""
    port = _free_port()
    environment = {
        **os.environ,
        "CASETRAIL_DATABASE_URL": url,
        "CASETRAIL_VAR_DIR": str(workdir),
        "CASETRAIL_JWT_SECRET": SECRET,
        "CASETRAIL_PORT": str(port),
        "CASETRAIL_ENV": "test",
        "CASETRAIL_LOG_LEVEL": "WARNING",
        **env,
    }
    cli = Path(sys.executable).with_name("casetrail")
    process = subprocess.Popen(
        [str(cli), "serve"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "server did not start: "
                    + (process.stderr.read().decode(errors="replace") if process.stderr else "")
                )
            time.sleep(0.1)
        settings = Settings(env="test", database_url=url, var_dir=workdir, jwt_secret=SECRET)
        yield Served(base, process, settings)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


OPEN = {
    "crn": "X000001",
    "person": {"name": "Bench Person", "date_of_birth": "1990-01-01"},
    "sentence_type": "licence",
    "start_date": "2026-01-05",
    "expected_end_date": "2027-01-05",
    "pdu": "SHF",
    "team": TEAM,
    "occurred_at": "2026-01-05T09:00:00Z",
}


def open_cases(served: Served, count: int) -> list[str]:
    headers = {"Authorization": f"Bearer {served.token('po1', 'practitioner')}"}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=30) as client:
        return [client.post("/cases", json=OPEN).json()["case_id"] for _ in range(count)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    return {
        "throughput": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def commands(served: Served, clients: int, per_client: int) -> dict[str, float]:
    """``clients`` threads, each POSTing appointments to its own cases: no contention on a
    case, so the figure is the service's, not a race's."""
    cases = open_cases(served, clients * 2)
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    token = served.token("po1", "practitioner")

    def client(n: int) -> None:
        mine = cases[2 * n : 2 * n + 2]
        local: list[float] = []
        with httpx.Client(
            base_url=served.base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            barrier.wait()
            for i in range(per_client):
                body = {
                    "appointment_id": f"c{n}-{i}",
                    "type": "COAP",
                    "starts_at": "2026-02-01T10:00:00Z",
                    "national_standard": True,
                }
                started = time.perf_counter()
                response = http.post(f"/cases/{mine[i % 2]}/appointments", json=body)
                local.append(time.perf_counter() - started)
                if response.status_code != 201:
                    errors.append(response.status_code)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} commands failed: {sorted(set(errors))}")
    return summary(latencies, elapsed)


class _Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.n = 0

    @event("Incremented")
    def increment(self) -> None:
        self.n += 1


class _Bare(Application[UUID]):
    name = "bare"


def bare_loop(url: str, events: int, threads: int = 1, *, cached: bool = False) -> float:
    """The library alone: load, mutate, save one event per transaction; events/s. With
    ``cached``, the library's own aggregate cache (fast-forwarded, deep-copied) is on."""
    pool = str(max(threads, 1) + 1)
    env = {
        k: v
        for k, v in event_store_env(url, pool_size=int(pool)).items()
        if k != "APPLICATION_RECORDER_TOPIC"
    }
    if cached:
        env["AGGREGATE_CACHE_MAXSIZE"] = "500"
    app = _Bare(env=env)
    ids = []
    for _ in range(threads):
        counter = _Counter()
        app.save(counter)
        ids.append(counter.id)

    def work(aggregate_id: UUID, count: int) -> None:
        for _ in range(count):
            counter: _Counter = app.repository.get(aggregate_id)
            counter.increment()
            app.save(counter)

    workers = [threading.Thread(target=work, args=(i, events // threads)) for i in ids]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    app.close()
    return (events // threads) * threads / elapsed


def build_cases(served: Served, sizes: tuple[int, ...]) -> dict[int, str]:
    """A case of each size (in events), built through the API."""
    headers = {"Authorization": f"Bearer {served.token('po1', 'practitioner')}"}
    built: dict[int, str] = {}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as http:
        for size in sizes:
            case_id = http.post("/cases", json=OPEN).json()["case_id"]
            for i in range(size - 1):
                http.post(
                    f"/cases/{case_id}/appointments",
                    json={
                        "appointment_id": f"a{i}",
                        "type": "COAP",
                        "starts_at": "2026-02-01T10:00:00Z",
                        "national_standard": True,
                    },
                )
            built[size] = case_id
    return built


def case_reads(served: Served, cases: dict[int, str], reads: int = 200) -> dict[str, Any]:
    """GET /cases/{id} p50/p95 for each case (snapshots every 100 events)."""
    headers = {"Authorization": f"Bearer {served.token('po1', 'practitioner')}"}
    results: dict[str, Any] = {}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as http:
        for size, case_id in cases.items():
            http.get(f"/cases/{case_id}")  # warm the connection (and the cache, if on)
            latencies = []
            for _ in range(reads):
                started = time.perf_counter()
                response = http.get(f"/cases/{case_id}")
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200
            results[str(size)] = {
                "p50_ms": percentile(latencies, 50) * 1000,
                "p95_ms": percentile(latencies, 95) * 1000,
            }
    return results


def query_latency(served: Served, path: str, token: str, reads: int = 100) -> dict[str, float]:
    with httpx.Client(
        base_url=served.base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        first = http.get(path)
        if first.status_code != 200:
            return {"status": first.status_code}
        latencies = []
        for _ in range(reads):
            started = time.perf_counter()
            http.get(path)
            latencies.append(time.perf_counter() - started)
    return {
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "mean_ms": statistics.mean(latencies) * 1000,
    }
