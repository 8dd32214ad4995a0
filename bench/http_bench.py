"""Commands and reads over real HTTP against a uvicorn subprocess, with same-run baselines."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
from bench import workload as wl
from tests.api import builders
from tests.support import serve_process

SECRET = "bench-secret-bench-secret-bench-secret-0"
TEAM = "T1"


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
    environment = {
        **os.environ,
        "CASETRAIL_DATABASE_URL": url,
        "CASETRAIL_VAR_DIR": str(workdir),
        "CASETRAIL_JWT_SECRET": SECRET,
        "CASETRAIL_ENV": "test",
        "CASETRAIL_LOG_LEVEL": "WARNING",
        **env,
    }
    with serve_process(environment) as (base, process):
        settings = Settings(env="test", database_url=url, var_dir=workdir, jwt_secret=SECRET)
        yield Served(base, process, settings)


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


class BenchError(RuntimeError):
    """A command answered with anything but 2xx: the bench stops and shows it."""


def _post(http: httpx.Client, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    response = http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if not 200 <= response.status_code < 300:
        raise BenchError(f"POST {path} -> {response.status_code}: {response.text}\n{body}")
    result: dict[str, Any] = response.json()
    return result


def set_up_cases(
    http: httpx.Client, served: Served, client: int, rng: random.Random, count: int
) -> list[wl.CaseModel]:
    """Open, allocate (as the SPO) and induct ``count`` cases of this client's, untimed."""
    mix = wl.demo_mix()
    po, spo = served.token(f"po{client}", "practitioner"), served.token("spo1", "spo")
    cases = []
    for sentence in wl.sentences(mix, rng, count):
        crn = f"B{rng.randrange(10**6):06d}"
        case_id = _post(http, "/cases", wl.open_body(sentence, crn), po)["case_id"]
        path = f"/cases/{case_id}"
        allocation = builders.allocation(f"po{client}", occurred_at=None)
        _post(http, f"{path}/allocations", allocation, spo)
        _post(http, f"{path}/inductions", builders.induction(occurred_at=None), po)
        cases.append(wl.CaseModel(case_id, sentence))
    return cases


def projection_lag(http: httpx.Client) -> tuple[int, float]:
    """The largest lag over the projections, from GET /ready: events, seconds."""
    response = http.get("/ready")
    projections = response.json().get("projections", {}).values()
    events = max((int(p["lag_events"]) for p in projections), default=0)
    seconds = max((float(p["lag_seconds"]) for p in projections), default=0.0)
    return events, seconds


def settle(served: Served, timeout: float = 120.0) -> float:
    """Wait until every projection has caught up; seconds waited."""
    started = time.perf_counter()
    with httpx.Client(base_url=served.base_url, timeout=30) as http:
        while projection_lag(http)[0] > 0:
            if time.perf_counter() - started > timeout:
                raise BenchError(f"projections still behind after {timeout:.0f} s")
            time.sleep(0.05)
    return time.perf_counter() - started


class LagSampler(threading.Thread):
    """GET /ready every ``interval`` seconds while the clients run: (t, events, seconds)."""

    def __init__(self, served: Served, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.served, self.interval = served, interval
        self.samples: list[tuple[float, int, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        with httpx.Client(base_url=self.served.base_url, timeout=30) as http:
            while not self.done.wait(self.interval):
                events, seconds = projection_lag(http)
                self.samples.append((time.perf_counter() - started, events, seconds))


def lag_summary(
    samples: list[tuple[float, int, float]], end: tuple[int, float], drain_s: float
) -> dict[str, Any]:
    """The lag as the last command returned, its maximum over the run (the samples and that
    last reading), and whether it grew: the last third's maximum lag_seconds above 1.5 x the
    first third's plus 0.25 s."""
    third = max(1, len(samples) // 3)
    first = max((s for _, _, s in samples[:third]), default=0.0)
    last = max((s for _, _, s in samples[-third:]), default=0.0)
    return {
        "end_lag_events": end[0],
        "end_lag_seconds": end[1],
        "max_lag_events": max([end[0], *(e for _, e, _ in samples)]),
        "max_lag_seconds": max([end[1], *(s for _, _, s in samples)]),
        "first_third_max_lag_seconds": first,
        "last_third_max_lag_seconds": last,
        "growing": last > 1.5 * first + 0.25,
        "samples": len(samples),
        "drain_s": drain_s,
    }


def cases_per_client(clients: int, seconds: float) -> int:
    """Enough cases that each gets about 50 commands (the demo's ~48 events a case) at the
    ~300 commands/s this bench has seen; at least 4, at most 40."""
    expected = seconds * 300 / clients
    return max(4, min(40, round(expected / 50)))


def commands(
    served: Served,
    clients: int,
    seconds: float,
    *,
    seed: int = 1,
    run: int = 0,
    lag: bool = False,
) -> dict[str, Any]:
    """``clients`` threads, each sending the demo's command mix (bench/workload.py) to its own
    cases for ``seconds``: no contention on a case, so the figure is the service's, not a
    lost race's. Cases are opened, allocated and inducted first, outside the timed part. With
    ``lag``, the projections' lag is sampled from GET /ready every 0.5 s, and read again as
    the last command returns."""
    mix = wl.demo_mix()
    count = cases_per_client(clients, seconds)
    failures: list[BaseException] = []
    latencies: list[float] = []
    sent: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    spo = served.token("spo1", "spo")

    def client(n: int) -> None:
        rng = random.Random(f"{seed}/{run}/{clients}/{n}")
        local: list[float] = []
        po = served.token(f"po{n}", "practitioner")
        with httpx.Client(base_url=served.base_url, timeout=60) as http:
            try:
                workload = wl.Workload(mix, rng, set_up_cases(http, served, n, rng, count))
            except BaseException as exc:
                failures.append(exc)
                barrier.abort()
                return
            try:
                barrier.wait()  # every client set up, and the projections caught up
                barrier.wait()  # go
            except threading.BrokenBarrierError:
                return
            deadline = time.perf_counter() + seconds
            try:
                while time.perf_counter() < deadline and not failures:
                    command = workload.next()
                    started = time.perf_counter()
                    result = _post(http, command.path, command.body, spo if command.spo else po)
                    local.append(time.perf_counter() - started)
                    if command.then is not None:
                        command.then(result)
            except BaseException as exc:
                failures.append(exc)
        with lock:
            latencies.extend(local)
            sent.update(workload.sent)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        barrier.wait()
    if not failures and lag:
        settle(served)
    sampler = LagSampler(served) if lag and not failures else None
    with suppress(threading.BrokenBarrierError):
        barrier.wait()
    if sampler is not None:
        sampler.start()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    end: tuple[int, float] = (0, 0.0)
    if sampler is not None:
        with httpx.Client(base_url=served.base_url, timeout=30) as http:
            end = projection_lag(http)
        sampler.done.set()
        sampler.join()
    if failures:
        raise BenchError(f"{len(failures)} client(s) failed; first: {failures[0]}")
    figures: dict[str, Any] = {
        **summary(latencies, elapsed),
        "commands": len(latencies),
        "seconds": seconds,
        "cases": clients * count,
    }
    if sampler is not None:
        figures["lag"] = lag_summary(sampler.samples, end, settle(served))
    figures["sent"] = dict(sent)
    return figures


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


def query_latency(
    served: Served, path: str, token: str, reads: int = 100, *, first_timeout: float = 900
) -> dict[str, float]:
    """p50/p95/mean of ``reads`` reads after a first one, timed apart (``first_ms``: with
    rollups and caches still empty). A first read that outlasts ``first_timeout`` seconds is
    reported as such instead of ending the run."""
    with httpx.Client(
        base_url=served.base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        started = time.perf_counter()
        try:
            first = http.get(path, timeout=first_timeout)
        except httpx.TimeoutException:
            return {"first_timeout_s": first_timeout}
        first_ms = (time.perf_counter() - started) * 1000  # rollups and caches still empty
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
        "first_ms": first_ms,
    }
